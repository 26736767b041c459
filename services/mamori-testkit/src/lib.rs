//! Test-only helpers shared by the parser crates' integration tests, so that
//! each does not carry its own capture reader and packet decoder.
//!
//! - [`testdata`] / [`testdata_dir`]: the external corpora in `shared/testdata`
//!   (absent on some machines: callers skip their test then).
//! - [`read_capture`]: every TCP/UDP packet of a pcap or pcapng file as a
//!   [`Segment`]. Decoding is mamori-wire's (the engine's own decoder), so the
//!   tests see packets the way the engine does; nothing panics on malformed
//!   data, which is skipped.
//! - [`group_flows`]: segments grouped per bidirectional flow.
//! - [`TcpDir`]: in-order delivery of one TCP direction.
//! - [`ndpi`]: nDPI's expected per-flow results for its own captures.
//!
//! Not a product crate (`publish = false`): only `[dev-dependencies]` use it.

pub mod capture;
pub mod decode;
pub mod flows;
pub mod ndpi;
pub mod reasm;

use std::path::{Path, PathBuf};

pub use capture::{for_each_frame, CaptureError, Frame};
pub use decode::{decode_frame, Segment, Skipped, Transport, L4};
pub use flows::{group_flows, Flow, FlowKey};
pub use mamori_wire::TcpFlags;
pub use reasm::{Delivery, TcpDir};

/// The project's `shared/testdata` folder, or `None` (with a notice on
/// stderr) when this checkout has no test corpora.
pub fn testdata() -> Option<PathBuf> {
    existing_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"))
}

/// `shared/testdata/<rel>` if that folder exists, else `None` with a notice.
pub fn testdata_dir(rel: &str) -> Option<PathBuf> {
    existing_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata").join(rel))
}

fn existing_dir(p: PathBuf) -> Option<PathBuf> {
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("NOTICE: {} not found, skipping", p.display());
        None
    }
}

/// Every TCP and UDP packet of a capture, in capture order.
///
/// Frames that are not TCP/UDP over IPv4/IPv6, or are malformed, are skipped
/// (see [`Skipped`]). A damaged record ends the capture, keeping the packets
/// before it, as tcpdump does; only a file that cannot be read or is not a
/// capture at all is an error.
pub fn read_capture(path: &Path) -> Result<Vec<Segment>, CaptureError> {
    let mut out = Vec::new();
    for_each_frame(path, |frame| {
        if let Ok(seg) = decode_frame(frame) {
            out.push(seg);
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use mamori_wire::build;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
    use pcap_file::pcapng::{Block, PcapNgWriter};
    use pcap_file::DataLink;

    use super::*;
    use crate::capture::for_each_frame_in;
    use crate::decode::tests::{ip, tcp, MAC_A, MAC_B};

    fn segments_in(bytes: &[u8]) -> Vec<Segment> {
        let mut out = Vec::new();
        let _ = for_each_frame_in(bytes, Path::new("test.pcap"), &mut |f| out.extend(decode_frame(f).ok()));
        out
    }

    /// Frames: a TCP segment, an ARP request, a UDP datagram over IPv6.
    fn frames() -> Vec<Vec<u8>> {
        let mut arp = [MAC_B, MAC_A].concat();
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        vec![
            build::ethernet(MAC_A, MAC_B, &tcp("10.0.0.1", "10.0.0.2", 40000, 80, 1, 0x18, b"GET / HTTP/1.1\r\n")),
            arp,
            build::ethernet(MAC_A, MAC_B, &build::udp_packet(ip("2001:db8::1"), ip("2001:db8::2"), 5353, 53, b"q")),
        ]
    }

    fn pcap_bytes() -> Vec<u8> {
        let header = PcapHeader { datalink: DataLink::ETHERNET, ..PcapHeader::default() };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (i, f) in frames().iter().enumerate() {
            let ts = Duration::from_micros(1_700_000_000_000_000 + i as u64);
            w.write_packet(&PcapPacket::new(ts, f.len() as u32, f)).unwrap();
        }
        w.into_writer()
    }

    fn check(segs: &[Segment]) {
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].frame, segs[0].l4(), &segs[0].payload[..]), (1, L4::Tcp, &b"GET / HTTP/1.1\r\n"[..]));
        assert_eq!((segs[1].frame, segs[1].l4(), &segs[1].payload[..]), (3, L4::Udp, &b"q"[..]));
        assert_eq!(segs[1].ts, Duration::from_micros(1_700_000_000_000_002));
    }

    #[test]
    fn pcap_frames_are_numbered_and_timestamped() {
        check(&segments_in(&pcap_bytes()));
    }

    #[test]
    fn pcapng_timestamps_follow_the_interface_resolution() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        // pcap-file writes the Duration's nanoseconds as the raw value, so the
        // interface must say it counts nanoseconds.
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        w.write_block(&Block::InterfaceDescription(idb)).unwrap();
        for (i, f) in frames().iter().enumerate() {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::from_micros(1_700_000_000_000_000 + i as u64),
                original_len: f.len() as u32,
                data: Cow::Borrowed(f),
                options: vec![],
            };
            w.write_block(&Block::EnhancedPacket(epb)).unwrap();
        }
        check(&segments_in(&w.into_inner()));
    }

    #[test]
    fn a_cut_record_ends_the_capture_keeping_what_came_before() {
        let full = pcap_bytes();
        // The last record (the UDP frame) loses its tail.
        let cut = &full[..full.len() - 10];
        let segs = segments_in(cut);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].frame, 1);
    }

    #[test]
    fn damaged_captures_never_panic() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let pcap = pcap_bytes();
        let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
        let idb = InterfaceDescriptionBlock { linktype: DataLink::ETHERNET, snaplen: 0, options: vec![] };
        ng.write_block(&Block::InterfaceDescription(idb)).unwrap();
        for f in frames() {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::ZERO,
                original_len: f.len() as u32,
                data: Cow::Owned(f),
                options: vec![],
            };
            ng.write_block(&Block::EnhancedPacket(epb)).unwrap();
        }
        let ng = ng.into_inner();
        for i in 0..5_000 {
            let mut b = if i % 2 == 0 { pcap.clone() } else { ng.clone() };
            for _ in 0..1 + next() % 6 {
                let at = 4 + (next() as usize) % (b.len() - 4);
                b[at] = next() as u8;
            }
            if i % 5 == 0 {
                b.truncate((next() as usize) % (b.len() + 1));
            }
            let _ = segments_in(&b);
        }
    }

    #[test]
    fn a_missing_corpus_is_none() {
        assert_eq!(testdata_dir("no-such-corpus"), None);
    }

    #[test]
    fn unreadable_or_foreign_files_are_errors_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("mamori-testkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("notes.pcap");
        std::fs::write(&text, b"hello, this is not a capture").unwrap();
        let err = read_capture(&text).unwrap_err().to_string();
        assert!(err.contains("notes.pcap") && err.contains("not a pcap"), "{err}");
        let missing = dir.join("missing.pcap");
        assert!(matches!(read_capture(&missing), Err(CaptureError::Read { .. })));
        let good = dir.join("good.pcap");
        std::fs::write(&good, pcap_bytes()).unwrap();
        check(&read_capture(&good).unwrap());
        std::fs::remove_dir_all(&dir).ok();
    }
}
