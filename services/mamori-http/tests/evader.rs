//! Replays all http-evader cases of suricata-verify: each serves the EICAR
//! test file through one HTTP evasion, and Suricata 8 must log exactly one
//! file `eicar.txt` whose transaction is a GET to evader.example.com and
//! whose content holds EICAR.

mod common;

use common::{run_pcap, testdata};
use mamori_applayer::FileEnd;

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Cases passing when this was last raised; it only goes up.
const RATCHET: usize = 100;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn check_case(dir: &std::path::Path) -> Result<String, String> {
    let yaml = std::fs::read_to_string(dir.join("test.yaml")).map_err(|e| e.to_string())?;
    // Suricata checks the file name only where the test says so (the
    // HTTP/0.9 case has no fileinfo check: its file is named by the path).
    let want_name = yaml.contains("fileinfo.filename: eicar.txt");
    let outcomes = run_pcap(&dir.join("input.pcap"));
    if outcomes.len() != 1 {
        return Err(format!("{} flows", outcomes.len()));
    }
    let o = &outcomes[0];
    let files = &o.files.files;
    if files.len() != 1 {
        let names: Vec<String> = files.iter().map(|f| String::from_utf8_lossy(&f.meta.name).into_owned()).collect();
        return Err(format!("{} files {:?}", files.len(), names));
    }
    let f = &files[0];
    if want_name && f.meta.name != b"eicar.txt" {
        return Err(format!("name {:?}", String::from_utf8_lossy(&f.meta.name)));
    }
    let tx = o.txs.get(&f.meta.tx_id).ok_or("file tx missing")?;
    if tx.request.method != b"GET" {
        return Err("method".into());
    }
    if tx.request.host.as_deref() != Some(&b"evader.example.com"[..]) {
        return Err("host".into());
    }
    if !contains(&f.content, EICAR) {
        return Err(format!("content {:?}", String::from_utf8_lossy(&f.content[..f.content.len().min(80)])));
    }
    let end = match f.end {
        Some(FileEnd::Closed) => "closed",
        Some(FileEnd::Truncated) => "truncated",
        None => "open!",
    };
    if f.end.is_none() {
        return Err("file never closed".into());
    }
    Ok(format!("{} bytes, {end}, {:?}", f.content.len(), o.anomalies()))
}

#[test]
fn http_evader_cases() {
    let Some(data) = testdata() else { return };
    let root = data.join("suricata-verify/tests/http-evader");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("http-evader dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("input.pcap").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 100, "expected 100 http-evader cases");
    let mut pass = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        match check_case(case) {
            Ok(info) => {
                pass += 1;
                println!("PASS {name:18} {info}");
            }
            Err(why) => println!("FAIL {name:18} {why}"),
        }
    }
    println!("http-evader: {pass}/{} passed", cases.len());
    assert!(pass >= RATCHET, "http-evader regressed: {pass} < {RATCHET}");
}

/// The same captures fed one byte per call must give the same files.
#[test]
fn http_evader_cases_are_segmentation_independent() {
    use common::{read_flows, run_events, Ev};
    use mamori_http::HttpConfig;
    let Some(data) = testdata() else { return };
    let root = data.join("suricata-verify/tests/http-evader");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).expect("http-evader dir") {
        let pcap = entry.expect("entry").path().join("input.pcap");
        if !pcap.is_file() {
            continue;
        }
        for flow in read_flows(&pcap) {
            let whole = run_events(&flow.events, HttpConfig::default());
            let bytewise: Vec<Ev> = flow
                .events
                .iter()
                .flat_map(|e| match e {
                    Ev::Data(d, b) => b.iter().map(|&x| Ev::Data(*d, vec![x])).collect(),
                    other => vec![other.clone()],
                })
                .collect();
            let split = run_events(&bytewise, HttpConfig::default());
            let summary = |o: &common::Outcome| -> Vec<_> {
                o.files.files.iter().map(|f| (f.meta.name.clone(), f.content.clone(), f.end)).collect()
            };
            assert_eq!(summary(&whole), summary(&split), "{}", pcap.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 100);
}
