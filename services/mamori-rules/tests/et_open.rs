//! Loads every ET Open rule file with its classification.config and checks
//! how many enabled rules load.

use std::path::PathBuf;
use std::time::Instant;

use mamori_rules::{Anchor, Buffer, Classifications, Match, RegexEngine, RuleSet, Vars};

/// Ratchet: the share of enabled ET Open rules that load today (all of them,
/// as with Suricata 7.0.10). The issue asks for 95 %; a drop is a regression.
const MIN_LOADED_PERCENT: f64 = 100.0;

fn et_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/et-open");
    dir.is_dir().then_some(dir)
}

#[test]
fn et_open_loads() {
    let Some(dir) = et_dir() else {
        eprintln!("skipping: et-open test data not found");
        return;
    };
    let class_text = std::fs::read_to_string(dir.join("classification.config")).expect("classification.config");
    let (classes, errs) = Classifications::parse("classification.config", &class_text);
    assert!(errs.is_empty(), "{errs:?}");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("read et-open")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (name, std::fs::read_to_string(&p).expect("read rules"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 50, "expected the ET Open files");
    let sources: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();

    let start = Instant::now();
    let (mut set, mut summary) = RuleSet::parse_only(&sources, &Vars::default(), &classes);
    let parsed = start.elapsed();
    set.check_regexes(&mut summary);
    let elapsed = start.elapsed();

    println!("{summary}");
    println!(
        "load time: {elapsed:?} (parse {parsed:?}, regex check {:?}; {} disabled rules not counted)",
        elapsed.saturating_sub(parsed),
        summary.disabled
    );
    for e in summary.skipped.iter().take(40) {
        println!("  {e}");
    }
    assert_eq!(summary.loaded, set.len());
    assert!(summary.total > 20_000, "ET Open has ~25k enabled rules, saw {}", summary.total);
    // A rule parsed the way Suricata reads it (emerging-adware_pup.rules).
    let r = set.get(1, 2037896).expect("sid 2037896");
    let steps: Vec<(Buffer, &str)> = r.detections.iter().map(|d| (d.buffer, d.item.keyword())).collect();
    assert_eq!(
        steps,
        vec![
            (Buffer::HttpMethod, "content"),
            (Buffer::HttpUri, "content"),
            (Buffer::HttpUri, "pcre"),
            (Buffer::HttpHost, "content"),
            (Buffer::HttpHeaderNames, "content"),
        ]
    );
    let Match::Content(uri) = &r.detections[1].item else { panic!("content") };
    assert_eq!(uri.pattern, b"/notifier/watcher-check/?t=");
    assert!(uri.fast_pattern.is_some() && uri.anchor == Anchor::StartsWith);
    let Match::Pcre(p) = &r.detections[2].item else { panic!("pcre") };
    assert!(p.flags.relative);
    assert_eq!(p.engine, RegexEngine::Pcre2, "PCRE's $ also matches before a final newline");
    let Match::Content(host) = &r.detections[3].item else { panic!("content") };
    assert!(host.endswith);
    let Match::Content(names) = &r.detections[4].item else { panic!("content") };
    assert!(names.negated);
    assert_eq!(r.meta.classtype.as_ref().map(|c| c.priority), Some(2));

    let pct = summary.percent_loaded();
    assert!(pct >= MIN_LOADED_PERCENT, "only {pct:.2}% loaded\n{summary}");
}
