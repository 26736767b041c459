//! Bundle signature, integrity and rollback paths, and the atomic swap.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ed25519_dalek::Signer;
use mamori_intel::{verify_and_load, BundleError, FeedFormat, IntelBuilder, IntelHandle, Policy, SigningKey};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn builder(extra: &str) -> IntelBuilder {
    let mut b = IntelBuilder::new();
    let list = format!("domain evil.example threat:phishing\nip 192.0.2.0/24 threat:botnet_c2\n{extra}");
    b.add_source("own", &FeedFormat::Own { default: None }, &list).unwrap();
    b.set_app_signatures(vec![1, 2, 3]);
    b.set_rules("alert tcp any any -> any any (sid:1;)".into());
    b
}

fn bundle(version: u64) -> Vec<u8> {
    builder("").build_bundle(version, 1_714_651_200, &key(1))
}

#[test]
fn signed_bundle_loads_with_everything() {
    let k = key(1);
    let intel = verify_and_load(&bundle(7), &k.verifying_key(), None).unwrap();
    assert_eq!(intel.version(), 7);
    assert_eq!(intel.created_unix(), 1_714_651_200);
    assert_eq!(intel.app_signatures(), &[1, 2, 3]);
    assert!(intel.rules().contains("sid:1"));
    assert_eq!(intel.sources()[0].name, "own");
    assert!(intel.lookup_domain("a.evil.example", &Policy::default()).unwrap().is_block());
    assert!(intel.lookup_ip("192.0.2.9".parse().unwrap(), &Policy::default()).unwrap().is_block());
}

#[test]
fn unsigned_is_refused() {
    let b = builder("").build_unsigned(7, 0);
    assert_eq!(verify_and_load(&b, &key(1).verifying_key(), None).unwrap_err(), BundleError::Unsigned);
}

#[test]
fn wrong_key_is_refused() {
    let e = verify_and_load(&bundle(7), &key(2).verifying_key(), None).unwrap_err();
    assert!(matches!(e, BundleError::WrongKey { .. }), "{e:?}");
}

#[test]
fn any_flipped_byte_is_refused() {
    let good = bundle(7);
    let k = key(1).verifying_key();
    // Every byte of the header and table, and a sample of the rest.
    let step = (good.len() / 500).max(1);
    for i in (0..good.len()).filter(|i| *i < 400 || i % step == 0) {
        let mut b = good.clone();
        b[i] ^= 0x01;
        assert!(verify_and_load(&b, &k, None).is_err(), "flip at {i} accepted");
    }
    let mut b = good.clone();
    let last = b.len() - 1;
    b[last] ^= 0x80;
    assert_eq!(verify_and_load(&b, &k, None).unwrap_err(), BundleError::BadSignature);
}

#[test]
fn truncated_or_padded_is_refused() {
    let good = bundle(7);
    let k = key(1).verifying_key();
    for len in 0..good.len() {
        let e = verify_and_load(&good[..len], &k, None).unwrap_err();
        if len >= 40 && len != good.len() - 80 {
            assert!(matches!(e, BundleError::Truncated { .. }), "len {len}: {e:?}");
        }
    }
    let e = verify_and_load(&good[..good.len() - 80], &k, None).unwrap_err();
    assert_eq!(e, BundleError::Unsigned, "body without signature");
    let mut padded = good.clone();
    padded.push(0);
    assert!(matches!(verify_and_load(&padded, &k, None), Err(BundleError::Corrupt(_))));
}

#[test]
fn not_a_bundle_and_newer_format() {
    let k = key(1).verifying_key();
    assert_eq!(verify_and_load(b"PK\x03\x04 zip file", &k, None).unwrap_err(), BundleError::BadMagic);
    let mut b = bundle(7);
    b[8] = 2;
    assert_eq!(verify_and_load(&b, &k, None).unwrap_err(), BundleError::UnsupportedFormat(2));
}

#[test]
fn validly_signed_but_damaged_section_is_refused() {
    // The builder's key signs a body whose section no longer matches its
    // table hash: the hash check, not the signature, must catch it.
    let sk = key(1);
    let mut b = bundle(7);
    let body_len = b.len() - 80;
    b[body_len - 1] ^= 0xff; // last byte of the last section (rules)
    let sig = sk.sign(&b[..body_len + 16]).to_bytes();
    b[body_len + 16..].copy_from_slice(&sig);
    let e = verify_and_load(&b, &sk.verifying_key(), None).unwrap_err();
    assert!(matches!(e, BundleError::SectionHash { .. }), "{e:?}");
}

#[test]
fn rollback_is_refused() {
    let k = key(1).verifying_key();
    assert_eq!(verify_and_load(&bundle(5), &k, Some(5)).unwrap_err(), BundleError::Rollback { current: 5, offered: 5 });
    assert_eq!(verify_and_load(&bundle(4), &k, Some(5)).unwrap_err(), BundleError::Rollback { current: 5, offered: 4 });
    assert_eq!(verify_and_load(&bundle(6), &k, Some(5)).unwrap().version(), 6);
}

#[test]
fn handle_keeps_last_good_bundle() {
    let h = IntelHandle::new(key(1).verifying_key());
    assert_eq!(h.version(), 0);
    assert!(h.current().lookup_domain("evil.example", &Policy::default()).is_none());
    assert_eq!(h.update(&bundle(2)).unwrap(), 2);
    assert!(h.current().lookup_domain("evil.example", &Policy::default()).is_some());
    assert!(matches!(h.update(&bundle(1)), Err(BundleError::Rollback { .. })));
    let mut corrupt = bundle(3);
    corrupt[100] ^= 1;
    assert!(h.update(&corrupt).is_err());
    assert!(h.update(&builder("").build_unsigned(9, 0)).is_err());
    assert_eq!(h.version(), 2, "last good bundle stays");
    assert!(h.current().lookup_domain("evil.example", &Policy::default()).is_some());
}

#[test]
fn swap_under_concurrent_readers() {
    let h = Arc::new(IntelHandle::from_bundle(key(1).verifying_key(), &bundle(1)).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let h = Arc::clone(&h);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let policy = Policy::default();
                let mut last = 0;
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) || reads < 100 {
                    let intel = h.current();
                    assert!(intel.version() >= last, "version went backwards");
                    last = intel.version();
                    // Present in every version: must never miss mid-swap.
                    assert!(intel.lookup_domain("evil.example", &policy).is_some());
                    reads += 1;
                }
                last
            })
        })
        .collect();
    for v in 2..=30 {
        let extra = format!("domain v{v}.example category:games\n");
        let b = builder(&extra).build_bundle(v, 0, &key(1));
        assert_eq!(h.update(&b).unwrap(), v);
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() >= 1);
    }
    assert_eq!(h.version(), 30);
    assert!(h.current().lookup_domain("v30.example", &Policy::default()).is_some());
    assert!(h.current().lookup_domain("v29.example", &Policy::default()).is_none());
}
