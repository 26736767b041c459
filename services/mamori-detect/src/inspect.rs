//! Verifying one list of a signature (its contents, pcres, byte_* and size
//! checks on one buffer) the way Suricata's content inspection does: keywords
//! in rule order, relative ones anchored on the end of the previous match,
//! and backtracking to the next occurrence of a content or pcre when what
//! follows it relatively fails.

use mamori_rules::{
    Anchor, ByteExtract, ByteJump, ByteOp, ByteTest, Content, Endian, IsDataAt, JumpFrom, NumCmp, NumString, Value,
};

use crate::regex::LazyRegex;
use crate::search::Needle;

/// byte_extract variables a rule may define.
pub(crate) const MAX_VARS: usize = 16;
/// Steps one list inspection may take before giving up (Suricata's
/// inspection-recursion-limit), so hostile data cannot make backtracking
/// explode.
const BUDGET: u32 = 3000;

pub(crate) struct ContentM {
    pub c: Content,
    pub needle: Needle,
}

pub(crate) struct PcreM {
    pub re: LazyRegex,
    pub negated: bool,
    pub relative: bool,
}

/// A compiled inspection keyword.
pub(crate) enum Item {
    Content(Box<ContentM>),
    Pcre(Box<PcreM>),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    IsDataAt(IsDataAt),
    Bsize(NumCmp<u64>),
    Urilen(NumCmp<u16>),
    /// A keyword we cannot evaluate (asn1, base64 data): the list never matches.
    Never,
}

impl Item {
    /// Anchored on the previous match of the list.
    pub fn is_relative(&self) -> bool {
        match self {
            Item::Content(c) => c.c.anchor.is_relative(),
            Item::Pcre(p) => p.relative,
            Item::ByteTest(b) => b.relative,
            Item::ByteJump(b) => b.relative,
            Item::ByteExtract(b) => b.relative,
            Item::IsDataAt(i) => i.relative,
            _ => false,
        }
    }
}

/// One buffer to inspect. Absolute positions (offset, depth, startswith,
/// absolute isdataat and byte_*) count from `anchor`: 0 for packet and
/// transaction buffers, the start of the new data for a stream window that
/// keeps some earlier bytes in front.
#[derive(Clone, Copy)]
pub(crate) struct Buf<'a> {
    pub data: &'a [u8],
    pub anchor: usize,
}

/// Per-inspection scratch: byte_extract values and the step budget.
pub(crate) struct Ctx {
    pub vars: [u64; MAX_VARS],
    budget: u32,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx { vars: [0; MAX_VARS], budget: BUDGET }
    }
}

impl Ctx {
    pub fn reset_budget(&mut self) {
        self.budget = BUDGET;
    }
}

/// Does `items` match `buf`?
pub(crate) fn inspect(items: &[Item], buf: Buf<'_>, ctx: &mut Ctx) -> bool {
    ctx.reset_budget();
    run(items, 0, buf, buf.anchor, ctx)
}

fn var(v: u8, ctx: &Ctx) -> i64 {
    ctx.vars.get(usize::from(v)).map_or(0, |x| i64::try_from(*x).unwrap_or(i64::MAX))
}

fn val_u16(v: &Value<u16>, ctx: &Ctx) -> i64 {
    match v {
        Value::Lit(n) => i64::from(*n),
        Value::Var(b) => var(b.0, ctx),
    }
}

fn val_i32(v: &Value<i32>, ctx: &Ctx) -> i64 {
    match v {
        Value::Lit(n) => i64::from(*n),
        Value::Var(b) => var(b.0, ctx),
    }
}

fn val_u64(v: &Value<u64>, ctx: &Ctx) -> u64 {
    match v {
        Value::Lit(n) => *n,
        Value::Var(b) => ctx.vars.get(usize::from(b.0)).copied().unwrap_or(0),
    }
}

fn clamp(v: i64, len: usize) -> usize {
    if v <= 0 {
        0
    } else {
        usize::try_from(v).unwrap_or(usize::MAX).min(len)
    }
}

fn next_relative(items: &[Item], idx: usize) -> bool {
    items.get(idx + 1).is_some_and(Item::is_relative)
}

fn run(items: &[Item], idx: usize, buf: Buf<'_>, prev: usize, ctx: &mut Ctx) -> bool {
    let Some(item) = items.get(idx) else { return true };
    if ctx.budget == 0 {
        return false;
    }
    ctx.budget -= 1;
    let len = buf.data.len();
    match item {
        Item::Content(cm) => content(items, idx, cm, buf, prev, ctx),
        Item::Pcre(p) => {
            let start = if p.relative { prev.min(len) } else { buf.anchor.min(len) };
            let hay = buf.data.get(start..).unwrap_or_default();
            if p.negated {
                return p.re.find_at(hay, 0).is_none() && run(items, idx + 1, buf, prev, ctx);
            }
            let mut from = 0;
            while let Some((s, e)) = p.re.find_at(hay, from) {
                if run(items, idx + 1, buf, start + e, ctx) {
                    return true;
                }
                if !next_relative(items, idx) || ctx.budget == 0 {
                    return false;
                }
                ctx.budget = ctx.budget.saturating_sub(1);
                from = s + 1;
                if from > hay.len() {
                    return false;
                }
            }
            false
        }
        Item::IsDataAt(i) => {
            let pos = val_u16(&i.position, ctx);
            let present = if i.relative {
                i64::try_from(prev).unwrap_or(i64::MAX).saturating_add(pos) <= len as i64
            } else {
                (buf.anchor as i64).saturating_add(pos) < len as i64
            };
            present != i.negated && run(items, idx + 1, buf, prev, ctx)
        }
        Item::Bsize(cmp) => cmp.matches(len as u64) && run(items, idx + 1, buf, prev, ctx),
        Item::Urilen(cmp) => u16::try_from(len).is_ok_and(|l| cmp.matches(l)) && run(items, idx + 1, buf, prev, ctx),
        Item::ByteTest(bt) => byte_test(bt, buf, prev, ctx) && run(items, idx + 1, buf, prev, ctx),
        Item::ByteJump(bj) => match byte_jump(bj, buf, prev, ctx) {
            Some(p) => run(items, idx + 1, buf, p, ctx),
            None => false,
        },
        Item::ByteExtract(be) => match byte_extract(be, buf, prev, ctx) {
            Some(p) => run(items, idx + 1, buf, p, ctx),
            None => false,
        },
        Item::Never => false,
    }
}

fn content(items: &[Item], idx: usize, cm: &ContentM, buf: Buf<'_>, prev: usize, ctx: &mut Ctx) -> bool {
    let c = &cm.c;
    let len = buf.data.len();
    let plen = cm.needle.len();
    let base = buf.anchor as i64;
    // The region [start, end) the whole match must lie in.
    let (start, end) = match &c.anchor {
        Anchor::Anywhere => (0, len),
        Anchor::StartsWith => (clamp(base, len), clamp(base + plen as i64, len)),
        Anchor::Absolute { offset, depth } => {
            let off = offset.as_ref().map_or(0, |v| val_u16(v, ctx));
            let start = base + off;
            let end = depth.as_ref().map_or(len as i64, |d| start + val_u16(d, ctx));
            (clamp(start, len), clamp(end, len))
        }
        Anchor::Relative { distance, within } => {
            let prev = prev as i64;
            let dist = distance.as_ref().map_or(0, |d| val_i32(d, ctx));
            let start = prev + dist;
            let end = within.as_ref().map_or(len as i64, |w| prev + dist + val_i32(w, ctx));
            (clamp(start, len), clamp(end, len))
        }
    };
    if c.endswith {
        // Only a match ending at the buffer's end counts.
        let pos = len.checked_sub(plen);
        let hit = pos.is_some_and(|p| p >= start && p + plen <= end && cm.needle.at(buf.data, p));
        if c.negated {
            return !hit && run(items, idx + 1, buf, prev, ctx);
        }
        return hit && run(items, idx + 1, buf, len, ctx);
    }
    if c.negated {
        return cm.needle.find(buf.data, start, end).is_none() && run(items, idx + 1, buf, prev, ctx);
    }
    let mut from = start;
    while let Some(p) = cm.needle.find(buf.data, from, end) {
        if run(items, idx + 1, buf, p + plen, ctx) {
            return true;
        }
        // Only a relative successor can succeed with a later occurrence.
        if !next_relative(items, idx) || ctx.budget == 0 {
            return false;
        }
        ctx.budget = ctx.budget.saturating_sub(1);
        from = p + 1;
    }
    false
}

/// Read `n` bytes at `pos` as a number, binary or as text.
fn read_num(data: &[u8], pos: i64, n: u8, endian: Endian, string: Option<NumString>) -> Option<u64> {
    let pos = usize::try_from(pos).ok()?;
    let bytes = data.get(pos..pos.checked_add(usize::from(n))?)?;
    match string {
        Some(base) => {
            let s = std::str::from_utf8(bytes).ok()?;
            let radix = match base {
                NumString::Hex => 16,
                NumString::Dec => 10,
                NumString::Oct => 8,
            };
            // Leading digits only, as strtoull does.
            let digits: &str = {
                let end = s.char_indices().find(|(_, ch)| !ch.is_digit(radix)).map_or(s.len(), |(i, _)| i);
                s.get(..end)?
            };
            if digits.is_empty() {
                return None;
            }
            u64::from_str_radix(digits, radix).ok()
        }
        None => {
            if n == 0 || n > 8 {
                return None;
            }
            let mut v: u64 = 0;
            match endian {
                Endian::Big => {
                    for &b in bytes {
                        v = v << 8 | u64::from(b);
                    }
                }
                Endian::Little | Endian::Dce => {
                    for &b in bytes.iter().rev() {
                        v = v << 8 | u64::from(b);
                    }
                }
            }
            Some(v)
        }
    }
}

fn masked(v: u64, mask: Option<u32>) -> u64 {
    match mask {
        Some(m) if m != 0 => (v & u64::from(m)) >> m.trailing_zeros(),
        _ => v,
    }
}

fn position(relative: bool, prev: usize, anchor: usize, offset: i64) -> i64 {
    let base = if relative { prev } else { anchor };
    i64::try_from(base).unwrap_or(i64::MAX).saturating_add(offset)
}

fn byte_test(bt: &ByteTest, buf: Buf<'_>, prev: usize, ctx: &Ctx) -> bool {
    let pos = position(bt.relative, prev, buf.anchor, val_i32(&bt.offset, ctx));
    let Some(v) = read_num(buf.data, pos, bt.nbytes, bt.endian, bt.string) else { return false };
    let v = masked(v, bt.bitmask);
    let want = val_u64(&bt.value, ctx);
    let hit = match bt.op {
        ByteOp::Lt => v < want,
        ByteOp::Gt => v > want,
        ByteOp::Eq => v == want,
        ByteOp::Le => v <= want,
        ByteOp::Ge => v >= want,
        ByteOp::And => v & want != 0,
        ByteOp::Xor => v ^ want != 0,
    };
    hit != bt.negated
}

fn byte_jump(bj: &ByteJump, buf: Buf<'_>, prev: usize, ctx: &Ctx) -> Option<usize> {
    let pos = position(bj.relative, prev, buf.anchor, val_i32(&bj.offset, ctx));
    let v = masked(read_num(buf.data, pos, bj.nbytes, bj.endian, bj.string)?, bj.bitmask);
    let mut v = i64::try_from(v).ok()?.checked_mul(i64::from(bj.multiplier.max(1)))?;
    if bj.align && v % 4 != 0 {
        v += 4 - v % 4;
    }
    let target = match bj.from {
        JumpFrom::Beginning => (buf.anchor as i64).checked_add(v)?,
        JumpFrom::End => (buf.data.len() as i64).checked_add(v)?,
        JumpFrom::Current => pos.checked_add(i64::from(bj.nbytes))?.checked_add(v)?,
    };
    let target = target.checked_add(i64::from(bj.post_offset))?;
    if target < 0 || target > buf.data.len() as i64 {
        return None;
    }
    usize::try_from(target).ok()
}

fn byte_extract(be: &ByteExtract, buf: Buf<'_>, prev: usize, ctx: &mut Ctx) -> Option<usize> {
    let pos = position(be.relative, prev, buf.anchor, i64::from(be.offset));
    let v = masked(read_num(buf.data, pos, be.nbytes, be.endian, be.string)?, be.bitmask);
    let mut v = v.checked_mul(u64::from(be.multiplier.max(1)))?;
    if let Some(a) = be.align.filter(|a| *a > 1) {
        let a = u64::from(a);
        if v % a != 0 {
            v = v.checked_add(a - v % a)?;
        }
    }
    *ctx.vars.get_mut(usize::from(be.var.0))? = v;
    usize::try_from(pos.checked_add(i64::from(be.nbytes))?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_rules::{ByteVar, Content};

    fn content(p: &[u8], anchor: Anchor) -> Item {
        let c = Content {
            pattern: p.to_vec(),
            negated: false,
            nocase: false,
            anchor,
            endswith: false,
            fast_pattern: None,
            rawbytes: false,
        };
        Item::Content(Box::new(ContentM { needle: Needle::new(p, false), c }))
    }

    fn with(item: Item, f: impl FnOnce(&mut Content)) -> Item {
        match item {
            Item::Content(mut cm) => {
                f(&mut cm.c);
                cm.needle = Needle::new(&cm.c.pattern, cm.c.nocase);
                Item::Content(cm)
            }
            other => other,
        }
    }

    fn check(items: &[Item], data: &[u8]) -> bool {
        inspect(items, Buf { data, anchor: 0 }, &mut Ctx::default())
    }

    fn rel(d: Option<i32>, w: Option<i32>) -> Anchor {
        Anchor::Relative { distance: d.map(Value::Lit), within: w.map(Value::Lit) }
    }

    #[test]
    fn offset_depth_and_startswith() {
        let abs =
            |o: Option<u16>, d: Option<u16>| Anchor::Absolute { offset: o.map(Value::Lit), depth: d.map(Value::Lit) };
        assert!(check(&[content(b"GET", abs(None, Some(3)))], b"GET /"));
        assert!(!check(&[content(b"GET", abs(None, Some(3)))], b" GET /"));
        assert!(check(&[content(b"GET", abs(Some(1), Some(3)))], b" GET /"), "depth counts from offset");
        assert!(!check(&[content(b"GET", abs(Some(2), None))], b" GET /"));
        assert!(check(&[content(b"ab", Anchor::StartsWith)], b"abc"));
        assert!(!check(&[content(b"bc", Anchor::StartsWith)], b"abc"));
    }

    #[test]
    fn relative_backtracks_to_later_occurrence() {
        // "a" then "c" within 2: the first "a" fails, the second succeeds.
        let items = [content(b"a", Anchor::Anywhere), content(b"c", rel(Some(0), Some(2)))];
        assert!(check(&items, b"a--ac"));
        assert!(!check(&items, b"a--a--c"));
        // Negative distance looks back.
        let items = [content(b"cd", Anchor::Anywhere), content(b"bc", rel(Some(-3), Some(2)))];
        assert!(check(&items, b"abcd"));
    }

    #[test]
    fn negation_endswith_and_nocase() {
        let neg = with(content(b"evil", Anchor::Anywhere), |c| c.negated = true);
        assert!(check(&[content(b"GET", Anchor::Anywhere), neg], b"GET good"));
        let neg = with(content(b"evil", Anchor::Anywhere), |c| c.negated = true);
        assert!(!check(&[neg], b"so evil"));
        let end = with(content(b".exe", Anchor::Anywhere), |c| c.endswith = true);
        assert!(check(&[end], b"/a.exe"));
        let end = with(content(b".exe", Anchor::Anywhere), |c| c.endswith = true);
        assert!(!check(&[end], b"/a.exe?x"));
        let nc = with(content(b"EvIl", Anchor::Anywhere), |c| c.nocase = true);
        assert!(check(&[nc], b"EVIL"));
    }

    #[test]
    fn isdataat_and_sizes() {
        let i = |pos: u16, relative: bool, negated: bool| {
            Item::IsDataAt(IsDataAt { negated, position: Value::Lit(pos), relative, rawbytes: false })
        };
        assert!(check(&[i(3, false, false)], b"abcd"));
        assert!(!check(&[i(4, false, false)], b"abcd"));
        assert!(check(&[content(b"ab", Anchor::Anywhere), i(2, true, false)], b"abcd"));
        assert!(!check(&[content(b"ab", Anchor::Anywhere), i(3, true, false)], b"abcd"));
        assert!(check(&[content(b"ab", Anchor::Anywhere), i(3, true, true)], b"abcd"));
        assert!(check(&[Item::Bsize(NumCmp::Eq(4))], b"abcd"));
        assert!(!check(&[Item::Urilen(NumCmp::Gt(4))], b"abcd"));
    }

    #[test]
    fn byte_test_jump_extract() {
        let bt = |nbytes, op, value, offset, relative, string| {
            Item::ByteTest(ByteTest {
                nbytes,
                op,
                negated: false,
                value: Value::Lit(value),
                offset: Value::Lit(offset),
                relative,
                endian: Endian::Big,
                string,
                bitmask: None,
            })
        };
        assert!(check(&[bt(2, ByteOp::Eq, 0x0102, 1, false, None)], b"\x00\x01\x02"));
        assert!(check(&[bt(3, ByteOp::Gt, 99, 0, false, Some(NumString::Dec))], b"100"));
        assert!(!check(&[bt(3, ByteOp::Gt, 99, 1, false, None)], b"100"), "out of data");
        // byte_jump 1 byte length then content right after the skipped field.
        let bj = Item::ByteJump(ByteJump {
            nbytes: 1,
            offset: Value::Lit(0),
            relative: false,
            multiplier: 1,
            endian: Endian::Big,
            string: None,
            align: false,
            from: JumpFrom::Current,
            post_offset: 0,
            bitmask: None,
        });
        let after = content(b"X", rel(Some(0), Some(1)));
        assert!(check(&[bj, after], b"\x02abX"));
        // byte_extract feeding a later distance.
        let be = Item::ByteExtract(ByteExtract {
            nbytes: 1,
            offset: 0,
            var: ByteVar(0),
            relative: false,
            multiplier: 1,
            endian: Endian::Big,
            string: None,
            align: None,
            bitmask: None,
        });
        let c = content(b"Z", Anchor::Relative { distance: Some(Value::Var(ByteVar(0))), within: Some(Value::Lit(1)) });
        assert!(check(&[be, c], b"\x03abcZ"));
    }

    #[test]
    fn pathological_backtracking_is_bounded() {
        let items = [
            content(b"a", Anchor::Anywhere),
            content(b"a", rel(Some(0), None)),
            content(b"a", rel(Some(0), None)),
            content(b"b", rel(Some(0), None)),
        ];
        let data = vec![b'a'; 5000];
        assert!(!check(&items, &data));
    }
}
