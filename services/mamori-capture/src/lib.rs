//! Capture files (pcap and pcapng, via `pcap-file`) as an iterator of
//! numbered, timestamped link-layer frames. Used by the engine's replay
//! (`mamori-inspect replay`, the benchmarks) and by the parser crates' tests
//! (`mamori-testkit`), so both read captures the same way.
//!
//! What pcap-file leaves to its user is done here once: pcapng timestamps
//! are scaled by each interface's `if_tsresol`, interfaces are looked up per
//! section, and a damaged record ends the iteration with an error that names
//! the file (the frames before it have been delivered).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a pcap or pcapng file (magic {magic:02x?})")]
    NotACapture { path: PathBuf, magic: [u8; 4] },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
}

/// One packet record of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// 1-based position among the capture's packet records (Wireshark's
    /// frame number, Suricata's `pcap_cnt`).
    pub number: u64,
    /// Capture time since the Unix epoch (zero for pcapng simple packets,
    /// which carry none).
    pub ts: Duration,
    /// The pcap link type (`LINKTYPE_*`); `None` when a pcapng packet names
    /// an interface its section never described.
    pub linktype: Option<u32>,
    /// Length on the wire; more than `data.len()` when the snap length cut it.
    pub orig_len: u32,
    pub data: Vec<u8>,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGICS: [[u8; 4]; 4] =
    [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d]];

enum Inner<R: Read> {
    Pcap {
        reader: PcapReader<R>,
        linktype: u32,
    },
    /// (link type, timestamp units per second) per interface of the section.
    PcapNg {
        reader: PcapNgReader<R>,
        interfaces: Vec<(u32, u64)>,
    },
}

/// The frames of one capture, in order.
pub struct Capture<R: Read> {
    path: PathBuf,
    inner: Inner<R>,
    number: u64,
    done: bool,
}

impl Capture<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let open = || File::open(path).map_err(|source| CaptureError::Open { path: path.to_owned(), source });
        let mut magic = [0u8; 4];
        open()?.read_exact(&mut magic).map_err(|source| CaptureError::Open { path: path.to_owned(), source })?;
        Capture::new(BufReader::new(open()?), path, magic)
    }
}

impl<'a> Capture<&'a [u8]> {
    /// A capture already in memory; `path` only names it in errors.
    pub fn from_bytes(bytes: &'a [u8], path: &Path) -> Result<Self, CaptureError> {
        let mut magic = [0u8; 4];
        if let Some(m) = bytes.get(..4) {
            magic.copy_from_slice(m);
        }
        Capture::new(bytes, path, magic)
    }
}

impl<R: Read> Capture<R> {
    fn new(reader: R, path: &Path, magic: [u8; 4]) -> Result<Self, CaptureError> {
        let fmt = |e: pcap_file::PcapError| CaptureError::Format { path: path.to_owned(), what: e.to_string() };
        let inner = if magic == PCAPNG_MAGIC {
            Inner::PcapNg { reader: PcapNgReader::new(reader).map_err(fmt)?, interfaces: Vec::new() }
        } else if PCAP_MAGICS.contains(&magic) {
            let reader = PcapReader::new(reader).map_err(fmt)?;
            Inner::Pcap { linktype: u32::from(reader.header().datalink), reader }
        } else {
            return Err(CaptureError::NotACapture { path: path.to_owned(), magic });
        };
        Ok(Capture { path: path.to_owned(), inner, number: 0, done: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&mut self, what: String) -> Option<Result<Frame, CaptureError>> {
        self.done = true;
        Some(Err(CaptureError::Format { path: self.path.clone(), what }))
    }
}

impl<R: Read> Iterator for Capture<R> {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match &mut self.inner {
                Inner::Pcap { reader, linktype } => {
                    let linktype = *linktype;
                    let pkt = match reader.next_packet()? {
                        Ok(p) => p,
                        Err(e) => return self.fail(e.to_string()),
                    };
                    self.number += 1;
                    return Some(Ok(Frame {
                        number: self.number,
                        ts: pkt.timestamp,
                        linktype: Some(linktype),
                        orig_len: pkt.orig_len,
                        data: pkt.data.into_owned(),
                    }));
                }
                Inner::PcapNg { reader, interfaces } => {
                    let block = match reader.next_block()? {
                        Ok(b) => b,
                        Err(e) => return self.fail(e.to_string()),
                    };
                    // pcap-file hands over the raw timestamp as if it counted
                    // nanoseconds, whatever the interface's resolution.
                    let (iface, raw_ts, orig_len, data) = match block {
                        Block::SectionHeader(_) => {
                            // A new section describes its interfaces afresh.
                            interfaces.clear();
                            continue;
                        }
                        Block::InterfaceDescription(idb) => {
                            let units = idb
                                .options
                                .iter()
                                .find_map(|o| match o {
                                    InterfaceDescriptionOption::IfTsResol(v) => Some(tsresol_units(*v)),
                                    _ => None,
                                })
                                .unwrap_or(1_000_000);
                            interfaces.push((u32::from(idb.linktype), units));
                            continue;
                        }
                        Block::EnhancedPacket(epb) => {
                            (epb.interface_id as usize, Some(epb.timestamp.as_nanos()), epb.original_len, epb.data)
                        }
                        Block::Packet(pb) => {
                            (usize::from(pb.interface_id), Some(u128::from(pb.timestamp)), pb.original_len, pb.data)
                        }
                        Block::SimplePacket(spb) => (0, None, spb.original_len, spb.data),
                        _ => continue,
                    };
                    let interface = interfaces.get(iface).copied();
                    let ts = match (raw_ts, interface) {
                        (Some(raw), Some((_, units))) => scale(raw, units),
                        _ => Duration::ZERO,
                    };
                    self.number += 1;
                    return Some(Ok(Frame {
                        number: self.number,
                        ts,
                        linktype: interface.map(|i| i.0),
                        orig_len,
                        data: data.into_owned(),
                    }));
                }
            }
        }
    }
}

/// Units per second of a pcapng `if_tsresol` value: a power of ten, or of
/// two when the top bit is set. Absurd exponents fall back to microseconds.
fn tsresol_units(v: u8) -> u64 {
    let exp = u32::from(v & 0x7f);
    let units = if v & 0x80 != 0 { 2u64.checked_pow(exp) } else { 10u64.checked_pow(exp) };
    units.filter(|u| *u > 0).unwrap_or(1_000_000)
}

fn scale(raw: u128, units_per_sec: u64) -> Duration {
    let units = u128::from(units_per_sec.max(1));
    let secs = u64::try_from(raw / units).unwrap_or(u64::MAX);
    let nanos = ((raw % units) * 1_000_000_000 / units) as u32;
    Duration::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;

    use super::*;

    const T0: u64 = 1_700_000_000_000_000;

    fn pcap(frames: &[&[u8]]) -> Vec<u8> {
        let header = PcapHeader { datalink: DataLink::ETHERNET, ..PcapHeader::default() };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let ts = Duration::from_micros(T0 + i as u64);
            w.write_packet(&PcapPacket::new(ts, f.len() as u32 + 4, f)).unwrap();
        }
        w.into_writer()
    }

    fn pcapng(tsresol: u8, frames: &[(u32, &[u8])]) -> Vec<u8> {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(tsresol)],
        };
        w.write_block(&Block::InterfaceDescription(idb)).unwrap();
        for (i, (iface, f)) in frames.iter().enumerate() {
            let epb = EnhancedPacketBlock {
                interface_id: *iface,
                // Written as its nanoseconds: the raw value the reader scales.
                timestamp: Duration::from_nanos(T0 + i as u64),
                original_len: f.len() as u32,
                data: Cow::Borrowed(f),
                options: vec![],
            };
            w.write_block(&Block::EnhancedPacket(epb)).unwrap();
        }
        w.into_inner()
    }

    fn read(bytes: &[u8]) -> Vec<Result<Frame, CaptureError>> {
        Capture::from_bytes(bytes, Path::new("t.pcap")).unwrap().collect()
    }

    #[test]
    fn pcap_frames_are_numbered_and_timestamped() {
        let got = read(&pcap(&[b"one", b"two"]));
        let f: Vec<Frame> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].number, f[1].number), (1, 2));
        assert_eq!(f[1].ts, Duration::from_micros(T0 + 1));
        assert_eq!(f[0].linktype, Some(1));
        assert_eq!((f[0].orig_len, &f[0].data[..]), (7, &b"one"[..]));
    }

    #[test]
    fn pcapng_timestamps_follow_the_interface_resolution() {
        // Raw value T0 at 10^-6 s per unit (if_tsresol 6) is T0 µs...
        let f = read(&pcapng(6, &[(0, b"a")])).remove(0).unwrap();
        assert_eq!(f.ts, Duration::from_micros(T0));
        // ...and at 10^-9 s per unit it is T0 ns.
        let f = read(&pcapng(9, &[(0, b"a")])).remove(0).unwrap();
        assert_eq!(f.ts, Duration::from_nanos(T0));
    }

    #[test]
    fn a_packet_on_an_undescribed_interface_has_no_link_type() {
        // pcap-file's writer refuses such a packet; append one by hand (an
        // enhanced packet block, little-endian like the writer's output).
        let mut bytes = pcapng(6, &[(0, b"a")]);
        let data = b"b\0\0\0";
        let len = 32 + data.len() as u32;
        for v in [6u32, len, 3, 0, 0, 1, 1] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&len.to_le_bytes());
        let f: Vec<Frame> = read(&bytes).into_iter().map(Result::unwrap).collect();
        assert_eq!((f[0].linktype, f[1].linktype), (Some(1), None));
        assert_eq!(f[1].number, 2);
    }

    #[test]
    fn a_cut_record_ends_with_an_error_naming_the_file() {
        let full = pcap(&[b"first frame", b"second frame"]);
        let got = read(&full[..full.len() - 5]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].is_ok());
        let err = got[1].as_ref().unwrap_err().to_string();
        assert!(err.starts_with("t.pcap: "), "{err}");
    }

    #[test]
    fn what_is_not_a_capture_says_so() {
        for bytes in [&b"hello world"[..], b"", b"\x0a\x0d"] {
            let err = Capture::from_bytes(bytes, Path::new("x.pcap")).err().unwrap().to_string();
            assert!(err.contains("x.pcap") && err.contains("not a pcap"), "{err}");
        }
        let missing = Capture::open(Path::new("/nonexistent/mamori.pcap")).err().unwrap();
        assert!(matches!(missing, CaptureError::Open { .. }));
    }

    #[test]
    fn tsresol_decimal_and_binary() {
        assert_eq!(tsresol_units(6), 1_000_000);
        assert_eq!(tsresol_units(9), 1_000_000_000);
        assert_eq!(tsresol_units(0x80 | 10), 1024);
        assert_eq!(tsresol_units(0x7f), 1_000_000);
    }

    #[test]
    fn raw_timestamps_are_scaled_by_resolution() {
        assert_eq!(scale(1_500_000, 1_000_000), Duration::from_millis(1500));
        assert_eq!(scale(1_500_000_000, 1_000_000_000), Duration::from_millis(1500));
        assert_eq!(scale(1536, 1024), Duration::from_millis(1500));
    }
}
