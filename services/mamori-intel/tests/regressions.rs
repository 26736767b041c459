//! Replays every input in `tests/regressions/` through the same paths the
//! fuzz targets drive (`fuzz_intel_feeds`, `fuzz_bundle`): none may panic.

use mamori_intel::{parse_feed, verify_and_load, FeedFormat, Label, Category, SigningKey};

fn all_formats() -> Vec<FeedFormat> {
    let l = Label::Category(Category::Games);
    vec![
        FeedFormat::FeodoTxt,
        FeedFormat::FeodoCsv,
        FeedFormat::FeodoJson,
        FeedFormat::UrlhausCsv,
        FeedFormat::UrlhausHostfile,
        FeedFormat::ThreatfoxCsv { min_confidence: 50 },
        FeedFormat::ThreatfoxJson { min_confidence: 50 },
        FeedFormat::MalwareBazaarSha256,
        FeedFormat::SpamhausDropJson,
        FeedFormat::SpamhausDropTxt,
        FeedFormat::EtCompromised,
        FeedFormat::EtBlock,
        FeedFormat::OpenPhish,
        FeedFormat::PhishTankCsv,
        FeedFormat::Ut1Domains { label: l },
        FeedFormat::Ut1Urls { label: l },
        FeedFormat::Own { default: Some(l) },
    ]
}

#[test]
fn regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|f| f.to_string_lossy().starts_with('.')) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for f in all_formats() {
            let _ = parse_feed(&f, &text);
        }
        let _ = verify_and_load(&bytes, &key, None);
        let _ = mamori_intel::normalize_url(&text);
        let _ = mamori_intel::normalize_domain(&text);
        n += 1;
    }
    eprintln!("{n} regression inputs replayed");
}
