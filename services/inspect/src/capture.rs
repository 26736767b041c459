//! Capture files as the engine's packets: `mamori-capture` reads the file,
//! this maps link types to the engine's and timestamps to microseconds.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use mamori_engine::LinkType;

pub use mamori_capture::CaptureError;

/// One packet from a capture file.
#[derive(Clone, Debug)]
pub struct CapturedPacket {
    pub ts_us: u64,
    pub link: LinkType,
    pub data: Vec<u8>,
}

/// Iterates the packets of a pcap or pcapng file. A damaged record ends the
/// iteration with an error naming the file; packets before it are kept.
pub struct Capture {
    frames: mamori_capture::Capture<BufReader<File>>,
    done: bool,
    /// Packets skipped for an unsupported link type.
    pub skipped: u64,
}

impl Capture {
    pub fn open(path: &Path) -> Result<Capture, CaptureError> {
        Ok(Capture { frames: mamori_capture::Capture::open(path)?, done: false, skipped: 0 })
    }
}

impl Iterator for Capture {
    type Item = Result<CapturedPacket, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let frame = match self.frames.next()? {
                Ok(f) => f,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let Some(linktype) = frame.linktype else {
                self.done = true;
                let path = self.frames.path().to_owned();
                let what = format!("packet {} names an interface its section does not describe", frame.number);
                return Some(Err(CaptureError::Format { path, what }));
            };
            let Ok(link) = LinkType::from_pcap(linktype) else {
                self.skipped += 1;
                continue;
            };
            let ts_us = u64::try_from(frame.ts.as_micros()).unwrap_or(u64::MAX);
            return Some(Ok(CapturedPacket { ts_us, link, data: frame.data }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
