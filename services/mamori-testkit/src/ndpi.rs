//! nDPI's expected per-flow results (`shared/testdata/ndpi/result/*.out`)
//! for its own captures, and agreement counting against them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::decode::L4;
use crate::flows::FlowKey;

/// One flow line of an nDPI result file.
#[derive(Clone, Debug, Default)]
pub struct NdpiFlow {
    pub proto: String,
    pub sni: Option<String>,
    pub ja3c: Option<String>,
    pub ja4: Option<String>,
    pub ua: Option<String>,
    pub quic_version: Option<String>,
    pub alpns: Option<String>,
}

/// The value of `[name: value]` on an nDPI flow line.
pub fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("[{name}: "))? + name.len() + 3;
    let end = line.get(start..)?.find(']')? + start;
    line.get(start..end)
}

/// The TCP and UDP flows of a result file, by flow key. An unreadable file
/// gives none.
pub fn read_ndpi(path: &Path) -> HashMap<FlowKey, NdpiFlow> {
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(_n), Some(l4), Some(x), Some(_arrow), Some(y)) =
            (words.next(), words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let l4 = match l4 {
            "TCP" => L4::Tcp,
            "UDP" => L4::Udp,
            _ => continue,
        };
        let (Some(x), Some(y)) = (parse_ndpi_addr(x), parse_ndpi_addr(y)) else {
            continue;
        };
        let field = |name: &str| field(line, name).map(str::to_string);
        out.insert(
            FlowKey::new(l4, x, y),
            NdpiFlow {
                proto: field("proto").unwrap_or_default(),
                sni: field("Hostname/SNI"),
                ja3c: field("JA3C"),
                ja4: field("JA4"),
                ua: field("User-Agent"),
                quic_version: field("QUIC ver"),
                alpns: field("(Advertised) ALPNs"),
            },
        );
    }
    out
}

/// nDPI sometimes prints a lone zero IPv6 group as `::` too
/// (`2600:1901::7a0b::`); read that as `:0:` when the plain parse fails.
pub fn parse_ndpi_addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok().or_else(|| s.replacen("::", ":0:", 1).parse().ok())
}

/// The nDPI captures that have a result file, as (capture, result) pairs
/// sorted by name; none without the test data.
pub fn ndpi_captures() -> Vec<(PathBuf, PathBuf)> {
    let Some(td) = crate::testdata() else {
        return Vec::new();
    };
    let dir = td.join("ndpi/pcap");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let res = td.join("ndpi/result").join(format!("{name}.out"));
        if res.is_file() {
            out.push((p, res));
        }
    }
    out.sort();
    out
}

/// Agreement counter for one field.
#[derive(Default, Clone, Copy, Debug)]
pub struct Score {
    pub total: usize,
    pub equal: usize,
    /// Differs only in a documented, systematic way.
    pub explained: usize,
}

impl Score {
    pub fn add(&mut self, other: Score) {
        self.total += other.total;
        self.equal += other.equal;
        self.explained += other.explained;
    }

    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * (self.equal + self.explained) as f64 / self.total as f64
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} (+{} explained) {:.1}%", self.equal, self.total, self.explained, self.percent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_flow_lines() {
        let line = "  1  TCP 192.168.1.2:50000 <-> [2600:1901::7a0b::]:443 [proto: 91.178/TLS.Amazon][JA3C: abc][Hostname/SNI: example.com]";
        assert_eq!(field(line, "proto"), Some("91.178/TLS.Amazon"));
        assert_eq!(field(line, "JA4"), None);
        let dir = std::env::temp_dir().join(format!("mamori-testkit-ndpi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.out");
        std::fs::write(&p, format!("Guessed flow protos: 0\n{line}\n  2  ICMP 1.2.3.4 <-> 5.6.7.8 [proto: 81/ICMP]\n"))
            .unwrap();
        let flows = read_ndpi(&p);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(flows.len(), 1);
        let key =
            FlowKey::new(L4::Tcp, "[2600:1901:0:7a0b::]:443".parse().unwrap(), "192.168.1.2:50000".parse().unwrap());
        let f = &flows[&key];
        assert_eq!(
            (f.proto.as_str(), f.sni.as_deref(), f.ja3c.as_deref()),
            ("91.178/TLS.Amazon", Some("example.com"), Some("abc"))
        );
    }

    #[test]
    fn score_counts_explained_as_agreeing() {
        let mut s = Score { total: 4, equal: 2, explained: 1 };
        assert_eq!(s.to_string(), "2/4 (+1 explained) 75.0%");
        s.add(Score { total: 0, equal: 0, explained: 0 });
        assert_eq!(Score::default().percent(), 100.0);
    }
}
