//! The paths the `fuzz_intel_feeds` and `fuzz_bundle` targets and
//! `tests/regressions.rs` drive.

use ed25519_dalek::{Signer, SigningKey};

use crate::bundle::{container_append_trailer_head, key_id, verify_and_load};
use crate::category::Category;
use crate::feeds::{parse_feed, FeedFormat};
use crate::label::Label;
use crate::policy::Policy;

fn formats() -> Vec<FeedFormat> {
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

/// Every feed parser on the text; what they accept is compiled and queried
/// with pieces of the input.
pub fn feeds(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut b = crate::IntelBuilder::new();
    for (i, f) in formats().into_iter().enumerate() {
        if let Ok(p) = parse_feed(&f, &text) {
            let _ = b.add_feed(&format!("s{i}"), p);
        }
    }
    let intel = b.compile();
    let policy = Policy::default();
    for line in text.lines().take(16) {
        let _ = intel.lookup_domain(line, &policy);
        let _ = intel.lookup_url(line, &policy);
        let _ = intel.lookup_http(line, line, &policy);
        if let Ok(ip) = line.trim().parse() {
            let _ = intel.lookup_ip(ip, &policy);
        }
    }
    let _ = crate::normalize_domain(&text);
    let _ = crate::normalize_url(&text);
}

/// The fuzzing key: public so that test inputs can be made for it.
pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// Byte 0 even: the rest as a bundle file. Odd: the rest as a bundle body
/// that gets a valid signature, so the section parsing behind the
/// signature is reached too.
pub fn bundle(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let k = key();
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut b = rest.to_vec();
        container_append_trailer_head(&mut b, &key_id(&k.verifying_key()));
        let sig = k.sign(&b);
        b.extend_from_slice(&sig.to_bytes());
        b
    };
    if let Ok(intel) = verify_and_load(&bytes, &k.verifying_key(), None) {
        let p = Policy::default();
        let _ = intel.lookup_domain("a.b.example", &p);
        let _ = intel.lookup_url("http://a.example/x", &p);
        let _ = intel.lookup_ip(std::net::IpAddr::from([1, 2, 3, 4]), &p);
        let _ = intel.lookup_sha256(&[0; 32], &p);
    }
}
