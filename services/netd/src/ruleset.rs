//! The `inet` table netd owns, built as `nftables` schema objects, and the transactions that replace it
//! and update its sets. Everything here is pure; `firewall` runs it through `nft -j`.
//!
//! Why `inet` and not `bridge`: Debian's 6.1 kernel rejects the `queue` statement in the bridge family,
//! and `ct` in the bridge family needs nf_conntrack_bridge. With br_netfilter, bridged IPv4/IPv6 goes
//! through the inet hooks (with conntrack) and the input/output device of the forward hook is the bridge.
//! Only IPv4/IPv6 is handed over, so ARP, STP, LLDP and other non-IP frames never meet this table.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use nftables::expr::{BinaryOperation, Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, SymHash, CT};
use nftables::schema::{
    Chain, Element, NfCmd, NfListObject, NfObject, Nftables, Rule, Set, SetFlag, SetType, SetTypeValue, Table,
};
use nftables::stmt::{Counter, JumpTarget, Match, Operator, Queue, QueueFlag, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use serde_json::Value;

use crate::config::{Config, QueueRange};
use crate::intervals::{Interval, IpBits, SetDiff};

pub const CHAIN: &str = "forward";
/// The regular chain that accepts payload-less ACKs (see `pure_ack_rules`).
pub const PURE_ACK_CHAIN: &str = "pure_ack";
/// `priority filter - 10`: before any filter-priority forward chain another tool may add.
pub const PRIORITY: i32 = -10;

fn s(v: &str) -> Cow<'static, str> {
    Cow::Owned(v.to_owned())
}

/// The table definition: sets, chain and rules, as `add` commands (what `--print-ruleset` prints).
///
/// ```text
/// table inet mamori {
///   set block4 { type ipv4_addr; flags interval; auto-merge }
///   set block6 { type ipv6_addr; flags interval; auto-merge }
///   chain forward { type filter hook forward priority filter - 10; policy accept;
///     iifname != "mamori0" accept
///     ip saddr @block4 counter drop  (and daddr, and ip6 with @block6)
///     ct mark & 2 == 2 counter drop
///     ct mark & 1 == 1 accept
///     ip length <= 80 tcp flags ack / fin,syn,rst,psh,ack,urg ct state established jump pure_ack
///     ip6 length <= 60 tcp flags ack / fin,syn,rst,psh,ack,urg ct state established jump pure_ack
///     queue flags bypass to symhash mod 2
///   }
///   chain pure_ack {
///     ip hdrlength 5 tcp doff 5 ip length 40 counter accept   (… doff 15, length 80)
///     ip6 length 20 ip6 nexthdr tcp tcp doff 5 counter accept (… doff 15, length 60)
///   }
/// }
/// ```
///
/// The two `jump` rules and the `pure_ack` chain are there with `skip_pure_acks` (the default).
///
/// With more than one queue the rule picks the queue by `symhash` (`queue flags bypass to symhash mod N
/// offset F`): the kernel's symmetric flow hash over addresses, protocol and ports, the same in both
/// directions, so one inspect worker sees both halves of a flow while the connections between one pair
/// of hosts still spread over the workers. A plain range (`to 0-1`) would hash the address pair only,
/// and one busy pair of hosts would load a single worker. `bypass` lets packets through while no
/// inspect worker is bound (fail open).
pub fn ruleset(cfg: &Config, queues: QueueRange) -> Nftables<'static> {
    let r = &cfg.ruleset;
    let table = || s(&r.table);
    let set = |name: &str, ty: SetType| {
        NfObject::CmdObject(NfCmd::Add(NfListObject::Set(Box::new(Set {
            family: NfFamily::INet,
            table: table(),
            name: s(name),
            handle: None,
            set_type: SetTypeValue::Single(ty),
            policy: None,
            flags: Some(HashSet::from([SetFlag::Interval])),
            elem: None,
            timeout: None,
            gc_interval: None,
            size: None,
            comment: None,
        }))))
    };
    let rule_in = |chain: &str, expr: Vec<Statement<'static>>| {
        NfObject::CmdObject(NfCmd::Add(NfListObject::Rule(Rule {
            family: NfFamily::INet,
            table: table(),
            chain: s(chain),
            expr: Cow::Owned(expr),
            handle: None,
            index: None,
            comment: None,
        })))
    };
    let rule = |expr: Vec<Statement<'static>>| rule_in(CHAIN, expr);
    let matches = |left: Expression<'static>, op: Operator, right: Expression<'static>| {
        Statement::Match(Match { left, right, op })
    };
    let payload = |protocol: &str, field: &str| {
        Expression::Named(NamedExpression::Payload(Payload::PayloadField(PayloadField {
            protocol: s(protocol),
            field: s(field),
        })))
    };
    let set_ref = |name: &str| Expression::String(Cow::Owned(format!("@{name}")));
    let ct_mark_has = |bits: u32| {
        let ct_mark = Expression::Named(NamedExpression::CT(CT { key: s("mark"), family: None, dir: None }));
        matches(
            Expression::BinaryOperation(Box::new(BinaryOperation::AND(ct_mark, Expression::Number(bits)))),
            Operator::EQ,
            Expression::Number(bits),
        )
    };
    let counted_drop =
        |m: Statement<'static>| rule(vec![m, Statement::Counter(Counter::Anonymous(None)), Statement::Drop(None)]);
    let queue_num = if queues.count() == 1 {
        Expression::Number(u32::from(queues.first()))
    } else {
        Expression::Named(NamedExpression::SymHash(SymHash {
            hash_mod: u32::from(queues.count()),
            offset: Some(u32::from(queues.first())),
        }))
    };

    let mut objects = vec![
        NfObject::CmdObject(NfCmd::Add(NfListObject::Table(Table {
            family: NfFamily::INet,
            name: table(),
            handle: None,
        }))),
        set(&r.block_set_v4, SetType::Ipv4Addr),
        set(&r.block_set_v6, SetType::Ipv6Addr),
        NfObject::CmdObject(NfCmd::Add(NfListObject::Chain(Chain {
            family: NfFamily::INet,
            table: table(),
            name: s(CHAIN),
            newname: None,
            handle: None,
            _type: Some(NfChainType::Filter),
            hook: Some(NfHook::Forward),
            prio: Some(PRIORITY),
            dev: None,
            policy: Some(NfChainPolicy::Accept),
        }))),
        // With br_netfilter the forward hook's input device is the bridge, so this lets everything
        // that is routed rather than bridged alone.
        rule(vec![
            matches(
                Expression::Named(NamedExpression::Meta(Meta { key: MetaKey::Iifname })),
                Operator::NEQ,
                Expression::String(s(cfg.bridge.name.as_str())),
            ),
            Statement::Accept(None),
        ]),
        counted_drop(matches(payload("ip", "saddr"), Operator::EQ, set_ref(&r.block_set_v4))),
        counted_drop(matches(payload("ip", "daddr"), Operator::EQ, set_ref(&r.block_set_v4))),
        counted_drop(matches(payload("ip6", "saddr"), Operator::EQ, set_ref(&r.block_set_v6))),
        counted_drop(matches(payload("ip6", "daddr"), Operator::EQ, set_ref(&r.block_set_v6))),
        counted_drop(ct_mark_has(r.block_mark)),
        rule(vec![ct_mark_has(r.bypass_mark), Statement::Accept(None)]),
    ];
    if r.skip_pure_acks {
        // The chain goes in before the rules that jump to it.
        let chain_at = objects.iter().position(|o| matches!(o, NfObject::CmdObject(NfCmd::Add(NfListObject::Rule(_)))));
        objects.insert(
            chain_at.unwrap_or(objects.len()),
            NfObject::CmdObject(NfCmd::Add(NfListObject::Chain(Chain {
                family: NfFamily::INet,
                table: table(),
                name: s(PURE_ACK_CHAIN),
                newname: None,
                handle: None,
                _type: None,
                hook: None,
                prio: None,
                dev: None,
                policy: None,
            }))),
        );
        for (proto, most) in [("ip", 80), ("ip6", 60)] {
            objects.push(rule(vec![
                matches(payload(proto, "length"), Operator::LEQ, Expression::Number(most)),
                matches(
                    Expression::BinaryOperation(Box::new(BinaryOperation::AND(
                        payload("tcp", "flags"),
                        Expression::List(
                            ["fin", "syn", "rst", "psh", "ack", "urg"].map(|f| Expression::String(s(f))).to_vec(),
                        ),
                    ))),
                    Operator::EQ,
                    Expression::String(s("ack")),
                ),
                matches(
                    Expression::Named(NamedExpression::CT(CT { key: s("state"), family: None, dir: None })),
                    Operator::IN,
                    Expression::String(s("established")),
                ),
                Statement::Jump(JumpTarget { target: s(PURE_ACK_CHAIN) }),
            ]));
        }
        for checks in pure_ack_rules() {
            let mut expr: Vec<Statement<'static>> = checks
                .into_iter()
                .map(|(proto, field, value)| matches(payload(proto, field), Operator::EQ, value))
                .collect();
            expr.push(Statement::Counter(Counter::Anonymous(None)));
            expr.push(Statement::Accept(None));
            objects.push(rule_in(PURE_ACK_CHAIN, expr));
        }
    }
    // Last, so that a kernel without `queue` can be given the table without it (tests/netns.rs).
    objects
        .push(rule(vec![Statement::Queue(Queue { num: queue_num, flags: Some(HashSet::from([QueueFlag::Bypass])) })]));
    Nftables { objects: Cow::Owned(objects) }
}

/// The `pure_ack` chain's matches: one rule per TCP header length, IPv4 then IPv6, each saying "the IP
/// packet ends where the TCP header does".
///
/// Why: a payload-less ACK (no SYN, FIN, RST, PSH or URG) of an established connection carries nothing
/// the engine inspects: data, stream starts and ends all come in other segments, and the engine takes a
/// client's first data segment as the end of the handshake. Yet a short connection is half ACKs (a 20 KB
/// HTTP download: 6 of 14 packets), and each queued packet costs a round trip through user space; not
/// queueing them made the inline benchmark's short transactions ~20 % faster (docs/benchmarks.md).
///
/// nftables has no arithmetic, so "no payload" is spelled out per header length: IPv4 without options
/// (`ip hdrlength 5`, otherwise queued) with `ip length` = 20 + 4 × `tcp doff`, and IPv6 whose next
/// header is TCP (extension headers: queued) with payload length = 4 × `tcp doff`. The kernel trims a
/// frame to the IP length before the forward hook, so bytes past it never reach the receiver. A
/// concatenated set (`ip length . tcp doff`) would be one rule, but nft 1.0.6 aborts listing it. The
/// jump rules only send `length ≤ 80` (IPv6: 60) packets with exactly ACK set here, so data segments do
/// not walk this chain. Only `ct state established` qualifies: a lone ACK of no known connection (an ACK
/// scan) is still queued.
fn pure_ack_rules() -> Vec<Vec<(&'static str, &'static str, Expression<'static>)>> {
    let mut rules = Vec::new();
    for doff in 5..=15u32 {
        rules.push(vec![
            ("ip", "hdrlength", Expression::Number(5)),
            ("tcp", "doff", Expression::Number(doff)),
            ("ip", "length", Expression::Number(20 + 4 * doff)),
        ]);
    }
    for doff in 5..=15u32 {
        rules.push(vec![
            // nft lists an IPv6 rule's matches in this order whatever order they were added in.
            ("ip6", "length", Expression::Number(4 * doff)),
            ("ip6", "nexthdr", Expression::String(s("tcp"))),
            ("tcp", "doff", Expression::Number(doff)),
        ]);
    }
    rules
}

/// Serialises a batch for `nft -j -f`. The crate's `Set` has no `auto-merge` field, so it is added
/// here; nft versions whose JSON parser doesn't know it ignore it, and nothing depends on it because
/// netd only ever adds canonical (disjoint, non-adjacent) intervals.
pub fn to_json(batch: &Nftables) -> Value {
    let mut v = serde_json::to_value(batch).unwrap_or(Value::Null);
    if let Some(objs) = v.get_mut("nftables").and_then(Value::as_array_mut) {
        for obj in objs {
            if let Some(Value::Object(set)) = obj.get_mut("add").and_then(|a| a.get_mut("set")) {
                set.insert("auto-merge".into(), Value::Bool(true));
            }
        }
    }
    v
}

/// Current elements of the two block sets, to carry across a table replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elements {
    pub v4: Vec<Interval<Ipv4Addr>>,
    pub v6: Vec<Interval<Ipv6Addr>>,
}

/// One transaction that swaps in the definition: `add table` (so `delete` can't fail on a first run),
/// `delete table`, the definition, and `preserved` re-added to the sets, so that no moment exists in
/// which a blocked address passes.
pub fn replace_batch(cfg: &Config, definition: &Nftables<'static>, preserved: &Elements) -> Nftables<'static> {
    let table = || Table { family: NfFamily::INet, name: s(&cfg.ruleset.table), handle: None };
    let mut objects = vec![
        NfObject::CmdObject(NfCmd::Add(NfListObject::Table(table()))),
        NfObject::CmdObject(NfCmd::Delete(NfListObject::Table(table()))),
    ];
    objects.extend(definition.objects.iter().cloned());
    objects.extend(add_elements(cfg, &cfg.ruleset.block_set_v4, &preserved.v4));
    objects.extend(add_elements(cfg, &cfg.ruleset.block_set_v6, &preserved.v6));
    Nftables { objects: Cow::Owned(objects) }
}

fn element<A: IpBits>(cfg: &Config, set: &str, items: &[Interval<A>]) -> NfListObject<'static> {
    NfListObject::Element(Element {
        family: NfFamily::INet,
        table: s(&cfg.ruleset.table),
        name: s(set),
        elem: Cow::Owned(items.iter().map(Interval::to_expr).collect()),
    })
}

fn add_elements<A: IpBits>(cfg: &Config, set: &str, items: &[Interval<A>]) -> Option<NfObject<'static>> {
    (!items.is_empty()).then(|| NfObject::CmdObject(NfCmd::Add(element(cfg, set, items))))
}

fn delete_elements<A: IpBits>(cfg: &Config, set: &str, items: &[Interval<A>]) -> Option<NfObject<'static>> {
    (!items.is_empty()).then(|| NfObject::CmdObject(NfCmd::Delete(element(cfg, set, items))))
}

/// One transaction applying both diffs, deletions first; `None` when there is nothing to do.
pub fn update_batch(cfg: &Config, v4: &SetDiff<Ipv4Addr>, v6: &SetDiff<Ipv6Addr>) -> Option<Nftables<'static>> {
    let (s4, s6) = (&cfg.ruleset.block_set_v4, &cfg.ruleset.block_set_v6);
    let objects: Vec<_> = [
        delete_elements(cfg, s4, &v4.delete),
        delete_elements(cfg, s6, &v6.delete),
        add_elements(cfg, s4, &v4.add),
        add_elements(cfg, s6, &v6.add),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!objects.is_empty()).then(|| Nftables { objects: Cow::Owned(objects) })
}

/// The elements of set `name` in an `nft -j list table` listing; `None` if the set isn't there.
/// Elements that can't be read (another type, a concatenation) are counted in the second value.
pub fn set_elements<A: IpBits>(listing: &Value, name: &str) -> Option<(Vec<Interval<A>>, usize)> {
    let set = listed(listing).find_map(|(kind, obj)| (kind == "set" && obj.get("name")? == name).then_some(obj))?;
    let elems = match set.get("elem") {
        Some(Value::Array(a)) => a.as_slice(),
        _ => &[],
    };
    let mut out = Vec::with_capacity(elems.len());
    let mut unreadable = 0;
    for e in elems {
        match Interval::from_json(e) {
            Some(iv) => out.push(iv),
            None => unreadable += 1,
        }
    }
    Some((out, unreadable))
}

/// The objects of a listing (`{"nftables": [{"table": …}, {"set": …}, …]}`) as (kind, body).
fn listed(listing: &Value) -> impl Iterator<Item = (&str, &Value)> {
    listing
        .get("nftables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.as_object()?.iter().next().map(|(k, v)| (k.as_str(), v)))
}

/// The structure of a table with everything that varies at run time taken out (handles, elements,
/// counter values) and nft's output quirks evened out, so that a definition and a listing of it
/// compare equal. Rules are grouped by chain and keep their order; sets and chains are sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(Vec<(String, Value)>);

impl Shape {
    /// From `nft -j list table` output (terse or not).
    pub fn of_listing(listing: &Value) -> Shape {
        Shape::new(listed(listing).filter(|(kind, _)| *kind != "metainfo").map(|(k, v)| (k.to_owned(), v.clone())))
    }

    /// From a definition made of `add` commands.
    pub fn of_definition(definition: &Nftables) -> Shape {
        let v = to_json(definition);
        let objects = listed(&v)
            .filter_map(|(cmd, body)| {
                let (kind, obj) = body.as_object()?.iter().next()?;
                (cmd == "add").then(|| (kind.clone(), obj.clone()))
            })
            .collect::<Vec<_>>();
        Shape::new(objects)
    }

    fn new(objects: impl IntoIterator<Item = (String, Value)>) -> Shape {
        let mut objects: Vec<(String, Value)> = objects
            .into_iter()
            .map(|(kind, mut v)| {
                if let Value::Object(o) = &mut v {
                    for key in ["handle", "elem", "auto-merge"] {
                        o.remove(key);
                    }
                }
                even_out(&mut v);
                (kind, v)
            })
            .collect();
        // Stable: rules keep their relative order.
        let rank = |k: &str| match k {
            "table" => 0,
            "set" => 1,
            "chain" => 2,
            "rule" => 3,
            _ => 4,
        };
        objects.sort_by(|(ka, va), (kb, vb)| {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
            rank(ka).cmp(&rank(kb)).then_with(|| {
                if ka == "rule" {
                    // nft lists rules chain by chain; within a chain their order is the rules' meaning.
                    let chain = |v: &Value| v.get("chain").and_then(Value::as_str).unwrap_or("").to_owned();
                    chain(va).cmp(&chain(vb))
                } else {
                    name(va).cmp(&name(vb))
                }
            })
        });
        Shape(objects)
    }
}

/// nft prints a single flag as a string, lists anonymous counters with their values, and leaves out a
/// hash's zero offset.
fn even_out(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(h)) = o.get_mut("symhash") {
                if h.get("offset").is_some_and(|x| x.is_null() || x.as_u64() == Some(0)) {
                    h.remove("offset");
                }
            }
            if let Some(flags) = o.get_mut("flags") {
                if let Value::String(f) = flags {
                    *flags = Value::Array(vec![Value::String(std::mem::take(f))]);
                }
                if let Value::Array(a) = flags {
                    a.sort_by_key(|x| x.as_str().unwrap_or("").to_owned());
                }
            }
            if let Some(c) = o.get_mut("counter") {
                if c.is_object() {
                    *c = Value::Null;
                }
            }
            o.values_mut().for_each(even_out);
        }
        Value::Array(a) => a.iter_mut().for_each(even_out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::{canonical, diff};
    use serde_json::json;

    fn cfg() -> Config {
        Config::default()
    }

    fn q(first: u16, count: u16) -> QueueRange {
        QueueRange::new(first, count).unwrap()
    }

    #[test]
    fn ruleset_json_is_the_documented_table() {
        let mut c = cfg();
        c.ruleset.skip_pure_acks = false;
        let v = to_json(&ruleset(&c, q(0, 2)));
        let want = json!({"nftables": [
            {"add": {"table": {"family": "inet", "name": "mamori"}}},
            {"add": {"set": {"family": "inet", "table": "mamori", "name": "block4", "type": "ipv4_addr",
                             "flags": ["interval"], "auto-merge": true}}},
            {"add": {"set": {"family": "inet", "table": "mamori", "name": "block6", "type": "ipv6_addr",
                             "flags": ["interval"], "auto-merge": true}}},
            {"add": {"chain": {"family": "inet", "table": "mamori", "name": "forward", "type": "filter",
                               "hook": "forward", "prio": -10, "policy": "accept"}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "mamori0"}}, {"accept": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@block4"}},
                {"counter": null}, {"drop": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@block4"}},
                {"counter": null}, {"drop": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@block6"}},
                {"counter": null}, {"drop": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@block6"}},
                {"counter": null}, {"drop": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"&": [{"ct": {"key": "mark"}}, 2]}, "right": 2}},
                {"counter": null}, {"drop": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"&": [{"ct": {"key": "mark"}}, 1]}, "right": 1}}, {"accept": null}]}}},
            {"add": {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "expr": [
                {"queue": {"num": {"symhash": {"mod": 2, "offset": 0}}, "flags": ["bypass"]}}]}}},
        ]});
        assert_eq!(v, want, "{}", serde_json::to_string_pretty(&v).unwrap());
    }

    #[test]
    fn pure_acks_of_established_connections_skip_the_queue() {
        let v = to_json(&ruleset(&cfg(), q(0, 2)));
        let objects = v["nftables"].as_array().unwrap();
        let rules: Vec<(&str, &Value)> = objects
            .iter()
            .filter_map(|o| o["add"].get("rule"))
            .map(|r| (r["chain"].as_str().unwrap(), &r["expr"]))
            .collect();
        let forward: Vec<&Value> = rules.iter().filter(|(c, _)| *c == CHAIN).map(|(_, e)| *e).collect();
        let flags = json!({"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}},
            ["fin", "syn", "rst", "psh", "ack", "urg"]]}, "right": "ack"}});
        let established = json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "established"}});
        // After the mark rules (a condemned flow's ACKs still drop), just before the queue.
        let n = forward.len();
        assert!(forward[n - 1][0].get("queue").is_some());
        for (e, (proto, most)) in forward[n - 3..n - 1].iter().zip([("ip", 80), ("ip6", 60)]) {
            assert_eq!(
                **e,
                json!([{"match": {"op": "<=", "left": {"payload": {"protocol": proto, "field": "length"}}, "right": most}},
                       flags, established, {"jump": {"target": "pure_ack"}}])
            );
        }
        assert!(forward[n - 4][0]["match"]["left"]["&"][0]["ct"]["key"] == "mark");
        // One rule per TCP header length: the IP packet ends where the TCP header does.
        let acks: Vec<&Value> = rules.iter().filter(|(c, _)| *c == PURE_ACK_CHAIN).map(|(_, e)| *e).collect();
        assert_eq!(acks.len(), 22);
        let field = |e: &Value, proto: &str, f: &str| {
            e.as_array().unwrap().iter().find_map(|m| {
                let m = m.get("match")?;
                (m["left"]["payload"] == json!({"protocol": proto, "field": f})).then(|| m["right"].clone())
            })
        };
        for e in &acks[..11] {
            let doff = field(e, "tcp", "doff").unwrap().as_u64().unwrap();
            assert_eq!(field(e, "ip", "hdrlength"), Some(json!(5)));
            assert_eq!(field(e, "ip", "length"), Some(json!(20 + 4 * doff)), "{e}");
        }
        for e in &acks[11..] {
            let doff = field(e, "tcp", "doff").unwrap().as_u64().unwrap();
            assert_eq!(field(e, "ip6", "nexthdr"), Some(json!("tcp")));
            assert_eq!(field(e, "ip6", "length"), Some(json!(4 * doff)), "{e}");
        }
        let doffs: Vec<u64> = acks.iter().map(|e| field(e, "tcp", "doff").unwrap().as_u64().unwrap()).collect();
        assert_eq!(doffs, [(5..=15).collect::<Vec<_>>(), (5..=15).collect()].concat());
        for e in &acks {
            assert_eq!(e.as_array().unwrap()[3..], [json!({"counter": null}), json!({"accept": null})]);
        }
    }

    #[test]
    fn names_marks_and_queues_follow_the_config() {
        let mut c = cfg();
        c.bridge.name = "br-x".parse().unwrap();
        c.ruleset.table = "t".into();
        c.ruleset.block_set_v4 = "b4".into();
        c.ruleset.bypass_mark = 0x10;
        c.ruleset.block_mark = 0x20;
        let text = to_json(&ruleset(&c, q(3, 1))).to_string();
        for needle in [
            r#""table":"t""#,
            r#""right":"@b4""#,
            r#""right":"br-x""#,
            r#"{"&":[{"ct":{"key":"mark"}},32]}"#,
            r#"{"&":[{"ct":{"key":"mark"}},16]}"#,
            r#""num":3"#,
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert!(!text.contains("mamori"), "{text}");
        let text = to_json(&ruleset(&c, q(4, 4))).to_string();
        assert!(text.contains(r#""num":{"symhash":{"mod":4,"offset":4}}"#), "{text}");
    }

    /// What nft 1.0.6 prints for the default table (`nft -j list table inet mamori`, captured from the
    /// loaded definition), with elements, counters that ran, and the queue rule as nft's json.c writes
    /// a single flag (this host's kernel has no `queue` to load it).
    fn listing() -> Value {
        serde_json::from_str(include_str!("testdata/nft-1.0.6-listing.json")).unwrap()
    }

    #[test]
    fn a_listing_of_the_loaded_table_has_the_definitions_shape() {
        let def = ruleset(&cfg(), q(0, 2));
        assert_eq!(Shape::of_listing(&listing()), Shape::of_definition(&def));
    }

    #[test]
    fn changes_to_the_table_change_its_shape() {
        let def = Shape::of_definition(&ruleset(&cfg(), q(0, 2)));
        // Other queues.
        assert_ne!(Shape::of_definition(&ruleset(&cfg(), q(0, 4))), def);
        // A rule removed by hand.
        let mut l = listing();
        l["nftables"].as_array_mut().unwrap().remove(6);
        assert_ne!(Shape::of_listing(&l), def);
        // Rules reordered.
        let mut l = listing();
        l["nftables"].as_array_mut().unwrap().swap(10, 11);
        assert_ne!(Shape::of_listing(&l), def);
        // A rule added by hand.
        let mut l = listing();
        let extra = l["nftables"][12].clone();
        l["nftables"].as_array_mut().unwrap().push(extra);
        assert_ne!(Shape::of_listing(&l), def);
    }

    #[test]
    fn set_elements_are_read_from_a_listing() {
        let (v4, bad) = set_elements::<Ipv4Addr>(&listing(), "block4").unwrap();
        assert_eq!(
            v4.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["1.2.3.4", "10.0.0.0/8", "192.168.1.5-192.168.1.9"]
        );
        assert_eq!(bad, 0);
        let (v6, _) = set_elements::<Ipv6Addr>(&listing(), "block6").unwrap();
        assert_eq!(v6.len(), 1);
        assert!(set_elements::<Ipv4Addr>(&listing(), "nope").is_none());
    }

    #[test]
    fn replace_batch_deletes_redefines_and_keeps_elements() {
        let c = cfg();
        let def = ruleset(&c, q(0, 2));
        let preserved = Elements { v4: vec![Interval::single("192.0.2.1".parse().unwrap())], v6: vec![] };
        let v = to_json(&replace_batch(&c, &def, &preserved));
        let objs = v["nftables"].as_array().unwrap();
        assert_eq!(objs[0], json!({"add": {"table": {"family": "inet", "name": "mamori"}}}));
        assert_eq!(objs[1], json!({"delete": {"table": {"family": "inet", "name": "mamori"}}}));
        assert_eq!(objs[2], json!({"add": {"table": {"family": "inet", "name": "mamori"}}}));
        assert_eq!(objs.len(), 2 + def.objects.len() + 1, "empty v6 adds nothing");
        assert_eq!(
            objs.last().unwrap(),
            &json!({"add": {"element": {"family": "inet", "table": "mamori", "name": "block4", "elem": ["192.0.2.1"]}}})
        );
    }

    #[test]
    fn update_batch_deletes_before_adding() {
        let c = cfg();
        fn p<A: IpBits>(s: &str) -> Interval<A> {
            Interval::from_json(&json!(s)).unwrap()
        }
        let d4 = diff::<Ipv4Addr>(&[p("10.0.0.0/8")], &canonical(vec![p("10.0.0.0/8"), p("11.0.0.0/8")]));
        let d6 = diff::<Ipv6Addr>(&[p("2001:db8::/32")], &[]);
        let v = to_json(&update_batch(&c, &d4, &d6).unwrap());
        assert_eq!(
            v,
            json!({"nftables": [
                {"delete": {"element": {"family": "inet", "table": "mamori", "name": "block4", "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}]}}},
                {"delete": {"element": {"family": "inet", "table": "mamori", "name": "block6", "elem": [{"prefix": {"addr": "2001:db8::", "len": 32}}]}}},
                {"add": {"element": {"family": "inet", "table": "mamori", "name": "block4", "elem": [{"prefix": {"addr": "10.0.0.0", "len": 7}}]}}},
            ]})
        );
        let none = diff::<Ipv4Addr>(&[], &[]);
        assert!(update_batch(&c, &none, &diff::<Ipv6Addr>(&[], &[])).is_none());
    }
}
