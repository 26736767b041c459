//! The small set of web categories a manager reads, and how UT1's many
//! categories fold into it.

use serde::{Deserialize, Serialize};

/// A web category as shown in reports and alerts.
///
/// Deliberately coarse: an office manager reads "動画" or "ギャンブル", not
/// UT1's 80-odd folder names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Sns,
    Video,
    Games,
    Shopping,
    Gambling,
    Adult,
    Dating,
    FileSharing,
    RemoteAccess,
    VpnProxy,
    Webmail,
    JobSearch,
    Chat,
    News,
    Sports,
    Manga,
    Radio,
    Crypto,
    Warez,
    Hacking,
    EncryptedDns,
    Forum,
    Blog,
    Portal,
}

impl Category {
    pub const ALL: [Category; 24] = [
        Category::Sns,
        Category::Video,
        Category::Games,
        Category::Shopping,
        Category::Gambling,
        Category::Adult,
        Category::Dating,
        Category::FileSharing,
        Category::RemoteAccess,
        Category::VpnProxy,
        Category::Webmail,
        Category::JobSearch,
        Category::Chat,
        Category::News,
        Category::Sports,
        Category::Manga,
        Category::Radio,
        Category::Crypto,
        Category::Warez,
        Category::Hacking,
        Category::EncryptedDns,
        Category::Forum,
        Category::Blog,
        Category::Portal,
    ];

    /// Stable identifier used in config files, bundles and EVE.
    pub fn id(self) -> &'static str {
        match self {
            Category::Sns => "sns",
            Category::Video => "video",
            Category::Games => "games",
            Category::Shopping => "shopping",
            Category::Gambling => "gambling",
            Category::Adult => "adult",
            Category::Dating => "dating",
            Category::FileSharing => "file_sharing",
            Category::RemoteAccess => "remote_access",
            Category::VpnProxy => "vpn_proxy",
            Category::Webmail => "webmail",
            Category::JobSearch => "job_search",
            Category::Chat => "chat",
            Category::News => "news",
            Category::Sports => "sports",
            Category::Manga => "manga",
            Category::Radio => "radio",
            Category::Crypto => "crypto",
            Category::Warez => "warez",
            Category::Hacking => "hacking",
            Category::EncryptedDns => "encrypted_dns",
            Category::Forum => "forum",
            Category::Blog => "blog",
            Category::Portal => "portal",
        }
    }

    /// Name shown to Japanese customers (reports, portal, alert mail).
    pub fn name_ja(self) -> &'static str {
        match self {
            Category::Sns => "SNS",
            Category::Video => "動画",
            Category::Games => "ゲーム",
            Category::Shopping => "ショッピング",
            Category::Gambling => "ギャンブル",
            Category::Adult => "アダルト",
            Category::Dating => "出会い系",
            Category::FileSharing => "ファイル共有",
            Category::RemoteAccess => "リモート操作",
            Category::VpnProxy => "VPN・プロキシ",
            Category::Webmail => "ウェブメール",
            Category::JobSearch => "求人・転職",
            Category::Chat => "チャット・メッセージ",
            Category::News => "ニュース",
            Category::Sports => "スポーツ",
            Category::Manga => "漫画・アニメ",
            Category::Radio => "音楽・ラジオ",
            Category::Crypto => "暗号資産",
            Category::Warez => "違法ダウンロード",
            Category::Hacking => "ハッキング",
            Category::EncryptedDns => "暗号化DNS",
            Category::Forum => "掲示板",
            Category::Blog => "ブログ",
            Category::Portal => "ポータル",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Category::Sns => "Social networking",
            Category::Video => "Video streaming",
            Category::Games => "Games",
            Category::Shopping => "Shopping",
            Category::Gambling => "Gambling",
            Category::Adult => "Adult",
            Category::Dating => "Dating",
            Category::FileSharing => "File sharing",
            Category::RemoteAccess => "Remote access",
            Category::VpnProxy => "VPN / proxy",
            Category::Webmail => "Webmail",
            Category::JobSearch => "Job search",
            Category::Chat => "Chat and messaging",
            Category::News => "News",
            Category::Sports => "Sports",
            Category::Manga => "Manga and anime",
            Category::Radio => "Music and radio",
            Category::Crypto => "Cryptocurrency",
            Category::Warez => "Pirated software",
            Category::Hacking => "Hacking",
            Category::EncryptedDns => "Encrypted DNS",
            Category::Forum => "Forums",
            Category::Blog => "Blogs",
            Category::Portal => "Web portals",
        }
    }

    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.id() == id)
    }
}

/// What a UT1 folder means to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ut1Meaning {
    Category(Category),
    Threat(crate::label::ThreatKind),
}

/// Folds a UT1 folder name into our set. `None` for folders we do not use
/// (e.g. `liste_bu`, `educational_games` is kept under games on purpose).
pub fn ut1_category(folder: &str) -> Option<Ut1Meaning> {
    use crate::label::ThreatKind;
    use Ut1Meaning::{Category as C, Threat as T};
    let m = match folder {
        "social_networks" => C(Category::Sns),
        "audio-video" => C(Category::Video),
        "games" | "educational_games" => C(Category::Games),
        "shopping" => C(Category::Shopping),
        "gambling" | "lottery" => C(Category::Gambling),
        "adult" | "mixed_adult" | "lingerie" => C(Category::Adult),
        "dating" => C(Category::Dating),
        "filehosting" | "download" => C(Category::FileSharing),
        "remote-control" => C(Category::RemoteAccess),
        "vpn" | "redirector" | "strong_redirector" => C(Category::VpnProxy),
        "webmail" => C(Category::Webmail),
        "jobsearch" => C(Category::JobSearch),
        "chat" => C(Category::Chat),
        "press" => C(Category::News),
        "sports" => C(Category::Sports),
        "manga" => C(Category::Manga),
        "radio" => C(Category::Radio),
        "bitcoin" => C(Category::Crypto),
        "warez" => C(Category::Warez),
        "hacking" => C(Category::Hacking),
        "doh" => C(Category::EncryptedDns),
        "forums" => C(Category::Forum),
        "blog" => C(Category::Blog),
        "malware" => T(ThreatKind::MalwareDistribution),
        "phishing" => T(ThreatKind::Phishing),
        "cryptojacking" => T(ThreatKind::Cryptojacking),
        "ddos" => T(ThreatKind::Other),
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Category::ALL {
            assert_eq!(Category::from_id(c.id()), Some(c));
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert!(!c.name_ja().is_empty() && !c.name_en().is_empty());
        }
    }

    #[test]
    fn ut1_folders_in_testdata_all_map() {
        for f in [
            "audio-video",
            "bitcoin",
            "chat",
            "dating",
            "doh",
            "filehosting",
            "gambling",
            "games",
            "hacking",
            "jobsearch",
            "manga",
            "press",
            "radio",
            "remote-control",
            "shopping",
            "social_networks",
            "sports",
            "vpn",
            "warez",
            "webmail",
        ] {
            assert!(ut1_category(f).is_some(), "{f} unmapped");
        }
        assert_eq!(ut1_category("social_networks"), Some(Ut1Meaning::Category(Category::Sns)));
        assert_eq!(ut1_category("liste_bu"), None);
    }

    #[test]
    fn japanese_names_are_natural() {
        assert_eq!(Category::Video.name_ja(), "動画");
        assert_eq!(Category::Dating.name_ja(), "出会い系");
        assert_eq!(Category::VpnProxy.name_ja(), "VPN・プロキシ");
        assert_eq!(Category::JobSearch.name_ja(), "求人・転職");
    }
}
