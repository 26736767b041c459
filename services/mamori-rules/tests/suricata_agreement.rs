//! Accepts and rejects the same rules as Suricata: each case in
//! `fixtures/suricata7_verdicts.rules` carries `suricata -T`'s verdict.

use mamori_rules::{Classifications, RuleSet, Vars};

struct Case {
    line: usize,
    rule: String,
    suricata_ok: bool,
    suricata_msg: String,
    /// Why we knowingly differ (Suricata 8 behaviour, for example).
    differs: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("fixtures/suricata7_verdicts.rules");
    let mut out = Vec::new();
    let mut verdict: Option<(bool, String)> = None;
    let mut differs = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(v) = line.strip_prefix("# suricata: ") {
            verdict = Some(match v.strip_prefix("error") {
                Some(msg) => (false, msg.trim().to_string()),
                None => (true, String::new()),
            });
        } else if let Some(d) = line.strip_prefix("# differs: ") {
            differs = Some(d.to_string());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let (ok, msg) = verdict.take().expect("a verdict before each rule");
            out.push(Case {
                line: i + 1,
                rule: line.to_string(),
                suricata_ok: ok,
                suricata_msg: msg,
                differs: differs.take(),
            });
        }
    }
    out
}

#[test]
fn same_verdicts_as_suricata() {
    let class_text = "config classification: trojan-activity,A Network Trojan was detected,1\n";
    let (classes, _) = Classifications::parse("classification.config", class_text);
    let cases = cases();
    assert!(cases.len() > 100);
    let mut mismatches = Vec::new();
    for c in &cases {
        let (_, s) = RuleSet::load(&[("case.rules", c.rule.as_str())], &Vars::default(), &classes);
        let ours_ok = s.loaded == 1;
        let ours = s.skipped.first().map(|e| e.to_string()).unwrap_or_else(|| "ok".into());
        let expect_ok = if c.differs.is_some() { !c.suricata_ok } else { c.suricata_ok };
        if ours_ok != expect_ok {
            mismatches.push(format!(
                "line {}: {}\n    suricata: {}\n    ours:     {}",
                c.line,
                c.rule,
                if c.suricata_ok { "ok" } else { &c.suricata_msg },
                ours
            ));
        }
    }
    let differ: Vec<&Case> = cases.iter().filter(|c| c.differs.is_some()).collect();
    println!("{} cases, {} knowingly differ:", cases.len(), differ.len());
    for c in differ {
        println!("  line {}: {}", c.line, c.differs.as_deref().unwrap_or(""));
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
