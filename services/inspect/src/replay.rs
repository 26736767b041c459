//! Replaying captures through the engine, as Suricata's `-r` does.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use mamori_engine::{Detect, Detector, Engine, EngineConfig, EveRecord, PacketIn, Timestamp, Verdict};
use mamori_eve::EveWriter;

use crate::capture::{Capture, CaptureError};

#[derive(Clone, Default)]
pub struct ReplayOptions {
    pub engine: EngineConfig,
    /// Act as if inline: drop and reject rules drop, and what would have
    /// been dropped is counted and logged.
    pub simulate_ips: bool,
    /// Compiled rules to inspect with.
    pub detector: Option<Arc<Detector>>,
}

impl ReplayOptions {
    /// Apply a Suricata `--set key=value` that has an engine equivalent;
    /// false when the key means nothing here.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        let on = matches!(value, "true" | "yes" | "1" | "on");
        match key {
            "vlan.use-for-tracking" => self.engine.vlan_tracking = on,
            "stream.midstream" => self.engine.midstream = on,
            "stream.async-oneside" => self.engine.async_oneside = on,
            "decoder.teredo.ports" => self.engine.teredo_any_port = value == "any",
            _ => return false,
        }
        true
    }
}

impl std::fmt::Debug for ReplayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("engine", &self.engine)
            .field("simulate_ips", &self.simulate_ips)
            .field("rules", &self.detector.as_ref().map(|d| d.len()))
            .finish()
    }
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
    if let Some(det) = &opts.detector {
        engine = engine.with_detect(Detect::new(det.clone(), opts.simulate_ips));
    }
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
