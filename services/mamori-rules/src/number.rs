//! Numbers: integer literals as Suricata reads them, and the unsigned
//! comparison syntax shared by dsize, urilen, bsize, ttl, itype, ... (`N`,
//! `=N`, `!N`, `<N`, `<=N`, `>N`, `>=N`, `A<>B`, `A-B`, `!A-B`).

use crate::error::{invalid, KwResult};

/// A comparison against an unsigned value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumCmp<T> {
    Eq(T),
    Ne(T),
    Lt(T),
    Le(T),
    Gt(T),
    Ge(T),
    /// Strictly between: `lo < v < hi` (Suricata's `lo<>hi` and `lo-hi`).
    Between(T, T),
    /// Not strictly between.
    NotBetween(T, T),
}

impl<T: Copy + Ord> NumCmp<T> {
    pub fn matches(&self, v: T) -> bool {
        match *self {
            NumCmp::Eq(x) => v == x,
            NumCmp::Ne(x) => v != x,
            NumCmp::Lt(x) => v < x,
            NumCmp::Le(x) => v <= x,
            NumCmp::Gt(x) => v > x,
            NumCmp::Ge(x) => v >= x,
            NumCmp::Between(lo, hi) => lo < v && v < hi,
            NumCmp::NotBetween(lo, hi) => !(lo < v && v < hi),
        }
    }

    /// The largest value that can match, if bounded (for bsize-vs-content checks).
    pub fn max_match(&self) -> Option<T> {
        match *self {
            NumCmp::Eq(x) | NumCmp::Le(x) => Some(x),
            NumCmp::Lt(x) | NumCmp::Between(_, x) => Some(x),
            _ => None,
        }
    }
}

/// Parses the comparison syntax for an unsigned type.
pub fn parse_cmp<T>(s: &str) -> KwResult<NumCmp<T>>
where
    T: Copy + Ord + TryFrom<u64>,
{
    let s = s.trim();
    let num = |t: &str| -> KwResult<T> {
        let v = parse_u64(t.trim())?;
        T::try_from(v).map_err(|_| invalid(format!("{v} out of range")))
    };
    let range = |t: &str, neg: bool| -> KwResult<Option<NumCmp<T>>> {
        let split = t.split_once("<>").or_else(|| t.split_once('-'));
        match split {
            Some((a, b)) => {
                let (lo, hi) = (num(a)?, num(b)?);
                if lo >= hi {
                    return Err(invalid(format!("empty range {t:?}")));
                }
                Ok(Some(if neg { NumCmp::NotBetween(lo, hi) } else { NumCmp::Between(lo, hi) }))
            }
            None => Ok(None),
        }
    };
    if let Some(rest) = s.strip_prefix("<=") {
        return Ok(NumCmp::Le(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix(">=") {
        return Ok(NumCmp::Ge(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix("!=") {
        return Ok(NumCmp::Ne(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix('<') {
        return Ok(NumCmp::Lt(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix('>') {
        return Ok(NumCmp::Gt(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix('!') {
        if let Some(r) = range(rest, true)? {
            return Ok(r);
        }
        return Ok(NumCmp::Ne(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix('=') {
        return Ok(NumCmp::Eq(num(rest)?));
    }
    if let Some(r) = range(s, false)? {
        return Ok(r);
    }
    Ok(NumCmp::Eq(num(s)?))
}

/// An unsigned integer the way C's `strtoull(.., 0)` reads it: `0x` hex,
/// leading-zero octal, else decimal. The whole string must be consumed.
pub fn parse_u64(s: &str) -> KwResult<u64> {
    let bad = || invalid(format!("bad number {s:?}"));
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (s.get(1..).unwrap_or(""), 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u64::from_str_radix(digits, radix).map_err(|_| bad())
}

/// A decimal integer with optional sign (offsets, distance).
pub fn parse_i64(s: &str) -> KwResult<i64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(rest) => {
            let v = parse_u64(rest)?;
            i64::try_from(v).ok().and_then(i64::checked_neg).ok_or_else(|| invalid(format!("bad number {s:?}")))
        }
        None => i64::try_from(parse_u64(s)?).map_err(|_| invalid(format!("bad number {s:?}"))),
    }
}

/// A plain decimal number of a bounded type (sid, rev, count, seconds).
pub fn parse_dec<T: TryFrom<u64>>(s: &str) -> KwResult<T> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("bad number {s:?}")));
    }
    let v: u64 = s.parse().map_err(|_| invalid(format!("bad number {s:?}")))?;
    T::try_from(v).map_err(|_| invalid(format!("{v} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_forms() {
        assert_eq!(parse_cmp::<u16>("10").unwrap(), NumCmp::Eq(10));
        assert_eq!(parse_cmp::<u16>("=10").unwrap(), NumCmp::Eq(10));
        assert_eq!(parse_cmp::<u16>(">10").unwrap(), NumCmp::Gt(10));
        assert_eq!(parse_cmp::<u16>("<= 10").unwrap(), NumCmp::Le(10));
        assert_eq!(parse_cmp::<u16>("!10").unwrap(), NumCmp::Ne(10));
        assert_eq!(parse_cmp::<u16>("300<>400").unwrap(), NumCmp::Between(300, 400));
        assert_eq!(parse_cmp::<u16>("3-7").unwrap(), NumCmp::Between(3, 7));
        assert_eq!(parse_cmp::<u16>("!3-7").unwrap(), NumCmp::NotBetween(3, 7));
        assert!(parse_cmp::<u8>("256").is_err());
        assert!(parse_cmp::<u16>("7<>3").is_err());
        assert!(parse_cmp::<u16>(">").is_err());
        assert!(parse_cmp::<u16>("abc").is_err());
    }

    #[test]
    fn between_is_exclusive() {
        let c = NumCmp::Between(300u16, 400);
        assert!(!c.matches(300) && c.matches(301) && c.matches(399) && !c.matches(400));
    }

    #[test]
    fn literals() {
        assert_eq!(parse_u64("0x1F").unwrap(), 31);
        assert_eq!(parse_u64("010").unwrap(), 8);
        assert_eq!(parse_u64("0").unwrap(), 0);
        assert!(parse_u64("09").is_err());
        assert!(parse_u64("1a").is_err());
        assert!(parse_u64("99999999999999999999999").is_err());
        assert_eq!(parse_i64("-20").unwrap(), -20);
        assert_eq!(parse_dec::<u32>("2001").unwrap(), 2001);
        assert!(parse_dec::<u32>("-1").is_err());
    }
}
