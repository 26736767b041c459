//! What a lookup answers.

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::label::Label;
use crate::policy::Action;

/// Which kind of indicator matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    Domain,
    Url,
    Ip,
    Sha256,
}

/// One listed entry that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub kind: IndicatorKind,
    /// The entry as listed: the domain suffix, URL key, network or hash.
    pub matched: String,
    /// The source (list) name given when the bundle was built.
    pub list: Arc<str>,
    pub label: Label,
    /// The action the policy sets for this label.
    pub action: Action,
}

/// Serializes flat, for EVE: `{"indicator":"domain","matched":"evil.example",
/// "list":"urlhaus","threat":"phishing","threat_ja":"...","action":"block"}`
/// or with `category`, `category_ja`, `category_en`.
impl Serialize for Match {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("indicator", &self.kind)?;
        m.serialize_entry("matched", &self.matched)?;
        m.serialize_entry("list", &*self.list)?;
        match self.label {
            Label::Threat(t) => {
                m.serialize_entry("threat", t.id())?;
                m.serialize_entry("threat_ja", t.name_ja())?;
                m.serialize_entry("threat_en", t.name_en())?;
            }
            Label::Category(c) => {
                m.serialize_entry("category", c.id())?;
                m.serialize_entry("category_ja", c.name_ja())?;
                m.serialize_entry("category_en", c.name_en())?;
            }
        }
        m.serialize_entry("action", &self.action)?;
        m.end()
    }
}

/// The answer to one lookup that matched something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What to do: the strongest action among the matches, or `Allow` when
    /// the customer's allowlist covers the indicator.
    pub action: Action,
    pub allowlisted: bool,
    /// Every threat that matched, then at most one category: the most
    /// specific entry's, from the last-added source on a tie.
    pub matches: Vec<Match>,
}

impl Verdict {
    /// The match that decided the action.
    pub fn primary(&self) -> Option<&Match> {
        self.matches.first()
    }

    pub fn is_block(&self) -> bool {
        self.action == Action::Block
    }
}
