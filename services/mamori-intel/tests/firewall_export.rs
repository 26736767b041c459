//! The networks handed to the firewall's block sets.

use mamori_intel::{AllowlistConfig, FeedFormat, IntelBuilder, Policy, PolicyConfig};

#[test]
fn only_networks_the_policy_blocks_go_to_the_firewall() {
    let mut b = IntelBuilder::new();
    let list = "ip 192.0.2.0/24 threat:botnet_c2\nip 2001:db8::/48 threat:malware\n\
                ip 198.51.100.7 category:games\ndomain evil.example threat:phishing\n";
    b.add_source("own", &FeedFormat::Own { default: None }, list).unwrap();
    let intel = b.compile();
    let mut nets: Vec<String> = intel.blocked_networks(&Policy::default()).iter().map(|n| n.to_string()).collect();
    nets.sort();
    assert_eq!(nets, vec!["192.0.2.0/24", "2001:db8::/48"], "categories only log by default");

    // The allowlist wins; a category set to block joins.
    let cfg = PolicyConfig {
        categories: [(mamori_intel::Category::Games, mamori_intel::Action::Block)].into_iter().collect(),
        allowlist: AllowlistConfig { ips: vec!["2001:db8::/48".into()], ..Default::default() },
        ..Default::default()
    };
    let policy = Policy::try_from(cfg).unwrap();
    let mut nets: Vec<String> = intel.blocked_networks(&policy).iter().map(|n| n.to_string()).collect();
    nets.sort();
    assert_eq!(nets, vec!["192.0.2.0/24", "198.51.100.7/32"]);
}
