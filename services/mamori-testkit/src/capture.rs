//! Reading pcap and pcapng files into link-layer frames.
//!
//! Uses `pcap-file`, as the engine's replay does; the whole file is read into
//! memory first (test captures are small) so frames can borrow from it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a pcap or pcapng file: {what}")]
    Format { path: PathBuf, what: String },
}

/// One packet record of a capture.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// 1-based position among the capture's packet records (Wireshark's
    /// frame number, Suricata's `pcap_cnt`).
    pub number: u64,
    /// Capture time since the Unix epoch (zero for pcapng simple packets,
    /// which carry none).
    pub ts: Duration,
    /// `None` when a pcapng packet names an interface that was never
    /// described, so nothing says how to decode it.
    pub link: Option<DataLink>,
    /// Length on the wire; more than `data.len()` when the capture's snap
    /// length cut the frame.
    pub orig_len: u32,
    pub data: &'a [u8],
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Calls `f` for every packet record of the capture at `path`, in order.
///
/// A damaged record ends the capture (the frames before it have been seen):
/// test corpora hold captures cut short by their tools, and those are read
/// as far as they go. Only an unreadable file or one without a valid pcap or
/// pcapng header is an error.
pub fn for_each_frame(path: &Path, mut f: impl FnMut(&Frame<'_>)) -> Result<(), CaptureError> {
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Read { path: path.to_owned(), source })?;
    for_each_frame_in(&bytes, &mut f).map_err(|e| CaptureError::Format { path: path.to_owned(), what: e.to_string() })
}

/// [`for_each_frame`] over a capture already in memory.
pub(crate) fn for_each_frame_in(bytes: &[u8], f: &mut impl FnMut(&Frame<'_>)) -> Result<(), pcap_file::PcapError> {
    let mut number = 0u64;
    if bytes.get(..4) == Some(&PCAPNG_MAGIC[..]) {
        let mut reader = PcapNgReader::new(bytes)?;
        // (link type, timestamp units per second) per interface of the section.
        let mut interfaces: Vec<(DataLink, u64)> = Vec::new();
        while let Some(Ok(block)) = reader.next_block() {
            let (iface, ts, orig_len, data) = match block {
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
                    interfaces.push((idb.linktype, units));
                    continue;
                }
                // pcap-file hands over the raw timestamp as if it counted
                // nanoseconds, whatever the interface's resolution.
                Block::EnhancedPacket(epb) => {
                    (epb.interface_id as usize, Some(epb.timestamp.as_nanos()), epb.original_len, epb.data)
                }
                Block::Packet(pb) => {
                    (usize::from(pb.interface_id), Some(u128::from(pb.timestamp)), pb.original_len, pb.data)
                }
                Block::SimplePacket(spb) => (0, None, spb.original_len, spb.data),
                _ => continue,
            };
            number += 1;
            let interface = interfaces.get(iface).copied();
            let ts = match (ts, interface) {
                (Some(raw), Some((_, units))) => scale(raw, units),
                _ => Duration::ZERO,
            };
            f(&Frame { number, ts, link: interface.map(|i| i.0), orig_len, data: &data });
        }
    } else {
        let mut reader = PcapReader::new(bytes)?;
        let link = reader.header().datalink;
        while let Some(Ok(pkt)) = reader.next_packet() {
            number += 1;
            f(&Frame { number, ts: pkt.timestamp, link: Some(link), orig_len: pkt.orig_len, data: &pkt.data });
        }
    }
    Ok(())
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
    use super::*;

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
