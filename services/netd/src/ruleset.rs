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
use nftables::stmt::{Counter, Match, Operator, Queue, QueueFlag, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use serde_json::Value;

use crate::config::{Config, QueueRange};
use crate::intervals::{Interval, IpBits, SetDiff};

pub const CHAIN: &str = "forward";
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
///     queue flags bypass to symhash mod 2
///   }
/// }
/// ```
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
    let rule = |expr: Vec<Statement<'static>>| {
        NfObject::CmdObject(NfCmd::Add(NfListObject::Rule(Rule {
            family: NfFamily::INet,
            table: table(),
            chain: s(CHAIN),
            expr: Cow::Owned(expr),
            handle: None,
            index: None,
            comment: None,
        })))
    };
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

    let objects = vec![
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
        rule(vec![Statement::Queue(Queue { num: queue_num, flags: Some(HashSet::from([QueueFlag::Bypass])) })]),
    ];
    Nftables { objects: Cow::Owned(objects) }
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
/// compare equal. Rules keep their order; sets and chains are sorted by name.
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
                    std::cmp::Ordering::Equal
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
        let v = to_json(&ruleset(&cfg(), q(0, 2)));
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

    /// What nft 1.0.6 prints for the table (`nft -j list table inet mamori`), with the queue rule as
    /// nft's json.c writes a single flag.
    fn listing() -> Value {
        json!({"nftables": [
            {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
            {"table": {"family": "inet", "name": "mamori", "handle": 2}},
            {"set": {"family": "inet", "name": "block4", "table": "mamori", "type": "ipv4_addr", "handle": 1,
                     "flags": ["interval"], "elem": ["1.2.3.4", {"prefix": {"addr": "10.0.0.0", "len": 8}},
                     {"range": ["192.168.1.5", "192.168.1.9"]}]}},
            {"set": {"family": "inet", "name": "block6", "table": "mamori", "type": "ipv6_addr", "handle": 2,
                     "flags": ["interval"], "elem": [{"prefix": {"addr": "2001:db8::", "len": 32}}]}},
            {"chain": {"family": "inet", "table": "mamori", "name": "forward", "handle": 3, "type": "filter",
                       "hook": "forward", "prio": -10, "policy": "accept"}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 4, "expr": [
                {"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "mamori0"}}, {"accept": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 5, "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@block4"}},
                {"counter": {"packets": 3, "bytes": 180}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 6, "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@block4"}},
                {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 7, "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@block6"}},
                {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 8, "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@block6"}},
                {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 9, "expr": [
                {"match": {"op": "==", "left": {"&": [{"ct": {"key": "mark"}}, 2]}, "right": 2}},
                {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 10, "expr": [
                {"match": {"op": "==", "left": {"&": [{"ct": {"key": "mark"}}, 1]}, "right": 1}}, {"accept": null}]}},
            {"rule": {"family": "inet", "table": "mamori", "chain": "forward", "handle": 11, "expr": [
                {"queue": {"num": {"symhash": {"mod": 2}}, "flags": "bypass"}}]}},
        ]})
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
