//! `cargo run --release --example load_rules -- FILE...`: loads rule files
//! with Suricata's default variables and prints the load summary and timing.
//! A `classification.config` among the arguments is used for classtypes.

use std::time::Instant;

use mamori_rules::{Classifications, Match, RegexEngine, RuleSet, Vars};

fn main() {
    let mut classes = Classifications::empty();
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&arg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{arg}: {e}");
                std::process::exit(2);
            }
        };
        if arg.ends_with("classification.config") {
            let (c, errs) = Classifications::parse(&arg, &text);
            for e in errs {
                eprintln!("{e}");
            }
            classes = c;
        } else {
            let name = std::path::Path::new(&arg).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(arg);
            files.push((name, text));
        }
    }
    let sources: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let start = Instant::now();
    let (mut set, mut summary) = RuleSet::parse_only(&sources, &Vars::default(), &classes);
    let parsed = start.elapsed();
    set.check_regexes(&mut summary);
    let total = start.elapsed();
    print!("{summary}");
    let (mut rust, mut pcre2) = (0usize, 0usize);
    for r in &set.rules {
        for d in &r.detections {
            if let Match::Pcre(p) = &d.item {
                match p.engine {
                    RegexEngine::Rust => rust += 1,
                    RegexEngine::Pcre2 => pcre2 += 1,
                }
            }
        }
    }
    eprintln!("parse {parsed:?}, regex check {:?}, total {total:?}", total.saturating_sub(parsed));
    eprintln!("pcre: {rust} for the regex crate, {pcre2} need PCRE2");
}
