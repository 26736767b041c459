//! Capture files as the tests' frames: `mamori-capture` (the engine's
//! replay reads captures with it too) does the reading; the whole file is
//! read into memory first (test captures are small) so frames can be lent.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Calls `f` for every packet record of the capture at `path`, in order.
///
/// A damaged record ends the capture (the frames before it have been seen):
/// test corpora hold captures cut short by their tools, and those are read
/// as far as they go. Only an unreadable file or one without a valid pcap or
/// pcapng header is an error.
pub fn for_each_frame(path: &Path, mut f: impl FnMut(&Frame<'_>)) -> Result<(), CaptureError> {
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Read { path: path.to_owned(), source })?;
    for_each_frame_in(&bytes, path, &mut f)
}

/// [`for_each_frame`] over a capture already in memory (`path` names it in errors).
pub(crate) fn for_each_frame_in(bytes: &[u8], path: &Path, f: &mut impl FnMut(&Frame<'_>)) -> Result<(), CaptureError> {
    let frames = mamori_capture::Capture::from_bytes(bytes, path)
        .map_err(|e| CaptureError::Format { path: path.to_owned(), what: e.to_string() })?;
    for frame in frames.map_while(Result::ok) {
        f(&Frame {
            number: frame.number,
            ts: frame.ts,
            link: frame.linktype.map(DataLink::from),
            orig_len: frame.orig_len,
            data: &frame.data,
        });
    }
    Ok(())
}
