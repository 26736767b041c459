//! Loads every rule file of the suricata-verify cases (written for Suricata
//! 8) and checks exactly which rules fail and why.

use std::path::{Path, PathBuf};

use mamori_rules::{Classifications, RuleSet, Vars};

/// Rules we skip, as `case-relative-path:line: reason`. Suricata 7.0.10
/// itself rejects two rules here (a Suricata 8 pcre capture list and an IPv6
/// range); both are Suricata 8 syntax we support, so the list is empty.
const EXPECTED_SKIPS: &[&str] = &[];

fn tests_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/suricata-verify/tests");
    dir.is_dir().then_some(dir)
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rule_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rules") {
            out.push(p);
        }
    }
}

/// The case's own suricata.yaml may define variables (e.g. `$SUPPRESS`).
fn case_vars(rules: &Path) -> Vars {
    let mut vars = Vars::default();
    if let Some(yaml) = rules.parent().map(|d| d.join("suricata.yaml")) {
        if let Ok(text) = std::fs::read_to_string(&yaml) {
            if let Err(e) = vars.merge_yaml("suricata.yaml", &text) {
                println!("note: {}: vars not read: {e}", yaml.display());
            }
        }
    }
    vars
}

#[test]
fn suricata_verify_rules_load() {
    let Some(dir) = tests_dir() else {
        eprintln!("skipping: suricata-verify test data not found");
        return;
    };
    let classes = {
        let et = dir.join("../../et-open/classification.config");
        let text = std::fs::read_to_string(et).unwrap_or_default();
        Classifications::parse("classification.config", &text).0
    };
    let mut files = Vec::new();
    rule_files(&dir, &mut files);
    assert!(files.len() >= 170, "expected ~176 rule files, found {}", files.len());

    let mut skips = Vec::new();
    let (mut total, mut loaded) = (0usize, 0usize);
    for f in &files {
        let name = f.strip_prefix(&dir).unwrap_or(f).to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).expect("read rules");
        let (_, summary) = RuleSet::load(&[(name.as_str(), text.as_str())], &case_vars(f), &classes);
        total += summary.total;
        loaded += summary.loaded;
        for e in &summary.skipped {
            skips.push(e.to_string());
        }
    }
    println!("loaded {loaded} of {total} rules from {} files", files.len());
    for s in &skips {
        println!("  skipped: {s}");
    }
    assert_eq!(skips, EXPECTED_SKIPS);
}
