//! `requires: feature <name>, version <op> <x.y.z> [<op> <x.y.z>] [| ...]`:
//! a rule that needs something we do not provide is skipped, as Suricata
//! skips it. We answer for Suricata 8.0.0 and provide no optional features.

use crate::error::{invalid, KwResult, RuleErrorKind};
use crate::text;

/// The Suricata version whose rule language this crate implements.
pub const SURICATA_VERSION: (u32, u32, u32) = (8, 0, 0);

pub(crate) fn check(value: &str) -> KwResult<()> {
    for item in text::params(value) {
        let (kind, rest) =
            item.split_once(char::is_whitespace).ok_or_else(|| invalid(format!("bad requires item {item:?}")))?;
        match kind {
            "feature" => {
                return Err(RuleErrorKind::Unsupported(format!("requires feature {}", rest.trim())));
            }
            "version" => {
                if !version_ok(rest)? {
                    return Err(RuleErrorKind::Unsupported(format!("requires version {}", rest.trim())));
                }
            }
            other => return Err(invalid(format!("unknown requires item {other:?}"))),
        }
    }
    Ok(())
}

/// Alternatives separated by `|`; each is a conjunction of `op version`.
fn version_ok(spec: &str) -> KwResult<bool> {
    let mut any = false;
    for alt in spec.split('|') {
        let toks: Vec<&str> = alt.split_whitespace().collect();
        if toks.is_empty() || !toks.len().is_multiple_of(2) {
            return Err(invalid(format!("bad version requirement {alt:?}")));
        }
        let mut all = true;
        for pair in toks.chunks_exact(2) {
            let [op, v] = pair else { continue };
            let want = parse_version(v)?;
            let have = SURICATA_VERSION;
            let ok = match *op {
                "<" => have < want,
                "<=" => have <= want,
                ">" => have > want,
                ">=" => have >= want,
                "=" | "==" => have == want,
                other => return Err(invalid(format!("bad version operator {other:?}"))),
            };
            all &= ok;
        }
        any |= all;
    }
    Ok(any)
}

fn parse_version(v: &str) -> KwResult<(u32, u32, u32)> {
    let mut parts = v.split('.').map(crate::number::parse_dec::<u32>);
    let major = parts.next().ok_or_else(|| invalid("empty version"))??;
    let minor = parts.next().transpose()?.unwrap_or(0);
    let patch = parts.next().transpose()?.unwrap_or(0);
    if parts.next().is_some() {
        return Err(invalid(format!("bad version {v:?}")));
    }
    Ok((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(check("version >= 7").is_ok());
        assert!(check("version >= 7.0.3 < 9").is_ok());
        assert!(matches!(check("version < 8"), Err(RuleErrorKind::Unsupported(_))));
        assert!(check("version < 7 | >= 8").is_ok());
        assert!(matches!(check("feature geoip"), Err(RuleErrorKind::Unsupported(_))));
        assert!(matches!(check("version >= x"), Err(RuleErrorKind::Invalid(_))));
        assert!(matches!(check("color blue"), Err(RuleErrorKind::Invalid(_))));
    }
}
