//! byte_test, byte_jump, byte_extract and isdataat.

use crate::content::{ByteVar, Value};
use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::number::{parse_i64, parse_u64};
use crate::text;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Endian {
    #[default]
    Big,
    Little,
    /// DCE/RPC: endianness from the DCE header.
    Dce,
}

/// `string, <type>`: the bytes are an ASCII number in this base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumString {
    Hex,
    Dec,
    Oct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    /// `&`: bitwise and is non-zero.
    And,
    /// `^`: bitwise xor is non-zero.
    Xor,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteTest {
    pub nbytes: u8,
    pub op: ByteOp,
    pub negated: bool,
    pub value: Value<u64>,
    pub offset: Value<i32>,
    pub relative: bool,
    pub endian: Endian,
    pub string: Option<NumString>,
    pub bitmask: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JumpFrom {
    /// From the end of the converted bytes (Snort's default).
    #[default]
    Current,
    /// `from_beginning`
    Beginning,
    /// `from_end`
    End,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteJump {
    pub nbytes: u8,
    pub offset: Value<i32>,
    pub relative: bool,
    pub multiplier: u32,
    pub endian: Endian,
    pub string: Option<NumString>,
    /// `align`: round the jump up to a multiple of 4.
    pub align: bool,
    pub from: JumpFrom,
    pub post_offset: i32,
    pub bitmask: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteExtract {
    pub nbytes: u8,
    pub offset: i32,
    /// The variable this defines.
    pub var: ByteVar,
    pub relative: bool,
    pub multiplier: u32,
    pub endian: Endian,
    pub string: Option<NumString>,
    /// `align 2` or `align 4`.
    pub align: Option<u8>,
    pub bitmask: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IsDataAt {
    pub negated: bool,
    pub position: Value<u16>,
    pub relative: bool,
    pub rawbytes: bool,
}

/// Looks up byte_extract variables defined earlier in the rule.
pub(crate) trait VarLookup {
    fn var(&self, name: &str) -> Option<ByteVar>;
}

fn is_var_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn value_or_var<T>(s: &str, vars: &dyn VarLookup, num: impl Fn(&str) -> KwResult<T>) -> KwResult<Value<T>> {
    let s = s.trim();
    if is_var_name(s) {
        return vars.var(s).map(Value::Var).ok_or_else(|| invalid(format!("unknown byte_extract variable {s:?}")));
    }
    num(s).map(Value::Lit)
}

fn offset_i32(s: &str) -> KwResult<i32> {
    let v = parse_i64(s)?;
    if !(-65535..=65535).contains(&v) {
        return Err(invalid(format!("offset {v} out of range")));
    }
    i32::try_from(v).map_err(|_| invalid("offset out of range"))
}

fn nbytes(s: &str, string: bool, max_string: u8) -> KwResult<u8> {
    let n = crate::number::parse_dec::<u8>(s)?;
    let max = if string { max_string } else { 8 };
    // Suricata accepts 0 bytes in string mode (ET has such rules).
    if (n == 0 && !string) || n > max {
        return Err(invalid(format!("number of bytes {n} out of range 1..={max}")));
    }
    Ok(n)
}

fn num_string(s: &str) -> KwResult<NumString> {
    match s {
        "hex" => Ok(NumString::Hex),
        "dec" => Ok(NumString::Dec),
        "oct" => Ok(NumString::Oct),
        other => Err(invalid(format!("bad string type {other:?}"))),
    }
}

fn bitmask(s: &str) -> KwResult<u32> {
    let v = parse_u64(s)?;
    u32::try_from(v).ok().filter(|&m| m != 0).ok_or_else(|| invalid("bitmask must be 1..=0xffffffff"))
}

/// Options shared by the byte_* keywords, parsed in any order.
#[derive(Default)]
struct Common {
    relative: bool,
    endian: Option<Endian>,
    string: Option<NumString>,
    bitmask: Option<u32>,
}

/// Tries a common option; `Ok(false)` when `opt` is not one.
fn common(opt: &str, rest: &mut std::iter::Peekable<impl Iterator<Item = String>>, c: &mut Common) -> KwResult<bool> {
    let set_endian = |c: &mut Common, e: Endian| -> KwResult<bool> {
        if c.endian.is_some() {
            return Err(RuleErrorKind::Conflict("endianness given twice"));
        }
        c.endian = Some(e);
        Ok(true)
    };
    match opt {
        "relative" => {
            c.relative = true;
            Ok(true)
        }
        "big" => set_endian(c, Endian::Big),
        "little" => set_endian(c, Endian::Little),
        "dce" => set_endian(c, Endian::Dce),
        "string" => {
            let ty = match rest.peek().map(String::as_str) {
                Some("hex" | "dec" | "oct") => rest.next().unwrap_or_default(),
                _ => "dec".to_string(),
            };
            c.string = Some(num_string(&ty)?);
            Ok(true)
        }
        _ => {
            if let Some(m) = opt.strip_prefix("bitmask") {
                c.bitmask = Some(bitmask(m)?);
                return Ok(true);
            }
            Ok(false)
        }
    }
}

/// Splits parameters; `string hex` written with a space becomes two items.
fn split(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in text::params(value) {
        if let Some(rest) = p.strip_prefix("string") {
            if !rest.is_empty() && rest.starts_with(char::is_whitespace) {
                out.push("string".to_string());
                out.push(rest.trim().to_string());
                continue;
            }
        }
        out.push(p.to_string());
    }
    out
}

pub(crate) fn parse_byte_test(value: &str, vars: &dyn VarLookup) -> KwResult<ByteTest> {
    let parts = split(value);
    let mut it = parts.into_iter().peekable();
    let n = it.next().ok_or(RuleErrorKind::MissingValue)?;
    let op_s = it.next().ok_or_else(|| invalid("byte_test needs an operator"))?;
    let val_s = it.next().ok_or_else(|| invalid("byte_test needs a value"))?;
    let off_s = it.next().ok_or_else(|| invalid("byte_test needs an offset"))?;
    let (negated, op_s) = match op_s.strip_prefix('!') {
        Some(r) => (true, r.trim().to_string()),
        None => (false, op_s),
    };
    let op = match op_s.as_str() {
        "<" => ByteOp::Lt,
        ">" => ByteOp::Gt,
        "=" => ByteOp::Eq,
        "<=" => ByteOp::Le,
        ">=" => ByteOp::Ge,
        "&" => ByteOp::And,
        "^" => ByteOp::Xor,
        // `!=` is written as `!` + `=`; a bare `!` means "not equal".
        "" if negated => ByteOp::Eq,
        other => return Err(invalid(format!("bad byte_test operator {other:?}"))),
    };
    let mut c = Common::default();
    while let Some(opt) = it.next() {
        if !common(&opt, &mut it, &mut c)? {
            return Err(invalid(format!("unknown byte_test option {opt:?}")));
        }
    }
    let nbytes = nbytes(&n, c.string.is_some(), 23)?;
    let value = value_or_var(&val_s, vars, parse_u64)?;
    let offset = value_or_var(&off_s, vars, offset_i32)?;
    Ok(ByteTest {
        nbytes,
        op,
        negated,
        value,
        offset,
        relative: c.relative,
        endian: c.endian.unwrap_or_default(),
        string: c.string,
        bitmask: c.bitmask,
    })
}

pub(crate) fn parse_byte_jump(value: &str, vars: &dyn VarLookup) -> KwResult<ByteJump> {
    let parts = split(value);
    let mut it = parts.into_iter().peekable();
    let n = it.next().ok_or(RuleErrorKind::MissingValue)?;
    let off_s = it.next().ok_or_else(|| invalid("byte_jump needs an offset"))?;
    let mut c = Common::default();
    let mut multiplier = 1u32;
    let mut align = false;
    let mut from = JumpFrom::Current;
    let mut post_offset = 0i32;
    while let Some(opt) = it.next() {
        if common(&opt, &mut it, &mut c)? {
            continue;
        }
        if opt == "align" {
            align = true;
        } else if opt == "from_beginning" {
            from = JumpFrom::Beginning;
        } else if opt == "from_end" {
            from = JumpFrom::End;
        } else if let Some(m) = opt.strip_prefix("multiplier") {
            multiplier = multiplier_value(m)?;
        } else if let Some(p) = opt.strip_prefix("post_offset") {
            post_offset = offset_i32(p)?;
        } else {
            return Err(invalid(format!("unknown byte_jump option {opt:?}")));
        }
    }
    Ok(ByteJump {
        nbytes: nbytes(&n, c.string.is_some(), 32)?,
        offset: value_or_var(&off_s, vars, offset_i32)?,
        relative: c.relative,
        multiplier,
        endian: c.endian.unwrap_or_default(),
        string: c.string,
        align,
        from,
        post_offset,
        bitmask: c.bitmask,
    })
}

fn multiplier_value(s: &str) -> KwResult<u32> {
    let v = crate::number::parse_dec::<u32>(s)?;
    if v == 0 || v > 65535 {
        return Err(invalid("multiplier must be 1..=65535"));
    }
    Ok(v)
}

/// Parses byte_extract; `define` registers the variable name and returns its index.
pub(crate) fn parse_byte_extract(
    value: &str,
    define: &mut dyn FnMut(&str) -> KwResult<ByteVar>,
) -> KwResult<ByteExtract> {
    let parts = split(value);
    let mut it = parts.into_iter().peekable();
    let n = it.next().ok_or(RuleErrorKind::MissingValue)?;
    let off_s = it.next().ok_or_else(|| invalid("byte_extract needs an offset"))?;
    let name = it.next().ok_or_else(|| invalid("byte_extract needs a variable name"))?;
    if !is_var_name(&name) {
        return Err(invalid(format!("bad variable name {name:?}")));
    }
    let mut c = Common::default();
    let mut multiplier = 1u32;
    let mut align = None;
    while let Some(opt) = it.next() {
        if common(&opt, &mut it, &mut c)? {
            continue;
        }
        if let Some(m) = opt.strip_prefix("multiplier") {
            multiplier = multiplier_value(m)?;
        } else if let Some(a) = opt.strip_prefix("align") {
            let a = crate::number::parse_dec::<u8>(a)?;
            if a != 2 && a != 4 {
                return Err(invalid("align must be 2 or 4"));
            }
            align = Some(a);
        } else {
            return Err(invalid(format!("unknown byte_extract option {opt:?}")));
        }
    }
    let nbytes = nbytes(&n, c.string.is_some(), 23)?;
    let offset = offset_i32(&off_s)?;
    let var = define(&name)?;
    Ok(ByteExtract {
        nbytes,
        offset,
        var,
        relative: c.relative,
        multiplier,
        endian: c.endian.unwrap_or_default(),
        string: c.string,
        align,
        bitmask: c.bitmask,
    })
}

pub(crate) fn parse_isdataat(value: &str, vars: &dyn VarLookup) -> KwResult<IsDataAt> {
    let mut it = text::params(value);
    let first = it.next().unwrap_or("");
    let (negated, pos) = match first.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, first),
    };
    let position = value_or_var(pos, vars, crate::number::parse_dec::<u16>)?;
    let mut relative = false;
    let mut rawbytes = false;
    for opt in it {
        match opt {
            "relative" => relative = true,
            // Suricata 7's parser only takes rawbytes after relative.
            "rawbytes" if !relative => return Err(invalid("rawbytes must follow relative")),
            "rawbytes" => rawbytes = true,
            other => return Err(invalid(format!("unknown isdataat option {other:?}"))),
        }
    }
    Ok(IsDataAt { negated, position, relative, rawbytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars(Vec<&'static str>);
    impl VarLookup for Vars {
        fn var(&self, name: &str) -> Option<ByteVar> {
            self.0.iter().position(|v| *v == name).and_then(|i| u8::try_from(i).ok()).map(ByteVar)
        }
    }

    #[test]
    fn byte_test_forms() {
        let v = Vars(vec!["len"]);
        let t = parse_byte_test("1,&,0x80,0", &v).unwrap();
        assert_eq!(
            (t.nbytes, t.op, t.negated, t.value, t.offset),
            (1, ByteOp::And, false, Value::Lit(0x80), Value::Lit(0))
        );
        let t = parse_byte_test("4, !=, len, -4, relative, little, string, hex, bitmask 0xff00", &v).unwrap();
        assert_eq!((t.op, t.negated), (ByteOp::Eq, true));
        assert_eq!(t.value, Value::Var(ByteVar(0)));
        assert_eq!(t.offset, Value::Lit(-4));
        assert!(t.relative);
        assert_eq!(t.endian, Endian::Little);
        assert_eq!(t.string, Some(NumString::Hex));
        assert_eq!(t.bitmask, Some(0xff00));
        let t = parse_byte_test("2,>,10,0,string dec", &v).unwrap();
        assert_eq!(t.string, Some(NumString::Dec));
        assert!(parse_byte_test("9,=,1,0", &v).is_err(), "more than 8 bytes without string");
        assert!(parse_byte_test("1,~,1,0", &v).is_err());
        assert!(parse_byte_test("1,=,nope,0", &v).is_err(), "undefined variable");
        assert!(parse_byte_test("1,=,1", &v).is_err());
        assert!(parse_byte_test("1,=,1,0,big,little", &v).is_err());
    }

    #[test]
    fn byte_jump_forms() {
        let v = Vars(vec![]);
        let j = parse_byte_jump("4,12,relative,little,multiplier 2,align,from_beginning,post_offset -3", &v).unwrap();
        assert_eq!(
            (j.nbytes, j.offset, j.multiplier, j.align, j.from, j.post_offset),
            (4, Value::Lit(12), 2, true, JumpFrom::Beginning, -3)
        );
        assert!(parse_byte_jump("4", &v).is_err());
        assert!(parse_byte_jump("4,0,multiplier 0", &v).is_err());
    }

    #[test]
    fn byte_extract_defines_variable() {
        let mut names: Vec<String> = Vec::new();
        let mut def = |n: &str| -> KwResult<ByteVar> {
            names.push(n.to_string());
            Ok(ByteVar(u8::try_from(names.len() - 1).unwrap()))
        };
        let e = parse_byte_extract("2,0,str_len,relative,little,align 4", &mut def).unwrap();
        assert_eq!((e.nbytes, e.offset, e.var, e.align), (2, 0, ByteVar(0), Some(4)));
        assert!(parse_byte_extract("2,0,1bad", &mut def).is_err());
        assert!(parse_byte_extract("2,0,x,align 3", &mut def).is_err());
    }

    #[test]
    fn isdataat_forms() {
        let v = Vars(vec!["off"]);
        let i = parse_isdataat("!1,relative", &v).unwrap();
        assert_eq!((i.negated, i.position, i.relative), (true, Value::Lit(1), true));
        assert_eq!(parse_isdataat("off", &v).unwrap().position, Value::Var(ByteVar(0)));
        assert!(parse_isdataat("1,sideways", &v).is_err());
    }
}
