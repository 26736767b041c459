//! `content` and its modifiers.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::text;

/// Index of a `byte_extract` variable in [`crate::Rule::byte_vars`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ByteVar(pub u8);

/// A literal or a `byte_extract` variable read at match time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value<T> {
    Lit(T),
    Var(ByteVar),
}

/// Where a content may match. Suricata forbids mixing absolute
/// (offset/depth) and relative (distance/within) modifiers on one content,
/// and `startswith` with either, so the three are exclusive here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Anchor {
    #[default]
    Anywhere,
    /// `startswith`: at offset 0 of the buffer.
    StartsWith,
    /// `offset`/`depth`, from the start of the buffer.
    Absolute { offset: Option<Value<u16>>, depth: Option<Value<u16>> },
    /// `distance`/`within`, from the end of the previous match in the same buffer.
    Relative { distance: Option<Value<i32>>, within: Option<Value<i32>> },
}

impl Anchor {
    pub fn is_relative(&self) -> bool {
        matches!(self, Anchor::Relative { .. })
    }
}

/// `fast_pattern`, `fast_pattern:only`, `fast_pattern:<offset>,<length>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FastPattern {
    /// `fast_pattern:only` (deprecated in Suricata 7, still accepted).
    pub only: bool,
    /// Only this slice (offset, length) of the pattern goes to the prefilter.
    pub slice: Option<(u16, u16)>,
}

/// A content match.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Content {
    /// The bytes, with `|hex|` sections and escapes resolved.
    pub pattern: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub anchor: Anchor,
    pub endswith: bool,
    pub fast_pattern: Option<FastPattern>,
    /// `rawbytes`: a no-op in Suricata, kept for fidelity.
    pub rawbytes: bool,
}

/// The two modifier slots of an anchor kind (offset/depth or distance/within).
type SlotPair<'a, T> = (&'a mut Option<Value<T>>, &'a mut Option<Value<T>>);

/// Longest content Suricata accepts (its length field is 16 bits).
pub const MAX_CONTENT_LEN: usize = u16::MAX as usize;

impl Content {
    /// Parses `content`'s value: `[!]"text|41 42|text"`.
    pub fn parse(value: &str) -> KwResult<Content> {
        let v = value.trim();
        let (negated, v) = match v.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, v),
        };
        let inner = text::quoted(v)?;
        let pattern = decode_pattern(inner)?;
        Ok(Content {
            pattern,
            negated,
            nocase: false,
            anchor: Anchor::Anywhere,
            endswith: false,
            fast_pattern: None,
            rawbytes: false,
        })
    }

    fn len_i64(&self) -> i64 {
        i64::try_from(self.pattern.len()).unwrap_or(i64::MAX)
    }

    pub(crate) fn set_nocase(&mut self) -> KwResult<()> {
        if self.nocase {
            return Err(RuleErrorKind::Conflict("multiple nocase on one content"));
        }
        self.nocase = true;
        Ok(())
    }

    pub(crate) fn set_rawbytes(&mut self) -> KwResult<()> {
        if self.rawbytes {
            return Err(RuleErrorKind::Conflict("multiple rawbytes on one content"));
        }
        self.rawbytes = true;
        Ok(())
    }

    pub(crate) fn set_endswith(&mut self) -> KwResult<()> {
        // Repeating endswith is harmless and Suricata accepts it.
        self.endswith = true;
        Ok(())
    }

    pub(crate) fn set_startswith(&mut self) -> KwResult<()> {
        match self.anchor {
            Anchor::Anywhere => {
                self.anchor = Anchor::StartsWith;
                Ok(())
            }
            Anchor::StartsWith => Err(RuleErrorKind::Conflict("multiple startswith on one content")),
            _ => Err(RuleErrorKind::Conflict("startswith can't be mixed with offset, depth, distance or within")),
        }
    }

    pub(crate) fn set_offset(&mut self, v: Value<u16>) -> KwResult<()> {
        let (offset, _) = self.absolute()?;
        if offset.is_some() {
            return Err(RuleErrorKind::Conflict("multiple offset on one content"));
        }
        *offset = Some(v);
        Ok(())
    }

    pub(crate) fn set_depth(&mut self, v: Value<u16>) -> KwResult<()> {
        if let Value::Lit(d) = v {
            if d == 0 {
                return Err(invalid("depth 0"));
            }
            if usize::from(d) < self.pattern.len() {
                return Err(invalid(format!("depth {d} smaller than content length {}", self.pattern.len())));
            }
        }
        let (_, depth) = self.absolute()?;
        if depth.is_some() {
            return Err(RuleErrorKind::Conflict("multiple depth on one content"));
        }
        *depth = Some(v);
        Ok(())
    }

    pub(crate) fn set_distance(&mut self, v: Value<i32>) -> KwResult<()> {
        let (distance, _) = self.relative()?;
        if distance.is_some() {
            return Err(RuleErrorKind::Conflict("multiple distance on one content"));
        }
        *distance = Some(v);
        Ok(())
    }

    pub(crate) fn set_within(&mut self, v: Value<i32>) -> KwResult<()> {
        if let Value::Lit(w) = v {
            if w == 0 {
                return Err(invalid("within 0"));
            }
            if i64::from(w) < self.len_i64() {
                return Err(invalid(format!("within {w} smaller than content length {}", self.pattern.len())));
            }
        }
        let (_, within) = self.relative()?;
        if within.is_some() {
            return Err(RuleErrorKind::Conflict("multiple within on one content"));
        }
        *within = Some(v);
        Ok(())
    }

    pub(crate) fn set_fast_pattern(&mut self, fp: FastPattern) -> KwResult<()> {
        if self.fast_pattern.is_some() {
            return Err(RuleErrorKind::Conflict("multiple fast_pattern on one content"));
        }
        if let Some((off, len)) = fp.slice {
            let end = usize::from(off).saturating_add(usize::from(len));
            if len == 0 || end > self.pattern.len() {
                return Err(invalid("fast_pattern slice outside the content"));
            }
        }
        self.fast_pattern = Some(fp);
        Ok(())
    }

    fn absolute(&mut self) -> KwResult<SlotPair<'_, u16>> {
        if let Anchor::Anywhere = self.anchor {
            self.anchor = Anchor::Absolute { offset: None, depth: None };
        }
        match &mut self.anchor {
            Anchor::Absolute { offset, depth } => Ok((offset, depth)),
            Anchor::StartsWith => Err(RuleErrorKind::Conflict("startswith can't be mixed with offset or depth")),
            _ => Err(RuleErrorKind::Conflict(
                "can't mix relative (distance/within) and absolute (offset/depth) modifiers",
            )),
        }
    }

    fn relative(&mut self) -> KwResult<SlotPair<'_, i32>> {
        if let Anchor::Anywhere = self.anchor {
            self.anchor = Anchor::Relative { distance: None, within: None };
        }
        match &mut self.anchor {
            Anchor::Relative { distance, within } => Ok((distance, within)),
            Anchor::StartsWith => Err(RuleErrorKind::Conflict("startswith can't be mixed with distance or within")),
            _ => Err(RuleErrorKind::Conflict(
                "can't mix relative (distance/within) and absolute (offset/depth) modifiers",
            )),
        }
    }

    /// Checks made once all modifiers are known.
    pub(crate) fn finish(&self) -> KwResult<()> {
        if let Some(fp) = self.fast_pattern {
            if fp.only && (self.negated || !matches!(self.anchor, Anchor::Anywhere)) {
                return Err(RuleErrorKind::Conflict(
                    "fast_pattern:only can't be used on negated content or with position modifiers",
                ));
            }
            if self.negated && self.anchor.is_relative() {
                return Err(RuleErrorKind::Conflict("fast_pattern can't be used on negated relative content"));
            }
        }
        Ok(())
    }
}

/// Parses `fast_pattern`'s optional value.
pub(crate) fn parse_fast_pattern(value: Option<&str>) -> KwResult<FastPattern> {
    let Some(v) = value else {
        return Ok(FastPattern { only: false, slice: None });
    };
    let v = v.trim();
    if v == "only" {
        return Ok(FastPattern { only: true, slice: None });
    }
    let (a, b) = v.split_once(',').ok_or_else(|| invalid(format!("bad fast_pattern {v:?}")))?;
    let off = crate::number::parse_dec::<u16>(a)?;
    let len = crate::number::parse_dec::<u16>(b)?;
    Ok(FastPattern { only: false, slice: Some((off, len)) })
}

/// Resolves escapes and `|hex|` sections the way Suricata's
/// DetectContentDataParse does: `\\ \" \; \:` are the only escapes, spaces
/// and commas inside hex sections are ignored.
pub fn decode_pattern(s: &str) -> KwResult<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_hex = false;
    let mut escape = false;
    let mut nibble: Option<u8> = None;
    for &c in bytes {
        if c == b'|' {
            if in_hex && nibble.is_some() {
                return Err(invalid("incomplete hex byte"));
            }
            in_hex = !in_hex;
        } else if !escape && c == b'\\' {
            escape = true;
        } else if in_hex {
            if let Some(v) = hex_val(c) {
                match nibble.take() {
                    Some(hi) => out.push((hi << 4) | v),
                    None => nibble = Some(v),
                }
            } else if c != b' ' && c != b',' {
                return Err(invalid(format!("invalid hex character {:?}", char::from(c))));
            }
        } else if escape {
            if matches!(c, b':' | b';' | b'\\' | b'"') {
                out.push(c);
            } else {
                return Err(invalid(format!("invalid escape \"\\{}\"", char::from(c))));
            }
            escape = false;
        } else if c == b'"' {
            return Err(invalid("unescaped double quote"));
        } else {
            out.push(c);
        }
    }
    if in_hex {
        return Err(invalid("unterminated hex section"));
    }
    if escape {
        return Err(invalid("trailing backslash"));
    }
    if out.is_empty() {
        return Err(invalid("empty content"));
    }
    if out.len() > MAX_CONTENT_LEN {
        return Err(RuleErrorKind::TooLarge("content longer than 65535 bytes"));
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_escapes() {
        assert_eq!(decode_pattern("GET|20|/").unwrap(), b"GET /");
        assert_eq!(decode_pattern("|00 01,0a|x").unwrap(), vec![0, 1, 10, b'x']);
        assert_eq!(decode_pattern(r#"a\;b\"c\\d\:"#).unwrap(), b"a;b\"c\\d:");
        assert!(decode_pattern("|0|").is_err());
        assert!(decode_pattern("|zz|").is_err());
        assert!(decode_pattern("|41").is_err());
        assert!(decode_pattern(r"\x41").is_err());
        assert!(decode_pattern("a\"b").is_err());
        assert!(decode_pattern("||").is_err(), "empty");
    }

    #[test]
    fn negation_and_quotes() {
        let c = Content::parse("!\"abc\"").unwrap();
        assert!(c.negated);
        assert_eq!(c.pattern, b"abc");
        assert!(Content::parse("abc").is_err(), "quotes are mandatory");
        assert!(Content::parse(" ! \"x\"").unwrap().negated);
    }

    #[test]
    fn modifiers_conflict() {
        let mut c = Content::parse("\"abcd\"").unwrap();
        c.set_offset(Value::Lit(2)).unwrap();
        assert!(c.set_distance(Value::Lit(0)).is_err());
        assert!(c.set_depth(Value::Lit(3)).is_err(), "depth smaller than content");
        c.set_depth(Value::Lit(4)).unwrap();
        assert!(c.set_depth(Value::Lit(5)).is_err(), "duplicate depth");
        assert!(c.set_startswith().is_err());

        let mut c = Content::parse("\"abcd\"").unwrap();
        assert!(c.set_within(Value::Lit(3)).is_err(), "within smaller than content");
        c.set_within(Value::Var(ByteVar(0))).unwrap();
        c.set_distance(Value::Lit(-2)).unwrap();
        assert_eq!(c.anchor, Anchor::Relative { distance: Some(Value::Lit(-2)), within: Some(Value::Var(ByteVar(0))) });

        let mut c = Content::parse("\"ab\"").unwrap();
        c.set_startswith().unwrap();
        assert!(c.set_offset(Value::Lit(0)).is_err());
        c.set_nocase().unwrap();
        assert!(c.set_nocase().is_err());
    }

    #[test]
    fn fast_pattern_forms() {
        assert_eq!(parse_fast_pattern(None).unwrap(), FastPattern { only: false, slice: None });
        assert_eq!(parse_fast_pattern(Some("only")).unwrap(), FastPattern { only: true, slice: None });
        assert_eq!(parse_fast_pattern(Some("1,2")).unwrap(), FastPattern { only: false, slice: Some((1, 2)) });
        assert!(parse_fast_pattern(Some("x")).is_err());
        let mut c = Content::parse("\"ab\"").unwrap();
        assert!(c.set_fast_pattern(FastPattern { only: false, slice: Some((1, 2)) }).is_err());
        let mut c = Content::parse("!\"ab\"").unwrap();
        c.set_fast_pattern(FastPattern { only: true, slice: None }).unwrap();
        assert!(c.finish().is_err());
    }
}
