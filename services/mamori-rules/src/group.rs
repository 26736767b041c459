//! The group grammar shared by addresses and ports:
//! `any`, literals, `$VAR`, `!x`, and `[a,b,...]` nested to any depth.
//!
//! Negation follows Suricata (detect-engine-address.c): plain items and
//! plain groups flatten into the positive list, negated items into the
//! negative list, and a negated group or variable is resolved on its own
//! first. At the end, per family, a negative list without positives starts
//! from the whole space, and negatives are cut out of positives.

use crate::error::{KwResult, RuleErrorKind};
use crate::vars::Vars;

/// Deepest nesting of brackets and variables (variable loops end here).
pub const MAX_DEPTH: u32 = 32;
/// Most items evaluated for one group, so variables that expand into each
/// other many times cannot blow up.
pub const MAX_ITEMS: u32 = 100_000;

pub(crate) trait Domain {
    type Set: Default;
    fn atom(s: &str) -> KwResult<Self::Set>;
    fn lookup<'v>(vars: &'v Vars, name: &str) -> Option<&'v str>;
    fn union_into(acc: &mut Self::Set, add: Self::Set);
    fn merge(pos: Self::Set, neg: Self::Set) -> KwResult<Self::Set>;
}

pub(crate) fn resolve<D: Domain>(s: &str, vars: &Vars) -> KwResult<D::Set> {
    let mut budget = MAX_ITEMS;
    resolve_isolated::<D>(s, vars, 0, &mut budget)
}

fn resolve_isolated<D: Domain>(s: &str, vars: &Vars, depth: u32, budget: &mut u32) -> KwResult<D::Set> {
    let mut pos = D::Set::default();
    let mut neg = D::Set::default();
    eval::<D>(s, vars, depth, budget, &mut pos, &mut neg)?;
    D::merge(pos, neg)
}

fn eval<D: Domain>(
    s: &str,
    vars: &Vars,
    depth: u32,
    budget: &mut u32,
    pos: &mut D::Set,
    neg: &mut D::Set,
) -> KwResult<()> {
    if depth > MAX_DEPTH {
        return Err(RuleErrorKind::TooDeep);
    }
    *budget = budget.checked_sub(1).ok_or(RuleErrorKind::TooLarge("group has too many items"))?;
    let s = s.trim();
    let body = s.trim_start_matches('!');
    let negated = (s.len().saturating_sub(body.len())) % 2 == 1;
    let body = body.trim_start();
    if body.is_empty() {
        return Err(RuleErrorKind::Invalid("empty group item".into()));
    }
    if body.starts_with('[') {
        let inner = bracket_inner(body)?;
        if negated {
            let r = resolve_group::<D>(inner, vars, depth, budget)?;
            D::union_into(neg, r);
        } else {
            for item in split_top(inner) {
                eval::<D>(item, vars, depth.saturating_add(1), budget, pos, neg)?;
            }
        }
    } else if let Some(name) = body.strip_prefix('$') {
        let value = D::lookup(vars, name).ok_or_else(|| RuleErrorKind::UndefinedVariable(name.to_string()))?;
        if negated {
            let r = resolve_isolated::<D>(value, vars, depth.saturating_add(1), budget)?;
            D::union_into(neg, r);
        } else {
            eval::<D>(value, vars, depth.saturating_add(1), budget, pos, neg)?;
        }
    } else {
        let set = D::atom(body)?;
        if negated {
            D::union_into(neg, set);
        } else {
            D::union_into(pos, set);
        }
    }
    Ok(())
}

fn resolve_group<D: Domain>(inner: &str, vars: &Vars, depth: u32, budget: &mut u32) -> KwResult<D::Set> {
    let mut pos = D::Set::default();
    let mut neg = D::Set::default();
    for item in split_top(inner) {
        eval::<D>(item, vars, depth.saturating_add(1), budget, &mut pos, &mut neg)?;
    }
    D::merge(pos, neg)
}

/// `[...]` → the text inside; the matching `]` must be the last character.
fn bracket_inner(body: &str) -> KwResult<&str> {
    let mut depth: u32 = 0;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b'[' => depth = depth.saturating_add(1),
            b']' => {
                depth = depth.checked_sub(1).ok_or(RuleErrorKind::Syntax("unbalanced brackets"))?;
                if depth == 0 {
                    if i.saturating_add(1) != body.len() {
                        return Err(RuleErrorKind::Syntax("text after closing bracket"));
                    }
                    return body.get(1..i).ok_or(RuleErrorKind::Syntax("unbalanced brackets"));
                }
            }
            _ => {}
        }
    }
    Err(RuleErrorKind::Syntax("unbalanced brackets"))
}

/// Splits on commas outside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth: u32 = 0;
    let mut start = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'[' => depth = depth.saturating_add(1),
            b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_brackets() {
        assert_eq!(split_top("a,[b,c],!d"), vec!["a", "[b,c]", "!d"]);
        assert_eq!(bracket_inner("[a,[b]]").unwrap(), "a,[b]");
        assert!(bracket_inner("[a]b").is_err());
        assert!(bracket_inner("[a").is_err());
    }
}
