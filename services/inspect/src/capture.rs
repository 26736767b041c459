//! Reading pcap and pcapng files into timestamped packets.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use mamori_engine::LinkType;
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
    #[error("{path}: link type {linktype} is not supported")]
    Link { path: PathBuf, linktype: u32 },
}

/// One packet from a capture file.
#[derive(Clone, Debug)]
pub struct CapturedPacket {
    pub ts_us: u64,
    pub link: LinkType,
    pub data: Vec<u8>,
}

enum Inner {
    Pcap { reader: PcapReader<BufReader<File>>, link: Result<LinkType, u32> },
    PcapNg { reader: PcapNgReader<BufReader<File>>, interfaces: Vec<(Result<LinkType, u32>, u64)> },
}

/// Iterates the packets of a pcap or pcapng file. A damaged record ends the
/// iteration with an error naming the file; packets before it are kept.
pub struct Capture {
    path: PathBuf,
    inner: Inner,
    done: bool,
    /// Packets skipped for an unsupported link type.
    pub skipped: u64,
}

impl Capture {
    pub fn open(path: &Path) -> Result<Capture, CaptureError> {
        let open = || File::open(path).map_err(|source| CaptureError::Open { path: path.to_owned(), source });
        let mut magic = [0u8; 4];
        open()?.read_exact(&mut magic).map_err(|source| CaptureError::Open { path: path.to_owned(), source })?;
        let fmt = |e: pcap_file::PcapError| CaptureError::Format { path: path.to_owned(), what: e.to_string() };
        let inner = match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => Inner::PcapNg {
                reader: PcapNgReader::new(BufReader::new(open()?)).map_err(fmt)?,
                interfaces: Vec::new(),
            },
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d] => {
                let reader = PcapReader::new(BufReader::new(open()?)).map_err(fmt)?;
                let dlt = u32::from(reader.header().datalink);
                Inner::Pcap { link: LinkType::from_pcap(dlt).map_err(|_| dlt), reader }
            }
            _ => return Err(CaptureError::NotACapture { path: path.to_owned(), magic }),
        };
        Ok(Capture { path: path.to_owned(), inner, done: false, skipped: 0 })
    }

    fn format_err(&mut self, what: String) -> Option<Result<CapturedPacket, CaptureError>> {
        self.done = true;
        Some(Err(CaptureError::Format { path: self.path.clone(), what }))
    }
}

/// Units per second of a pcapng `if_tsresol` value.
fn tsresol_units(v: u8) -> u64 {
    let exp = u32::from(v & 0x7f);
    if v & 0x80 != 0 {
        2u64.checked_pow(exp).unwrap_or(1_000_000)
    } else {
        10u64.checked_pow(exp).unwrap_or(1_000_000)
    }
}

impl Iterator for Capture {
    type Item = Result<CapturedPacket, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match &mut self.inner {
                Inner::Pcap { reader, link } => {
                    let pkt = match reader.next_packet()? {
                        Ok(p) => p,
                        Err(e) => return self.format_err(e.to_string()),
                    };
                    let Ok(link) = *link else {
                        self.skipped += 1;
                        continue;
                    };
                    let ts_us = pkt.timestamp.as_micros() as u64;
                    return Some(Ok(CapturedPacket { ts_us, link, data: pkt.data.into_owned() }));
                }
                Inner::PcapNg { reader, interfaces } => {
                    let block = match reader.next_block()? {
                        Ok(b) => b,
                        Err(e) => return self.format_err(e.to_string()),
                    };
                    let (iface, raw_ts, data) = match block {
                        Block::InterfaceDescription(idb) => {
                            let dlt = u32::from(idb.linktype);
                            let units = idb
                                .options
                                .iter()
                                .find_map(|o| match o {
                                    InterfaceDescriptionOption::IfTsResol(v) => Some(tsresol_units(*v)),
                                    _ => None,
                                })
                                .unwrap_or(1_000_000);
                            interfaces.push((LinkType::from_pcap(dlt).map_err(|_| dlt), units));
                            continue;
                        }
                        Block::SectionHeader(_) => {
                            // A new section redefines its interfaces.
                            interfaces.clear();
                            continue;
                        }
                        Block::EnhancedPacket(epb) => {
                            // pcap-file reports the raw timestamp as nanoseconds
                            // whatever the interface's resolution; rescale.
                            (epb.interface_id as usize, epb.timestamp.as_nanos() as u64, epb.data.into_owned())
                        }
                        Block::SimplePacket(spb) => (0, 0, spb.data.into_owned()),
                        _ => continue,
                    };
                    let Some((link, units)) = interfaces.get(iface).copied() else {
                        return self.format_err(format!("packet names interface {iface}, which is not described"));
                    };
                    let Ok(link) = link else {
                        self.skipped += 1;
                        continue;
                    };
                    let ts_us = if units == 1_000_000 {
                        raw_ts
                    } else {
                        ((u128::from(raw_ts) * 1_000_000) / u128::from(units.max(1))) as u64
                    };
                    return Some(Ok(CapturedPacket { ts_us, link, data }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_decimal_and_binary() {
        assert_eq!(tsresol_units(6), 1_000_000);
        assert_eq!(tsresol_units(9), 1_000_000_000);
        assert_eq!(tsresol_units(0x80 | 10), 1024);
    }

    #[test]
    fn a_text_file_is_not_a_capture() {
        let dir = std::env::temp_dir().join(format!("mamori-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.pcap");
        std::fs::write(&p, b"hello world").unwrap();
        let err = Capture::open(&p).err().unwrap().to_string();
        assert!(err.contains("x.pcap") && err.contains("not a pcap"), "{err}");
    }
}
