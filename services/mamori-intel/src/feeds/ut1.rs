//! UT1 (Université Toulouse Capitole) category folders: `domains` holds one
//! name (or IP) a line, `urls` one `host/path` prefix a line.

use super::{data_lines, host_indicator, Collector, Indicator, SkipReason};
use crate::category::{ut1_category, Ut1Meaning};
use crate::label::Label;
use crate::normalize::normalize_url;

/// The label for a UT1 folder name, if we use that folder.
pub fn ut1_meaning_label(folder: &str) -> Option<Label> {
    ut1_category(folder).map(|m| match m {
        Ut1Meaning::Category(c) => Label::Category(c),
        Ut1Meaning::Threat(t) => Label::Threat(t),
    })
}

pub(super) fn domains(text: &str, label: Label, c: &mut Collector) {
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        c.push_or_skip(n, host_indicator(line), label);
    }
}

pub(super) fn urls(text: &str, label: Label, c: &mut Collector) {
    for (n, line) in data_lines(text, &['#']) {
        c.line();
        let r = normalize_url(line).map(Indicator::UrlPrefix).map_err(|e| SkipReason::InvalidUrl(e.to_string()));
        c.push_or_skip(n, r, label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::feeds::{parse_feed, FeedFormat};

    fn testdata(cat: &str, file: &str) -> Option<String> {
        let p = format!("{}/../../../shared/testdata/ut1/{cat}/{file}", env!("CARGO_MANIFEST_DIR"));
        let r = std::fs::read_to_string(&p).ok();
        if r.is_none() {
            eprintln!("skipping: {p} not present");
        }
        r
    }

    #[test]
    fn synthetic_domains_and_urls() {
        let label = Label::Category(Category::Games);
        let p = parse_feed(&FeedFormat::Ut1Domains { label }, "# c\nGames.Example\n192.0.2.1\nbad..x\n").unwrap();
        assert_eq!(p.entries[0].indicator, Indicator::Domain("games.example".into()));
        assert_eq!(p.entries[1].indicator, Indicator::Net("192.0.2.1/32".parse().unwrap()));
        assert_eq!(p.skipped[0].line, 4);
        let p = parse_feed(&FeedFormat::Ut1Urls { label }, "1001reves.com/games\n").unwrap();
        let Indicator::UrlPrefix(u) = &p.entries[0].indicator else { panic!() };
        assert_eq!(u.key(), "1001reves.com/games");
    }

    #[test]
    fn real_ut1_folders_parse_almost_entirely() {
        for cat in ["social_networks", "games", "vpn", "webmail", "manga", "remote-control"] {
            let Some(text) = testdata(cat, "domains") else { return };
            let label = ut1_meaning_label(cat).unwrap();
            let p = parse_feed(&FeedFormat::Ut1Domains { label }, &text).unwrap();
            assert!(p.entries.len() * 100 >= p.lines * 99, "{cat}: {p} {:?}", &p.skipped[..p.skipped.len().min(5)]);
            if let Some(urls) = testdata(cat, "urls") {
                let p = parse_feed(&FeedFormat::Ut1Urls { label }, &urls).unwrap();
                assert!(p.entries.len() * 100 >= p.lines * 95, "{cat} urls: {p} {:?}", p.skipped);
            }
        }
    }
}
