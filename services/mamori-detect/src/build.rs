//! Building a [`Detector`] from a rule set: signatures in Suricata's
//! evaluation order, grouped by what they inspect, with their prefilter
//! databases compiled (or loaded from a cache).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mamori_applayer::{AppProto, Direction};
use mamori_rules::{Action, Buffer, IpSet, PortSet, RuleSet, ThresholdConfig};
use sha2::{Digest, Sha256};

use crate::cache::{self, DbCache};
use crate::groups::{self, GroupMap};
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

/// Per-packet signatures of one transport class and group. Databases are
/// indices into [`Detector::prefilters`].
#[derive(Default)]
pub(crate) struct PktGroup {
    /// Keyed on the packet payload, always inspected per packet.
    pub db: Option<u32>,
    /// The same without the signatures whose `dsize` rules out payloads
    /// longer than [`LARGE_PAYLOAD`] (most `dsize` rules expect a short
    /// message), for such payloads.
    pub large_db: Option<u32>,
    pub always: Vec<u32>,
}

/// Per-packet signatures of one transport class.
#[derive(Default)]
pub(crate) struct PktClass {
    pub groups: Grouped<PktGroup>,
    /// Stream-or-packet signatures, inspected per packet only when the
    /// packet's data did not go to the stream. That is rare, so they are
    /// not split into groups (which would compile a large block-mode
    /// database per group for little use).
    pub fallback_db: Option<u32>,
    pub fallback_always: Vec<u32>,
}

/// Payloads longer than this are scanned with [`PktGroup::large_db`].
pub(crate) const LARGE_PAYLOAD: usize = 1024;

#[derive(Default)]
pub(crate) struct StreamGroup {
    pub db: Option<u32>,
    pub always: Vec<u32>,
}

/// Groups of one kind of inspection, by direction and server port.
#[derive(Default)]
pub(crate) struct Grouped<T> {
    pub map: GroupMap,
    pub groups: Vec<T>,
}

impl<T> Grouped<T> {
    pub fn get(&self, dir: Direction, server_port: u16) -> Option<&T> {
        self.groups.get(self.map.get(dir, server_port))
    }

    pub fn index(&self, dir: Direction, server_port: u16) -> usize {
        self.map.get(dir, server_port)
    }
}

#[derive(Default)]
pub(crate) struct TxGroup {
    pub dbs: Vec<(ListId, u32)>,
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
    /// Every prefilter database; groups refer to them by index (groups
    /// with the same signatures share one).
    pub(crate) prefilters: Vec<Option<Prefilter>>,
    /// Per transport class.
    pub(crate) pkt: Vec<PktClass>,
    /// TCP only.
    pub(crate) stream: Grouped<StreamGroup>,
    pub(crate) tx: Vec<TxGroup>,
    pub(crate) report: BuildReport,
    pub(crate) opts: BuildOptions,
}

/// The pattern sets a build compiles, one per distinct set of signatures.
struct SetTable {
    sets: Vec<PatternSet>,
    members: Vec<Vec<u32>>,
    index: HashMap<(Mode, bool, Vec<u32>), usize>,
}

impl SetTable {
    /// The set keying `members` (signature numbers, each with a fast
    /// pattern) in `mode`; `None` when there are none. `long_input`: it
    /// scans payloads, streams or bodies (see [`PatternSet::split_short`]).
    fn add(&mut self, sigs: &[Sig], mode: Mode, long_input: bool, members: Vec<u32>) -> Option<usize> {
        if members.is_empty() {
            return None;
        }
        let next = self.sets.len();
        let i = *self.index.entry((mode, long_input, members.clone())).or_insert(next);
        if i == next {
            let mut set = PatternSet::new(mode);
            if long_input {
                set = set.split_short();
            }
            for &n in &members {
                if let Some(f) = sigs.get(n as usize).and_then(|s| s.fast.as_ref()) {
                    set.add(&f.bytes, f.nocase, n, f.end);
                }
            }
            self.sets.push(set);
            self.members.push(members);
        }
        Some(i)
    }
}

/// Every set's databases, from the cache when it has them under `key`,
/// compiled (and stored) otherwise; `None` for a set that failed.
fn compile_sets(
    sets: &[PatternSet],
    key: &str,
    mut cache: Option<&mut dyn DbCache>,
    report: &mut BuildReport,
) -> Vec<Option<Vec<hs::Database>>> {
    // The cache holds the databases of all sets in a row.
    let modes: Vec<Mode> = sets.iter().flat_map(|s| std::iter::repeat_n(s.mode, s.parts())).collect();
    let cached = cache.as_deref_mut().and_then(|c| c.load(key)).and_then(|blob| cache::decode(&blob, &modes));
    if let Some(flat) = cached {
        report.from_cache = true;
        let mut flat = flat.into_iter();
        return sets.iter().map(|s| Some(flat.by_ref().take(s.parts()).collect())).collect();
    }
    let dbs: Vec<Option<Vec<hs::Database>>> = sets
        .iter()
        .map(|s| match s.compile() {
            Ok(db) => Some(db),
            Err(e) => {
                report.errors.push(e.to_string());
                None
            }
        })
        .collect();
    if report.errors.is_empty() {
        let flat: Vec<&hs::Database> = dbs.iter().flatten().flatten().collect();
        if let (Some(c), Some(blob)) = (cache, cache::encode(&flat)) {
            c.store(key, &blob);
        }
    }
    dbs
}

/// A group's database index once compiled: when its set failed to compile,
/// its signatures join the group's unfiltered ones instead.
fn resolve(set: Option<usize>, ok: &[bool], members: &[Vec<u32>], always: &mut Vec<u32>) -> Option<u32> {
    let i = set?;
    if ok.get(i).copied().unwrap_or(false) {
        return Some(i as u32);
    }
    always.extend(members.get(i).into_iter().flatten());
    None
}

/// Whether the signature has a fast pattern to key per-packet or stream
/// inspection on (else it is checked unfiltered).
fn payload_fast(s: &Sig) -> bool {
    s.fast.is_some() && s.has_payload_list()
}

/// The longest payload `dsize` lets the signature match, if it bounds it.
fn dsize_max(s: &Sig) -> Option<u16> {
    s.conditions.iter().find_map(|c| match c {
        mamori_rules::Condition::Dsize(cmp) => cmp.max_match(),
        _ => None,
    })
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
const FORMAT: &str = "mamori-detect/2";

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

        // Which signatures inspect what, before the split into groups.
        let mut pkt_members: Vec<[Vec<u32>; 2]> = (0..CLASSES).map(|_| [Vec::new(), Vec::new()]).collect();
        let mut stream_members: Vec<u32> = Vec::new();
        let mut iponly = Vec::new();
        // (transaction group, fast pattern's list or none): members.
        type TxKey = (usize, Option<ListId>);
        let mut tx_members: Vec<(TxKey, Vec<u32>)> = Vec::new();
        for s in &sigs {
            match s.kind {
                SigKind::IpOnly => iponly.push(s.num),
                SigKind::Packet => {
                    let payload = s.has_payload_list();
                    for &class in s.proto.classes() {
                        let tcp = class == 0;
                        let mode = if tcp && payload { s.mode } else { PayloadMode::Packet };
                        let Some(lists) = pkt_members.get_mut(class) else { continue };
                        match mode {
                            PayloadMode::Packet => lists[0].push(s.num),
                            PayloadMode::Both => lists[1].push(s.num),
                            PayloadMode::Stream => {}
                        }
                        if tcp && payload && matches!(mode, PayloadMode::Stream | PayloadMode::Both) {
                            stream_members.push(s.num);
                        }
                    }
                }
                SigKind::Tx(proto) => {
                    for dir in [Direction::ToServer, Direction::ToClient] {
                        if !s.tx_dirs[dir.index()] {
                            continue;
                        }
                        let Some(g) = tx_index(proto, dir) else { continue };
                        let key = (g, s.fast.as_ref().map(|f| f.list));
                        match tx_members.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, v)) => v.push(s.num),
                            None => tx_members.push((key, vec![s.num])),
                        }
                    }
                }
            }
        }
        let mut report = BuildReport { active: sigs.len(), ip_only: iponly.len(), ..Default::default() };
        for (class, lists) in pkt_members.iter().enumerate() {
            report.unfiltered_packet[class] =
                lists.iter().flatten().filter(|&&n| !payload_fast(&sigs[n as usize])).count();
        }
        report.unfiltered_stream = stream_members.iter().filter(|&&n| !payload_fast(&sigs[n as usize])).count();

        // Split by direction and server port, and collect the pattern sets.
        let mut sets = SetTable { sets: Vec::new(), members: Vec::new(), index: HashMap::new() };
        let split_fast = |members: &[u32]| -> (Vec<u32>, Vec<u32>) {
            members.iter().partition(|&&n| sigs.get(n as usize).is_some_and(payload_fast))
        };
        // Per class: its groups with their packet and large-payload sets,
        // and its fallback set.
        type PktSets = (PktGroup, Option<usize>, Option<usize>);
        let mut pkt: Vec<(GroupMap, Vec<PktSets>, PktClass, Option<usize>)> = Vec::new();
        for (class, lists) in pkt_members.iter().enumerate() {
            let (map, groups) = groups::split(&sigs, class, &[&lists[0]]);
            let mut out = Vec::new();
            for members in groups {
                let (fast, always) = split_fast(&members[0]);
                let large: Vec<u32> = fast
                    .iter()
                    .copied()
                    .filter(|&n| dsize_max(&sigs[n as usize]).is_none_or(|m| usize::from(m) > LARGE_PAYLOAD))
                    .collect();
                // A database of its own only where it leaves out a good part
                // of the set (each one costs compile time and memory).
                let (all, large_len) = (fast.len(), large.len());
                let db = sets.add(&sigs, Mode::Block, true, fast);
                let large_db = if large_len * 4 > all * 3 { db } else { sets.add(&sigs, Mode::Block, true, large) };
                out.push((PktGroup { always, ..Default::default() }, db, large_db));
            }
            let (fb_fast, fallback_always) = split_fast(&lists[1]);
            let fallback = sets.add(&sigs, Mode::Block, true, fb_fast);
            pkt.push((map, out, PktClass { fallback_always, ..Default::default() }, fallback));
        }
        let (stream_map, stream_groups) = groups::split(&sigs, 0, &[&stream_members]);
        let stream_sets: Vec<(StreamGroup, Option<usize>)> = stream_groups
            .into_iter()
            .map(|members| {
                let (fast, always) = split_fast(&members[0]);
                (StreamGroup { db: None, always }, sets.add(&sigs, Mode::Stream, true, fast))
            })
            .collect();
        let mut tx_sets: Vec<(usize, ListId, usize)> = Vec::new();
        let mut tx: Vec<TxGroup> = (0..TX_PROTOS.len() * 2).map(|_| TxGroup::default()).collect();
        for ((g, list), members) in tx_members {
            match list {
                Some(list) => {
                    let body = table
                        .defs
                        .get(usize::from(list))
                        .is_some_and(|d| matches!(d.buffer, Buffer::FileData | Buffer::HttpRequestBody));
                    if let Some(i) = sets.add(&sigs, Mode::Block, body, members) {
                        tx_sets.push((g, list, i));
                    }
                }
                None => {
                    if let Some(t) = tx.get_mut(g) {
                        t.always.extend(members);
                    }
                }
            }
        }

        // The cache key covers every database input plus both engine versions.
        let mut h = Sha256::new();
        h.update(FORMAT);
        h.update(hs::version());
        for set in &sets.sets {
            set.hash_into(&mut h);
        }
        let key = hex::encode(h.finalize());
        report.inactive = inactive.into_iter().collect();
        report.inactive.sort_by_key(|r| std::cmp::Reverse(r.1));
        report.cache_key = key.clone();
        report.patterns = sets.sets.iter().map(PatternSet::len).sum();

        let dbs = compile_sets(&sets.sets, &key, cache, &mut report);
        let ok: Vec<bool> = dbs.iter().map(Option::is_some).collect();
        report.databases = dbs.iter().flatten().map(Vec::len).sum();
        let members = sets.members;
        let prefilters: Vec<Option<Prefilter>> =
            sets.sets.into_iter().zip(dbs).map(|(set, db)| db.map(|db| set.finish(db))).collect();

        let pkt = pkt
            .into_iter()
            .map(|(map, groups, mut class, fallback)| {
                let groups = groups
                    .into_iter()
                    .map(|(mut g, db, large_db)| {
                        g.db = resolve(db, &ok, &members, &mut g.always);
                        // Without the packet set, `always` holds its signatures
                        // for every payload; without only the large one, large
                        // payloads are scanned with the whole packet set.
                        g.large_db = match (g.db, large_db) {
                            (Some(all), Some(i)) => {
                                Some(if ok.get(i).copied().unwrap_or(false) { i as u32 } else { all })
                            }
                            _ => None,
                        };
                        g.always.sort_unstable();
                        g
                    })
                    .collect();
                class.groups = Grouped { map, groups };
                class.fallback_db = resolve(fallback, &ok, &members, &mut class.fallback_always);
                class.fallback_always.sort_unstable();
                class
            })
            .collect();
        let stream = Grouped {
            map: stream_map,
            groups: stream_sets
                .into_iter()
                .map(|(mut g, db)| {
                    g.db = resolve(db, &ok, &members, &mut g.always);
                    g.always.sort_unstable();
                    g
                })
                .collect(),
        };
        for (g, list, i) in tx_sets {
            let Some(t) = tx.get_mut(g) else { continue };
            if let Some(db) = resolve(Some(i), &ok, &members, &mut t.always) {
                t.dbs.push((list, db));
            }
        }
        for t in tx.iter_mut() {
            t.always.sort_unstable();
            t.always.dedup();
        }
        report.unfiltered_tx = tx.iter().map(|t| t.always.len()).sum();

        let mut det = Detector {
            sigs: Vec::new(),
            addr_classes: 0,
            thresholds: th,
            lists: Vec::new(),
            iponly,
            iponly_index: IpOnlyIndex::default(),
            prefilters,
            pkt,
            stream,
            tx,
            report: BuildReport::default(),
            opts: opts.clone(),
        };
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
        self.stream.groups.iter().any(|g| g.db.is_some() || !g.always.is_empty())
    }

    /// Prefilter database `i` (a group's `db`).
    pub(crate) fn prefilter(&self, i: Option<u32>) -> Option<&Prefilter> {
        self.prefilters.get(i? as usize)?.as_ref()
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
