//! What an indicator means: a threat, or merely a web category.

use serde::{Deserialize, Serialize};

use crate::category::Category;

/// Kind of danger a listed indicator stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreatKind {
    /// A malware file (hash lists, ThreatFox `payload`).
    Malware,
    /// A URL or host handing out malware (URLhaus, ThreatFox `payload_delivery`).
    MalwareDistribution,
    /// Botnet command-and-control (Feodo Tracker, ThreatFox `botnet_cc`).
    BotnetC2,
    Phishing,
    /// Hosts known to be compromised and attacking (ET compromised IPs).
    Compromised,
    /// Networks hijacked or run by criminals (Spamhaus DROP).
    HijackedNetwork,
    Cryptojacking,
    Other,
}

impl ThreatKind {
    pub const ALL: [ThreatKind; 8] = [
        ThreatKind::Malware,
        ThreatKind::MalwareDistribution,
        ThreatKind::BotnetC2,
        ThreatKind::Phishing,
        ThreatKind::Compromised,
        ThreatKind::HijackedNetwork,
        ThreatKind::Cryptojacking,
        ThreatKind::Other,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ThreatKind::Malware => "malware",
            ThreatKind::MalwareDistribution => "malware_distribution",
            ThreatKind::BotnetC2 => "botnet_c2",
            ThreatKind::Phishing => "phishing",
            ThreatKind::Compromised => "compromised",
            ThreatKind::HijackedNetwork => "hijacked_network",
            ThreatKind::Cryptojacking => "cryptojacking",
            ThreatKind::Other => "other",
        }
    }

    pub fn from_id(id: &str) -> Option<ThreatKind> {
        ThreatKind::ALL.iter().copied().find(|t| t.id() == id)
    }

    /// Plain Japanese for alert mail and the portal.
    pub fn name_ja(self) -> &'static str {
        match self {
            ThreatKind::Malware => "マルウェア",
            ThreatKind::MalwareDistribution => "マルウェア配布サイト",
            ThreatKind::BotnetC2 => "遠隔操作サーバー(C2)",
            ThreatKind::Phishing => "フィッシング詐欺サイト",
            ThreatKind::Compromised => "攻撃元として知られるホスト",
            ThreatKind::HijackedNetwork => "犯罪者が使うネットワーク",
            ThreatKind::Cryptojacking => "不正マイニング",
            ThreatKind::Other => "危険なサイト",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ThreatKind::Malware => "Malware",
            ThreatKind::MalwareDistribution => "Malware distribution",
            ThreatKind::BotnetC2 => "Botnet command and control",
            ThreatKind::Phishing => "Phishing",
            ThreatKind::Compromised => "Known attacker host",
            ThreatKind::HijackedNetwork => "Hijacked network",
            ThreatKind::Cryptojacking => "Cryptojacking",
            ThreatKind::Other => "Dangerous site",
        }
    }
}

/// The meaning attached to every listed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Threat(ThreatKind),
    Category(Category),
}

impl Label {
    pub fn is_threat(self) -> bool {
        matches!(self, Label::Threat(_))
    }

    /// Parses `threat:<id>` or `category:<id>` (our own list format).
    pub fn parse(s: &str) -> Option<Label> {
        let (kind, id) = s.split_once(['=', ':'])?;
        match kind {
            "threat" => ThreatKind::from_id(id).map(Label::Threat),
            "category" => Category::from_id(id).map(Label::Category),
            _ => None,
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Threat(t) => write!(f, "threat:{}", t.id()),
            Label::Category(c) => write!(f, "category:{}", c.id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_parse_and_display_round_trip() {
        for t in ThreatKind::ALL {
            let l = Label::Threat(t);
            assert_eq!(Label::parse(&l.to_string()), Some(l));
        }
        for c in Category::ALL {
            let l = Label::Category(c);
            assert_eq!(Label::parse(&l.to_string()), Some(l));
        }
        assert_eq!(Label::parse("category=forum"), Some(Label::Category(Category::Forum)));
        assert_eq!(Label::parse("threat:nonsense"), None);
        assert_eq!(Label::parse("colour:red"), None);
    }
}
