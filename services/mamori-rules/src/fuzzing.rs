//! The path the fuzz target and the regression test drive, kept here so
//! both run exactly the same code.

use crate::{Classifications, IpSet, PortSet, RuleSet, ThresholdConfig, Vars};

/// Feeds `data` through the public entry points: as rule files (split in two
/// sources at a point chosen by the first byte), as classification.config,
/// threshold.config, variable overrides, and address/port groups. Checks the
/// summary's invariants.
pub fn run(data: &[u8]) {
    let (control, body) = data.split_at(data.len().min(1));
    let text = String::from_utf8_lossy(body);
    let split = usize::from(control.first().copied().unwrap_or(0)).saturating_mul(4).min(text.len());
    let split = (0..=split).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let (a, b) = text.split_at(split);

    let (classes, _) = Classifications::parse("classification.config", &text);
    let mut vars = Vars::default();
    if control.first().is_some_and(|c| c & 1 == 1) {
        let _ = vars.merge_yaml("vars.yaml", b);
        let _ = vars.merge_toml("vars.toml", a);
    }
    let (set, summary) = RuleSet::load(&[("a.rules", a), ("b.rules", b)], &vars, &classes);
    assert_eq!(summary.loaded, set.len());
    assert_eq!(summary.loaded + summary.skipped.len(), summary.total);
    let shown = summary.to_string();
    let first = shown.lines().next().unwrap_or_default();
    assert_eq!(first, format!("loaded {} of {} rules", summary.loaded, summary.total));
    for e in &summary.skipped {
        let _ = e.to_string();
    }
    for r in &set.rules {
        let _ = r.buffers();
        let _ = r.fast_pattern();
        let _ = r.header.src.to_prefixes();
    }

    let _ = ThresholdConfig::parse("threshold.config", &text, &vars);
    for line in text.lines().take(64) {
        let _ = IpSet::parse(line, &vars);
        let _ = PortSet::parse(line, &vars);
    }
}
