//! End to end: fixtures in the published formats -> matchers -> verdicts.

use std::net::IpAddr;

use mamori_intel::{
    Action, Category, FeedFormat, IndicatorKind, Intel, IntelBuilder, Label, Policy, PolicyConfig, ThreatKind,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn intel() -> Intel {
    let mut b = IntelBuilder::new();
    let add = |b: &mut IntelBuilder, name: &str, format: &str, file: &str| {
        b.add_source(name, &format.parse::<FeedFormat>().unwrap(), &fixture(file)).unwrap();
    };
    add(&mut b, "feodo", "feodo-csv", "feodo_ipblocklist.csv");
    add(&mut b, "urlhaus", "urlhaus-csv", "urlhaus.csv");
    add(&mut b, "urlhaus-hosts", "urlhaus-hostfile", "urlhaus_hostfile.txt");
    add(&mut b, "threatfox", "threatfox-csv@75", "threatfox.csv");
    add(&mut b, "bazaar", "malwarebazaar-sha256", "malwarebazaar_sha256.txt");
    add(&mut b, "drop4", "spamhaus-drop-json", "spamhaus_drop_v4.json");
    add(&mut b, "drop6", "spamhaus-drop-json", "spamhaus_drop_v6.json");
    add(&mut b, "openphish", "openphish", "openphish_feed.txt");
    add(&mut b, "own", "mamori", "own_list.txt");
    b.add_source(
        "ut1-games",
        &FeedFormat::Ut1Domains { label: Label::Category(Category::Games) },
        "5ch.net\ngames.example\n",
    )
    .unwrap();
    b.add_source("idn", &FeedFormat::Own { default: None }, "domain 例え.テスト threat:phishing\n").unwrap();
    b.add_jp_supplement().unwrap();
    b.compile()
}

fn policy() -> Policy {
    Policy::default()
}

#[test]
fn listed_domain_blocks_with_its_list_and_threat() {
    let i = intel();
    let v = i.lookup_domain("DOWNLOAD.evil.example.", &policy()).unwrap();
    assert_eq!(v.action, Action::Block);
    let m = v.primary().unwrap();
    assert_eq!(m.kind, IndicatorKind::Domain);
    assert_eq!(m.matched, "download.evil.example");
    assert_eq!(&*m.list, "urlhaus-hosts");
    assert_eq!(m.label, Label::Threat(ThreatKind::MalwareDistribution));
}

#[test]
fn suffix_matching_respects_labels() {
    let i = intel();
    let v = i.lookup_domain("a.b.evil.example", &policy()).unwrap();
    assert_eq!(v.primary().unwrap().matched, "evil.example");
    assert_eq!(v.action, Action::Block);
    assert!(i.lookup_domain("notevil.example", &policy()).is_none());
    assert!(i.lookup_domain("example", &policy()).is_none());
}

#[test]
fn idn_queries_in_unicode_and_punycode() {
    let i = intel();
    assert!(i.lookup_domain("www.例え.テスト", &policy()).unwrap().is_block());
    assert!(i.lookup_domain("www.xn--r8jz45g.xn--zckzah", &policy()).unwrap().is_block());
}

#[test]
fn urls_match_after_normalization() {
    let i = intel();
    for u in [
        "http://117.201.4.95:59375/bin.sh",
        "HTTP://117.201.4.95:59375/x/../bin.sh#frag",
        "https://invoice-docs.example/Download/%7einvoice.zip",
        "https://INVOICE-DOCS.example.:443/Download/~invoice.zip",
    ] {
        let v = i.lookup_url(u, &policy()).unwrap_or_else(|| panic!("{u} not matched"));
        assert_eq!(v.action, Action::Block, "{u}");
        assert_eq!(v.primary().unwrap().kind, IndicatorKind::Url, "{u}");
        assert_eq!(&*v.primary().unwrap().list, "urlhaus");
    }
    assert!(i.lookup_url("http://117.201.4.95:59375/other.sh", &policy()).is_none());
    let v = i.lookup_http("Invoice-Docs.example", "/Download/~invoice.zip", &policy()).unwrap();
    assert!(v.is_block());
    // Phishing URLs match whatever the scheme.
    assert!(i.lookup_url("http://secure-login.bank-jp.example/signin/", &policy()).unwrap().is_block());
}

#[test]
fn url_on_listed_domain_and_ip_hosts() {
    let i = intel();
    let v = i.lookup_url("http://c2-panel.example/gate.php", &policy()).unwrap();
    assert_eq!(v.primary().unwrap().kind, IndicatorKind::Domain);
    assert_eq!(v.primary().unwrap().label, Label::Threat(ThreatKind::BotnetC2));
    let v = i.lookup_url("http://162.243.103.246:8080/", &policy()).unwrap();
    assert_eq!(v.primary().unwrap().kind, IndicatorKind::Ip);
}

#[test]
fn url_prefix_category() {
    let i = intel();
    let v = i.lookup_url("http://example.com/games/tetris?level=2", &policy()).unwrap();
    assert_eq!(v.primary().unwrap().label, Label::Category(Category::Games));
    assert_eq!(v.action, Action::Log);
    assert!(i.lookup_url("http://example.com/gamesx", &policy()).is_none());
}

#[test]
fn ip_networks_v4_and_v6() {
    let i = intel();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let v = i.lookup_ip(ip("1.10.20.1"), &policy()).unwrap();
    assert_eq!(v.primary().unwrap().matched, "1.10.16.0/20");
    assert_eq!(v.primary().unwrap().label, Label::Threat(ThreatKind::HijackedNetwork));
    assert!(i.lookup_ip(ip("2001:678:738:1::5"), &policy()).unwrap().is_block());
    assert!(i.lookup_ip(ip("2001:db8:bad:ffff::1"), &policy()).unwrap().is_block());
    assert!(i.lookup_ip(ip("1.10.32.1"), &policy()).is_none());
    // A Host header or SNI that is an address is looked up as one.
    assert!(i.lookup_domain("1.10.20.1", &policy()).unwrap().is_block());
    let v = i.lookup_ip(ip("45.95.147.236"), &policy()).unwrap();
    assert_eq!(&*v.primary().unwrap().list, "threatfox");
}

#[test]
fn file_hashes() {
    let i = intel();
    let mut h = [0u8; 32];
    hex::decode_to_slice("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &mut h).unwrap();
    let v = i.lookup_sha256(&h, &policy()).unwrap();
    assert!(v.is_block());
    // On both MalwareBazaar and our own list.
    let lists: Vec<&str> = v.matches.iter().map(|m| &*m.list).collect();
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert!(lists.contains(&"bazaar") && lists.contains(&"own"));
    assert!(i.lookup_sha256(&[0; 32], &policy()).is_none());
}

#[test]
fn categories_log_by_default_and_can_block() {
    let i = intel();
    let v = i.lookup_domain("itest.5ch.net", &policy()).unwrap();
    assert_eq!(v.matches.len(), 1, "one category per access: {v:?}");
    assert_eq!(v.primary().unwrap().label, Label::Category(Category::Forum), "5ch is a forum, not a game");
    assert_eq!(v.action, Action::Log);
    let mut p = policy();
    p.set_category(Category::Forum, Action::Block);
    assert_eq!(i.lookup_domain("itest.5ch.net", &p).unwrap().action, Action::Block);
    p.set_category(Category::Games, Action::Block);
    assert_eq!(i.lookup_domain("games.example", &p).unwrap().action, Action::Block);
}

#[test]
fn most_specific_category_wins() {
    let i = intel();
    let v = i.lookup_domain("news.yahoo.co.jp", &policy()).unwrap();
    assert_eq!(v.primary().unwrap().label, Label::Category(Category::News));
    let mut p = policy();
    p.set_category(Category::Portal, Action::Block);
    assert_eq!(i.lookup_domain("news.yahoo.co.jp", &p).unwrap().action, Action::Log);
    assert_eq!(i.lookup_domain("www.yahoo.co.jp", &p).unwrap().action, Action::Block);
}

#[test]
fn allowlist_wins_over_every_list() {
    let i = intel();
    let cfg: PolicyConfig = serde_json::from_str(
        r#"{"allowlist":{"domains":["evil.example"],"ips":["1.10.16.0/24"],"urls":["http://117.201.4.95:59375/"]}}"#,
    )
    .unwrap();
    let p = Policy::try_from(cfg).unwrap();
    let v = i.lookup_domain("x.evil.example", &p).unwrap();
    assert_eq!(v.action, Action::Allow);
    assert!(v.allowlisted);
    assert!(v.matches.iter().all(|m| m.action == Action::Allow));
    assert_eq!(i.lookup_ip("1.10.16.9".parse().unwrap(), &p).unwrap().action, Action::Allow);
    // Outside the allowed /24 but inside the listed /20.
    assert_eq!(i.lookup_ip("1.10.17.9".parse().unwrap(), &p).unwrap().action, Action::Block);
    assert_eq!(i.lookup_url("http://117.201.4.95:59375/bin.sh", &p).unwrap().action, Action::Allow);
}

#[test]
fn verdict_serializes_for_eve() {
    let i = intel();
    let v = i.lookup_domain("5ch.net", &policy()).unwrap();
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(
        j,
        serde_json::json!({
            "action": "log",
            "allowlisted": false,
            "matches": [{
                "indicator": "domain", "matched": "5ch.net", "list": "jp-supplement",
                "category": "forum", "category_ja": "掲示板", "category_en": "Forums", "action": "log"
            }]
        })
    );
    let v = i.lookup_domain("evil.example", &policy()).unwrap();
    let j = serde_json::to_value(v.primary().unwrap()).unwrap();
    assert_eq!(j["threat"], "phishing");
    assert_eq!(j["threat_ja"], "フィッシング詐欺サイト");
    assert_eq!(j["action"], "block");
}

#[test]
fn compact_for_many_domains() {
    // 200k synthetic names: the FST must stay well under 20 bytes a name.
    let mut text = String::new();
    for n in 0..200_000u32 {
        text.push_str(&format!("domain host{n}.shop{}.example{} threat:phishing\n", n % 997, n % 13));
    }
    let mut b = IntelBuilder::new();
    b.add_source("synthetic", &FeedFormat::Own { default: None }, &text).unwrap();
    let s = b.compile().stats();
    assert_eq!(s.domains, 200_000);
    let per = s.domain_bytes as f64 / s.domains as f64;
    assert!(per < 20.0, "{per:.1} bytes per domain");
}
