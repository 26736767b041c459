//! Japanese services that UT1 barely covers, shipped with the crate.

use crate::feeds::{parse_feed, FeedFormat, ParsedFeed};

pub const SOURCE_NAME: &str = "jp-supplement";

/// The data file, in our own list format.
pub const JP_SUPPLEMENT: &str = include_str!("../data/jp_supplement.txt");

/// The supplement parsed. The file is ours and tested to parse cleanly.
pub fn jp_supplement() -> ParsedFeed {
    parse_feed(&FeedFormat::Own { default: None }, JP_SUPPLEMENT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::feeds::Indicator;
    use crate::label::Label;

    fn category_of(domain: &str) -> Option<Category> {
        jp_supplement().entries.iter().find_map(|e| match (&e.indicator, e.label) {
            (Indicator::Domain(d), Label::Category(c)) if d == domain => Some(c),
            _ => None,
        })
    }

    #[test]
    fn parses_cleanly_with_no_duplicates() {
        let p = jp_supplement();
        assert_eq!(p.skipped_total, 0, "{:?}", p.skipped);
        assert!(p.entries.len() >= 60);
        let mut seen = std::collections::BTreeSet::new();
        for e in &p.entries {
            assert!(seen.insert(e.indicator.clone()), "duplicate {:?}", e.indicator);
        }
    }

    #[test]
    fn well_known_services() {
        assert_eq!(category_of("line.me"), Some(Category::Chat));
        assert_eq!(category_of("5ch.net"), Some(Category::Forum), "5ch is a forum, not a game");
        assert_eq!(category_of("nicovideo.jp"), Some(Category::Video));
        assert_eq!(category_of("mercari.com"), Some(Category::Shopping));
        assert_eq!(category_of("zozo.jp"), Some(Category::Shopping));
        assert_eq!(category_of("pixiv.net"), Some(Category::Sns));
        assert_eq!(category_of("ameblo.jp"), Some(Category::Blog));
        assert_eq!(category_of("note.com"), Some(Category::Blog));
        assert_eq!(category_of("tver.jp"), Some(Category::Video));
        assert_eq!(category_of("abema.tv"), Some(Category::Video));
        assert_eq!(category_of("yahoo.co.jp"), Some(Category::Portal));
        assert_eq!(category_of("news.yahoo.co.jp"), Some(Category::News));
        assert_eq!(category_of("mixi.jp"), Some(Category::Sns));
    }
}
