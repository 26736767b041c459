//! Memory per entry of the domain matcher for 1M synthetic names.
//!
//! `cargo run --release -p mamori-intel --example bytes_per_entry [N]`

use std::time::Instant;

use mamori_intel::{feeds::Indicator, Entry, IntelBuilder, Label, ParsedFeed, Policy, ThreatKind};

/// Deterministic xorshift so the numbers are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn label(&mut self, min: u64, max: u64) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
        let len = min + self.next() % (max - min + 1);
        let mut s = String::new();
        for i in 0..len {
            let n = if i == 0 || i == len - 1 { 36 } else { 37 };
            s.push(CHARS[(self.next() % n) as usize] as char);
        }
        s
    }
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    const TLDS: &[&str] = &["com", "net", "org", "jp", "co.jp", "xyz", "info", "ru", "top", "de", "cn", "io"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut names = std::collections::BTreeSet::new();
    while names.len() < n {
        let tld = TLDS[(rng.next() % TLDS.len() as u64) as usize];
        let sld = rng.label(5, 14);
        let name =
            if rng.next() % 10 < 3 { format!("{}.{sld}.{tld}", rng.label(2, 8)) } else { format!("{sld}.{tld}") };
        names.insert(name);
    }
    let text_bytes: usize = names.iter().map(|s| s.len() + 1).sum();
    let label = Label::Threat(ThreatKind::Phishing);
    let entries: Vec<Entry> = names.iter().map(|d| Entry { indicator: Indicator::Domain(d.clone()), label }).collect();
    let probes: Vec<String> = names.iter().step_by(997).map(|d| format!("www.{d}")).collect();
    let misses: Vec<String> = probes.iter().map(|p| format!("x{p}")).collect();
    drop(names);
    let mut b = IntelBuilder::new();
    b.add_feed("synthetic", ParsedFeed { entries, ..Default::default() }).unwrap();
    let t = Instant::now();
    let intel = b.compile();
    let build = t.elapsed();
    let s = intel.stats();
    let policy = Policy::default();
    let t = Instant::now();
    let mut hits = 0;
    for _ in 0..10 {
        for (p, m) in probes.iter().zip(&misses) {
            hits += usize::from(intel.lookup_domain(p, &policy).is_some());
            hits += usize::from(intel.lookup_domain(m, &policy).is_some());
        }
    }
    let per_lookup = t.elapsed().as_nanos() as f64 / (probes.len() * 20) as f64;
    println!("domains: {}", s.domains);
    println!("plain text list: {text_bytes} bytes ({:.1} bytes/name)", text_bytes as f64 / s.domains as f64);
    println!("fst: {} bytes = {:.2} bytes/name", s.domain_bytes, s.domain_bytes as f64 / s.domains as f64);
    println!("build: {:.2} s; lookup: {per_lookup:.0} ns (hit and miss mixed, {hits} hits)", build.as_secs_f64());
}
