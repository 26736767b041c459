//! Blocklist files: one IPv4/IPv6 address or CIDR per line, `#` starts a comment.
//!
//! A bad line is counted and reported with its line number and the rest of the file is kept: one
//! garbled entry in a feed must not unblock the others.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use thiserror::Error;

use crate::intervals::{canonical, Interval};

/// A line longer than this can't be an address; only its start is quoted back.
const QUOTE_MAX: usize = 64;

#[derive(Debug, Error)]
pub enum BlocklistError {
    /// Anything but "file missing": the caller keeps the sets as they are rather than emptying them.
    #[error("{file}: cannot read: {source}")]
    Read { file: PathBuf, source: io::Error },
}

/// A line that isn't an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub text: String,
    pub reason: &'static str,
}

/// The networks to block, canonical per family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blocklist {
    pub v4: Vec<Interval<Ipv4Addr>>,
    pub v6: Vec<Interval<Ipv6Addr>>,
}

impl Blocklist {
    pub fn from_nets(nets: impl IntoIterator<Item = IpNet>) -> Blocklist {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for net in nets {
            match net {
                IpNet::V4(n) => v4.extend(Interval::prefix(n.addr(), u32::from(n.prefix_len()))),
                IpNet::V6(n) => v6.extend(Interval::prefix(n.addr(), u32::from(n.prefix_len()))),
            }
        }
        Blocklist { v4: canonical(v4), v6: canonical(v6) }
    }
}

/// Parses one file's text.
pub fn parse(text: &str) -> (Vec<IpNet>, Vec<BadLine>) {
    let mut nets = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match parse_entry(line) {
            Ok(net) => nets.push(net),
            Err(reason) => bad.push(BadLine { line: i + 1, text: quote(line), reason }),
        }
    }
    (nets, bad)
}

fn parse_entry(s: &str) -> Result<IpNet, &'static str> {
    let net = match s.parse::<IpNet>() {
        // Host bits set (10.1.2.3/8) means the network; nft would mask them the same way.
        Ok(net) => net.trunc(),
        Err(_) => IpNet::from(s.parse::<IpAddr>().map_err(|_| "not an IP address or CIDR")?),
    };
    if net.prefix_len() == 0 {
        return Err("refusing to block every address");
    }
    Ok(net)
}

fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// Bad lines of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub file: PathBuf,
    pub entries: usize,
    pub bad: Vec<BadLine>,
    pub missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub blocklist: Blocklist,
    pub files: Vec<FileReport>,
}

/// Reads all files. A missing file counts as empty (the state partition may not have one yet).
pub fn load(files: &[PathBuf]) -> Result<Loaded, BlocklistError> {
    let mut all = Vec::new();
    let mut reports = Vec::new();
    for file in files {
        let report = match read(file)? {
            None => FileReport { file: file.clone(), entries: 0, bad: vec![], missing: true },
            Some(text) => {
                let (nets, bad) = parse(&text);
                let entries = nets.len();
                all.extend(nets);
                FileReport { file: file.clone(), entries, bad, missing: false }
            }
        };
        reports.push(report);
    }
    Ok(Loaded { blocklist: Blocklist::from_nets(all), files: reports })
}

fn read(file: &Path) -> Result<Option<String>, BlocklistError> {
    match std::fs::read(file) {
        // Feeds are ASCII; a stray non-UTF-8 byte only spoils its own line.
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(BlocklistError::Read { file: file.to_owned(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_with_line_numbers_and_the_rest_kept() {
        let text = "# feed\n\n192.0.2.1\n10.1.2.3/8   # host bits\nnot-an-ip\n2001:db8::/32\n0.0.0.0/0\n198.51.100.0/33\n::1\n";
        let (nets, bad) = parse(text);
        let nets: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["192.0.2.1/32", "10.0.0.0/8", "2001:db8::/32", "::1/128"]);
        assert_eq!(
            bad,
            vec![
                BadLine { line: 5, text: "not-an-ip".into(), reason: "not an IP address or CIDR" },
                BadLine { line: 7, text: "0.0.0.0/0".into(), reason: "refusing to block every address" },
                BadLine { line: 8, text: "198.51.100.0/33".into(), reason: "not an IP address or CIDR" },
            ]
        );
    }

    #[test]
    fn long_garbage_is_quoted_short() {
        let (_, bad) = parse(&"x".repeat(10_000));
        assert_eq!(bad[0].text.chars().count(), QUOTE_MAX + 1);
    }

    #[test]
    fn files_merge_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        std::fs::write(&a, "10.0.0.0/24\n2001:db8::1\n").unwrap();
        std::fs::write(&b, "10.0.1.0/24\nbogus\n").unwrap();
        let missing = dir.path().join("missing.txt");
        let l = load(&[a, b, missing]).unwrap();
        assert_eq!(l.blocklist.v4.iter().map(ToString::to_string).collect::<Vec<_>>(), ["10.0.0.0/23"]);
        assert_eq!(l.blocklist.v6.iter().map(ToString::to_string).collect::<Vec<_>>(), ["2001:db8::1"]);
        assert_eq!(
            l.files.iter().map(|f| (f.entries, f.bad.len(), f.missing)).collect::<Vec<_>>(),
            [(2, 0, false), (1, 1, false), (0, 0, true)]
        );
    }

    #[test]
    fn an_unreadable_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        // A directory can't be read as a file: stands in for EACCES, which root would bypass.
        let e = load(&[dir.path().to_owned()]).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
