//! Compares our app with nDPI's label for every flow of the nDPI captures
//! whose nDPI app is one we name. Prints agreement per app and overall and
//! lists the disagreements; fails if agreement drops below the ratchet.
//!
//! `MAMORI_APPS_DUMP=1 cargo test -p mamori-apps --test ndpi_agreement -- --nocapture`
//! also prints the facts of every compared flow.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;

use mamori_applayer::Direction;
use mamori_apps::{classify, App};
use mamori_testkit::testdata_dir;
use support::Key;

/// Agreement reached; raise it when the classifier improves.
const RATCHET_PERCENT: f64 = 99.0;

struct Expected {
    key: Key,
    label: String,
    /// `None` when nDPI's app is not one we name.
    app: Option<App>,
}

fn parse_out(text: &str) -> Vec<Expected> {
    let mut v = Vec::new();
    for line in text.lines() {
        let Some(pi) = line.find("[proto: ") else { continue };
        let head: Vec<&str> = line[..pi].split_whitespace().collect();
        // idx, proto, a, <-> or ->, b
        let [_, proto, a, _, b] = head[..] else { continue };
        let transport = match proto {
            "TCP" => 6,
            "UDP" => 17,
            _ => continue,
        };
        let (Ok(a), Ok(b)) = (a.parse::<SocketAddr>(), b.parse::<SocketAddr>()) else { continue };
        let label = line[pi + 8..].split(']').next().unwrap_or("");
        let label = label.split_once('/').map(|x| x.1).unwrap_or(label).to_string();
        let app_name = label.rsplit('.').next().unwrap_or("");
        v.push(Expected { key: Key::new(transport, a, b), app: App::from_name(app_name), label });
    }
    v
}

fn hex(b: &[u8]) -> String {
    b.iter().take(48).map(|x| format!("{x:02x}")).collect()
}

#[test]
fn agreement_with_ndpi() {
    let Some(dir) = testdata_dir("ndpi") else {
        eprintln!("skipping: nDPI test data not present");
        return;
    };
    let dump = std::env::var_os("MAMORI_APPS_DUMP").is_some();
    let mut per_app: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut others = Vec::new();
    let mut captures: Vec<PathBuf> = std::fs::read_dir(dir.join("pcap")).unwrap().map(|e| e.unwrap().path()).collect();
    captures.sort();
    for cap in captures {
        let name = cap.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(out) = std::fs::read_to_string(dir.join("result").join(format!("{name}.out"))) else { continue };
        let expected = parse_out(&out);
        if expected.is_empty() {
            continue;
        }
        let flows = support::flows(&cap);
        let by_key: HashMap<Key, &support::Flow> = flows
            .iter()
            .map(|f| {
                (Key::new(if f.facts.transport == mamori_apps::Transport::Tcp { 6 } else { 17 }, f.client, f.server), f)
            })
            .collect();
        for e in expected {
            let Some(app) = e.app else {
                // nDPI names something we do not: we should name nothing,
                // or a close relative (Skype_Teams/Teams, WhatsAppCall/WhatsApp).
                let ours = by_key.get(&e.key).and_then(|f| classify(&f.facts)).map(|d| d.app);
                if let Some(ours) = ours {
                    others.push(format!(
                        "{name}: {:?} {} <-> {} nDPI {} ours {}",
                        e.key.transport,
                        e.key.a,
                        e.key.b,
                        e.label,
                        ours.name()
                    ));
                }
                continue;
            };
            let entry = per_app.entry(app.name()).or_default();
            entry.0 += 1;
            let got = by_key.get(&e.key).and_then(|f| classify(&f.facts)).map(|d| d.app);
            if got == Some(app) {
                entry.1 += 1;
            } else {
                disagreements.push(format!(
                    "{name}: {:?} {} <-> {} nDPI {} ours {:?}",
                    e.key.transport,
                    e.key.a,
                    e.key.b,
                    e.label,
                    got.map(|a| a.name())
                ));
            }
            if dump {
                match by_key.get(&e.key) {
                    None => println!("DUMP {name} {} {}<->{} MISSING FLOW", e.label, e.key.a, e.key.b),
                    Some(f) => {
                        println!(
                            "DUMP {name} {} {}:{} -> {}:{} t={} ours={:?} names={:?}",
                            e.label,
                            f.client.ip(),
                            f.client.port(),
                            f.server.ip(),
                            f.server.port(),
                            e.key.transport,
                            got.map(|a| a.name()),
                            f.facts.names().collect::<Vec<_>>()
                        );
                        for d in [Direction::ToServer, Direction::ToClient] {
                            for p in f.facts.payloads(d).iter().take(3) {
                                println!("    {:?} len={} {}", d, p.len(), hex(p.head()));
                            }
                        }
                    }
                }
            }
        }
    }
    let total: usize = per_app.values().map(|v| v.0).sum();
    let agreed: usize = per_app.values().map(|v| v.1).sum();
    println!("app agreement with nDPI:");
    for (app, (n, ok)) in &per_app {
        println!("  {app:<12} {ok:>4}/{n:<4} {:5.1}%", 100.0 * *ok as f64 / *n as f64);
    }
    let pct = 100.0 * agreed as f64 / total.max(1) as f64;
    println!("  overall      {agreed:>4}/{total:<4} {pct:5.1}%");
    println!("disagreements ({}):", disagreements.len());
    for d in &disagreements {
        println!("  {d}");
    }
    println!("flows nDPI names otherwise that we name ({}):", others.len());
    for d in &others {
        println!("  {d}");
    }
    assert!(total > 0);
    assert!(pct >= RATCHET_PERCENT, "agreement {pct:.1}% fell below the ratchet {RATCHET_PERCENT}%");
}
