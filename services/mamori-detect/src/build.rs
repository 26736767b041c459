//! Building a [`Detector`] from a rule set: signatures in Suricata's
//! evaluation order, grouped by what they inspect, with their prefilter
//! databases compiled (or loaded from a cache).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{Action, IpSet, PortSet, RuleSet, ThresholdConfig};
use sha2::{Digest, Sha256};

use crate::cache::{self, DbCache};
use crate::hs::{self, Mode};
use crate::ipindex::IpOnlyIndex;
use crate::prefilter::{PatternSet, Prefilter};
use crate::sig::{self, ListDef, ListId, Names, PayloadMode, Sig, SigKind, CLASSES};
use crate::threshold::{self, SigThresholds};

/// App-layer protocols with transaction inspection.
pub(crate) const TX_PROTOS: [AppProto; 3] = [AppProto::Http, AppProto::Tls, AppProto::Dns];

pub(crate) fn tx_index(p: AppProto, dir: Direction) -> Option<usize> {
    let i = TX_PROTOS.iter().position(|x| *x == p)?;
    Some(i * 2 + dir.index())
}

/// Per-packet signatures of one transport class.
#[derive(Default)]
pub(crate) struct PktGroup {
    /// Keyed on the packet payload, always inspected per packet.
    pub db: Option<Prefilter>,
    pub always: Vec<u32>,
    /// Stream-or-packet signatures, inspected per packet only when the
    /// packet's data did not go to the stream.
    pub fallback_db: Option<Prefilter>,
    pub fallback_always: Vec<u32>,
}

#[derive(Default)]
pub(crate) struct StreamGroup {
    pub db: Option<Prefilter>,
    pub always: Vec<u32>,
}

#[derive(Default)]
pub(crate) struct TxGroup {
    pub dbs: Vec<(ListId, Prefilter)>,
    pub always: Vec<u32>,
}

/// What a build did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Signatures that can match.
    pub active: usize,
    /// Loaded rules that cannot match here, by reason.
    pub inactive: Vec<(String, usize)>,
    pub ip_only: usize,
    pub databases: usize,
    pub patterns: usize,
    /// The prefilter databases came from the cache.
    pub from_cache: bool,
    /// Cache key (hex) of this build's databases.
    pub cache_key: String,
    /// Databases that failed to compile (their signatures run unfiltered).
    pub errors: Vec<String>,
    /// Signatures without a prefilter pattern, checked on every packet of
    /// their transport (TCP, UDP, ICMP, other), every stream chunk, and
    /// every transaction update.
    pub unfiltered_packet: [usize; CLASSES],
    pub unfiltered_stream: usize,
    pub unfiltered_tx: usize,
}

/// Compiled rules. Immutable: share it between threads with `Arc`; each
/// thread inspects with its own [`crate::Detect`].
pub struct Detector {
    pub(crate) sigs: Vec<Sig>,
    /// Distinct (addresses, ports, direction) among `sigs` (`Sig::addr_class`).
    pub(crate) addr_classes: usize,
    pub(crate) thresholds: Vec<SigThresholds>,
    pub(crate) lists: Vec<ListDef>,
    pub(crate) iponly: Vec<u32>,
    pub(crate) iponly_index: IpOnlyIndex,
    pub(crate) pkt: [PktGroup; CLASSES],
    pub(crate) stream: StreamGroup,
    pub(crate) tx: Vec<TxGroup>,
    pub(crate) report: BuildReport,
    pub(crate) opts: BuildOptions,
}

/// A pattern set and where its compiled database goes.
enum Slot {
    Pkt(usize),
    Fallback(usize),
    Stream,
    Tx(usize, ListId),
}

/// Engine choices suricata.yaml makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Which actions win (`action-order`); default pass, drop, reject, alert.
    pub action_order: Vec<Action>,
    /// Alerts written per packet at most (`packet-alert-max`, default 15).
    pub max_alerts: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { action_order: vec![Action::Pass, Action::Drop, Action::Reject, Action::Alert], max_alerts: 15 }
    }
}

/// Version of the compiled layout; bump when what the cache holds changes.
const FORMAT: &str = "mamori-detect/1";

impl Detector {
    /// Compile `rules` with `thresholds`. With a cache, prefilter databases
    /// are loaded from it when the rules, variables and engine versions
    /// they came from are unchanged, and stored in it otherwise.
    pub fn build(rules: &RuleSet, thresholds: &ThresholdConfig, cache: Option<&mut dyn DbCache>) -> Detector {
        Detector::build_with(rules, thresholds, &BuildOptions::default(), cache)
    }

    /// [`Detector::build`] with suricata.yaml's engine choices.
    pub fn build_with(
        rules: &RuleSet,
        thresholds: &ThresholdConfig,
        opts: &BuildOptions,
        cache: Option<&mut dyn DbCache>,
    ) -> Detector {
        let mut order: Vec<usize> = (0..rules.rules.len()).collect();
        order.sort_by_key(|&i| rules.rules.get(i).map(|r| sig::order_key(r, &opts.action_order)));
        let mut table = sig::ListTable::default();
        let (mut bits, mut ints) = (Names::default(), Names::default());
        let mut sigs = Vec::with_capacity(order.len());
        let mut inactive: BTreeMap<String, usize> = BTreeMap::new();
        for i in order {
            let Some(rule) = rules.rules.get(i) else { continue };
            match sig::compile(rule, sigs.len() as u32, &mut table, &mut bits, &mut ints) {
                Ok(s) => sigs.push(s),
                Err(why) => *inactive.entry(why.reason()).or_default() += 1,
            }
        }
        let th: Vec<SigThresholds> = sigs
            .iter()
            .map(|s| threshold::for_sig(s.info.gid, s.info.sid, s.threshold, s.detection_filter, thresholds))
            .collect();

        let mut det = Detector {
            sigs: Vec::new(),
            addr_classes: 0,
            thresholds: th,
            lists: Vec::new(),
            iponly: Vec::new(),
            iponly_index: IpOnlyIndex::default(),
            pkt: Default::default(),
            stream: StreamGroup::default(),
            tx: (0..TX_PROTOS.len() * 2).map(|_| TxGroup::default()).collect(),
            report: BuildReport::default(),
            opts: opts.clone(),
        };
        let mut sets: Vec<(Slot, PatternSet)> = Vec::new();
        let set_for = |sets: &mut Vec<(Slot, PatternSet)>, slot: Slot, mode: Mode| -> usize {
            let same = |a: &Slot, b: &Slot| match (a, b) {
                (Slot::Pkt(x), Slot::Pkt(y)) | (Slot::Fallback(x), Slot::Fallback(y)) => x == y,
                (Slot::Stream, Slot::Stream) => true,
                (Slot::Tx(g, l), Slot::Tx(h, m)) => g == h && l == m,
                _ => false,
            };
            if let Some(i) = sets.iter().position(|(s, _)| same(s, &slot)) {
                return i;
            }
            sets.push((slot, PatternSet::new(mode)));
            sets.len() - 1
        };
        for s in &sigs {
            match s.kind {
                SigKind::IpOnly => det.iponly.push(s.num),
                SigKind::Packet => {
                    let payload = s.has_payload_list();
                    for &class in s.proto.classes() {
                        let tcp = class == 0;
                        let mode = if tcp && payload { s.mode } else { PayloadMode::Packet };
                        let want_pkt = matches!(mode, PayloadMode::Packet);
                        let want_fallback = matches!(mode, PayloadMode::Both);
                        let want_stream = tcp && payload && matches!(mode, PayloadMode::Stream | PayloadMode::Both);
                        let fast = s.fast.as_ref().filter(|_| payload);
                        if want_pkt {
                            match fast {
                                Some(f) => {
                                    let i = set_for(&mut sets, Slot::Pkt(class), Mode::Block);
                                    sets[i].1.add(&f.bytes, f.nocase, s.num);
                                }
                                None => det.pkt[class].always.push(s.num),
                            }
                        }
                        if want_fallback {
                            match fast {
                                Some(f) => {
                                    let i = set_for(&mut sets, Slot::Fallback(class), Mode::Block);
                                    sets[i].1.add(&f.bytes, f.nocase, s.num);
                                }
                                None => det.pkt[class].fallback_always.push(s.num),
                            }
                        }
                        if want_stream {
                            match fast {
                                Some(f) => {
                                    let i = set_for(&mut sets, Slot::Stream, Mode::Stream);
                                    sets[i].1.add(&f.bytes, f.nocase, s.num);
                                }
                                None => det.stream.always.push(s.num),
                            }
                        }
                    }
                }
                SigKind::Tx(proto) => {
                    for dir in [Direction::ToServer, Direction::ToClient] {
                        if !s.tx_dirs[dir.index()] {
                            continue;
                        }
                        let Some(g) = tx_index(proto, dir) else { continue };
                        match &s.fast {
                            Some(f) => {
                                let i = set_for(&mut sets, Slot::Tx(g, f.list), Mode::Block);
                                sets[i].1.add(&f.bytes, f.nocase, s.num);
                            }
                            None => {
                                if let Some(t) = det.tx.get_mut(g) {
                                    t.always.push(s.num);
                                }
                            }
                        }
                    }
                }
            }
        }

        // The cache key covers every database input plus both engine versions.
        let mut h = Sha256::new();
        h.update(FORMAT);
        h.update(hs::version());
        for (_, set) in &sets {
            set.hash_into(&mut h);
        }
        let key = hex::encode(h.finalize());
        let mut report = BuildReport {
            active: sigs.len(),
            inactive: inactive.into_iter().collect(),
            ip_only: det.iponly.len(),
            cache_key: key.clone(),
            patterns: sets.iter().map(|(_, s)| s.len()).sum(),
            ..Default::default()
        };
        report.inactive.sort_by_key(|r| std::cmp::Reverse(r.1));

        let mut cache = cache;
        let cached: Option<Vec<hs::Database>> = cache
            .as_deref_mut()
            .and_then(|c| c.load(&key))
            .and_then(|blob| cache::decode(&blob, &sets.iter().map(|(_, s)| s.mode).collect::<Vec<_>>()));
        let dbs: Vec<Option<hs::Database>> = match cached {
            Some(dbs) => {
                report.from_cache = true;
                dbs.into_iter().map(Some).collect()
            }
            None => {
                let dbs: Vec<Option<hs::Database>> = sets
                    .iter()
                    .map(|(_, s)| match s.compile() {
                        Ok(db) => Some(db),
                        Err(e) => {
                            report.errors.push(e.to_string());
                            None
                        }
                    })
                    .collect();
                if report.errors.is_empty() {
                    if let (Some(c), Some(blob)) = (cache, cache::encode(&dbs)) {
                        c.store(&key, &blob);
                    }
                }
                dbs
            }
        };
        for ((slot, set), db) in sets.into_iter().zip(dbs) {
            match db {
                Some(db) => {
                    report.databases += 1;
                    let pf = set.finish(db);
                    match slot {
                        Slot::Pkt(c) => det.pkt[c].db = Some(pf),
                        Slot::Fallback(c) => det.pkt[c].fallback_db = Some(pf),
                        Slot::Stream => det.stream.db = Some(pf),
                        Slot::Tx(g, l) => {
                            if let Some(t) = det.tx.get_mut(g) {
                                t.dbs.push((l, pf));
                            }
                        }
                    }
                }
                None => {
                    // Without its database the set's signatures run on every input.
                    let all = set.all_sigs();
                    let target = match slot {
                        Slot::Pkt(c) => det.pkt.get_mut(c).map(|g| &mut g.always),
                        Slot::Fallback(c) => det.pkt.get_mut(c).map(|g| &mut g.fallback_always),
                        Slot::Stream => Some(&mut det.stream.always),
                        Slot::Tx(g, _) => det.tx.get_mut(g).map(|t| &mut t.always),
                    };
                    if let Some(t) = target {
                        t.extend(all);
                    }
                }
            }
        }
        for g in det.pkt.iter_mut() {
            g.always.sort_unstable();
            g.fallback_always.sort_unstable();
        }
        det.stream.always.sort_unstable();
        for t in det.tx.iter_mut() {
            t.always.sort_unstable();
            t.always.dedup();
        }
        for (i, g) in det.pkt.iter().enumerate() {
            report.unfiltered_packet[i] = g.always.len() + g.fallback_always.len();
        }
        report.unfiltered_stream = det.stream.always.len();
        report.unfiltered_tx = det.tx.iter().map(|t| t.always.len()).sum();
        let ip_rules: Vec<(u32, &mamori_rules::IpSet, &mamori_rules::IpSet, bool)> = det
            .iponly
            .iter()
            .filter_map(|&n| sigs.get(n as usize))
            .map(|s| (s.num, &*s.src, &*s.dst, s.bidir))
            .collect();
        det.iponly_index = IpOnlyIndex::build(&ip_rules);
        det.addr_classes = assign_addr_classes(&mut sigs);
        det.sigs = sigs;
        det.lists = table.defs;
        det.report = report;
        det
    }

    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// Number of signatures that can match.
    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// Whether any signature inspects transactions of `proto`.
    pub fn inspects(&self, proto: AppProto) -> bool {
        [Direction::ToServer, Direction::ToClient].iter().any(|d| {
            tx_index(proto, *d).and_then(|i| self.tx.get(i)).is_some_and(|t| !t.dbs.is_empty() || !t.always.is_empty())
        })
    }

    /// Whether any signature inspects TCP stream data.
    pub fn inspects_stream(&self) -> bool {
        self.stream.db.is_some() || !self.stream.always.is_empty()
    }
}

/// Numbers the distinct address/port headers; returns how many there are.
/// ET Open's ~25,000 signatures share a few hundred.
fn assign_addr_classes(sigs: &mut [Sig]) -> usize {
    type Key = (Arc<IpSet>, Arc<IpSet>, Arc<PortSet>, Arc<PortSet>, bool);
    let mut classes: HashMap<Key, u32> = HashMap::new();
    for s in sigs.iter_mut() {
        let key = (s.src.clone(), s.dst.clone(), s.src_ports.clone(), s.dst_ports.clone(), s.bidir);
        let next = classes.len() as u32;
        s.addr_class = *classes.entry(key).or_insert(next);
    }
    classes.len()
}
