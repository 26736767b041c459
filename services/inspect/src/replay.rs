//! Replaying captures through the engine, as Suricata's `-r` does.

use std::io::Write;
use std::path::Path;

use mamori_engine::{Engine, EngineConfig, EveRecord, PacketIn, Timestamp, Verdict};
use mamori_eve::EveWriter;

use crate::capture::{Capture, CaptureError};

#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    pub engine: EngineConfig,
    /// Act as if inline: count what would have been dropped.
    pub simulate_ips: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    pub packets: u64,
    pub bytes: u64,
    pub events: u64,
    /// Packets the engine would have dropped inline.
    pub dropped: u64,
    /// A damaged capture ends early; what was read is still inspected.
    pub capture_error: Option<String>,
}

/// Replay `pcap` and pass every EVE record to `sink`.
pub fn replay_with(
    pcap: &Path,
    opts: &ReplayOptions,
    mut sink: impl FnMut(&EveRecord) -> std::io::Result<()>,
) -> Result<ReplaySummary, ReplayError> {
    let capture = Capture::open(pcap)?;
    let mut engine = Engine::new(opts.engine.clone());
    let mut summary = ReplaySummary::default();
    let mut out = Vec::new();
    for (n, item) in capture.enumerate() {
        let pkt = match item {
            Ok(p) => p,
            Err(e) => {
                summary.capture_error = Some(e.to_string());
                break;
            }
        };
        summary.packets += 1;
        summary.bytes += pkt.data.len() as u64;
        let result = engine.process(
            &PacketIn { ts: Timestamp(pkt.ts_us), link: pkt.link, data: &pkt.data, pcap_cnt: Some(n as u64 + 1) },
            &mut out,
        );
        if opts.simulate_ips && result.verdict == Verdict::Drop {
            summary.dropped += 1;
        }
        for rec in out.drain(..) {
            summary.events += 1;
            sink(&rec)?;
        }
    }
    engine.finish(&mut out);
    for rec in out.drain(..) {
        summary.events += 1;
        sink(&rec)?;
    }
    Ok(summary)
}

/// Replay `pcap` writing EVE JSON lines to `eve`.
pub fn replay(pcap: &Path, eve: impl Write, opts: &ReplayOptions) -> Result<ReplaySummary, ReplayError> {
    let mut w = EveWriter::new(eve);
    let summary = replay_with(pcap, opts, |r| w.write(r))?;
    w.flush()?;
    Ok(summary)
}

/// Replay `pcap` into memory (tests, scoring).
pub fn replay_records(pcap: &Path, opts: &ReplayOptions) -> Result<(Vec<EveRecord>, ReplaySummary), ReplayError> {
    let mut recs = Vec::new();
    let summary = replay_with(pcap, opts, |r| {
        recs.push(r.clone());
        Ok(())
    })?;
    Ok((recs, summary))
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("writing EVE: {0}")]
    Io(#[from] std::io::Error),
}
