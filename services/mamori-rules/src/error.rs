//! Typed errors. A rule error is a [`RuleErrorKind`] (what went wrong) plus
//! where: the file, the line and, when one keyword is to blame, that keyword.

use std::fmt;
use std::sync::Arc;

/// What is wrong with one rule (or one line of a config file).
///
/// The `Display` text is stable and short so that [`crate::LoadSummary`]
/// can group skipped rules by it; details that vary per rule live in the
/// variant fields and in [`RuleError`]'s own `Display`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleErrorKind {
    #[error("unsupported keyword")]
    UnsupportedKeyword,
    #[error("unsupported value {0:?}")]
    Unsupported(String),
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    #[error("unknown protocol {0:?}")]
    UnknownProtocol(String),
    #[error("undefined variable ${0}")]
    UndefinedVariable(String),
    #[error("invalid value: {0}")]
    Invalid(String),
    #[error("needs a value")]
    MissingValue,
    #[error("takes no value")]
    UnexpectedValue,
    #[error("needs a preceding content")]
    NoPrecedingContent,
    #[error("needs a preceding content or pcre in the same buffer")]
    NoPrecedingMatch,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    #[error("no sid")]
    MissingSid,
    #[error("duplicate sid {sid} (first at {first})")]
    DuplicateSid { sid: u32, first: String },
    #[error("pcre does not compile: {0}")]
    PcreCompile(String),
    #[error("too deeply nested")]
    TooDeep,
    #[error("limit exceeded: {0}")]
    TooLarge(&'static str),
}

impl RuleErrorKind {
    /// A short text for grouping: variant fields that differ per rule (values,
    /// sids, compiler messages) are left out, names that tell the admin what to
    /// configure (variables, protocols, classtypes) are kept.
    pub fn reason(&self) -> String {
        match self {
            RuleErrorKind::Invalid(_) => "invalid value".to_string(),
            RuleErrorKind::DuplicateSid { .. } => "duplicate sid".to_string(),
            RuleErrorKind::PcreCompile(_) => "pcre does not compile".to_string(),
            other => other.to_string(),
        }
    }
}

/// Where a rule came from: file name (as given to the loader) and 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// An error with its location, e.g.
/// `emerging-web.rules:1234: keyword "http_fancy": unsupported keyword`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    pub origin: Origin,
    /// The keyword at fault, `None` for header and whole-rule problems.
    pub keyword: Option<String>,
    #[source]
    pub kind: RuleErrorKind,
}

impl RuleError {
    /// The grouping key used by the load summary.
    pub fn reason(&self) -> String {
        match &self.keyword {
            Some(k) => format!("keyword \"{k}\": {}", self.kind.reason()),
            None => self.kind.reason(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.keyword {
            Some(k) => write!(f, "{}: keyword \"{k}\": {}", self.origin, self.kind),
            None => write!(f, "{}: {}", self.origin, self.kind),
        }
    }
}

/// An error without location yet: parsers of single keywords return this and
/// the rule builder adds file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordError {
    pub keyword: Option<String>,
    pub kind: RuleErrorKind,
}

impl KeywordError {
    pub fn new(keyword: &str, kind: RuleErrorKind) -> Self {
        KeywordError { keyword: Some(keyword.to_string()), kind }
    }

    pub fn header(kind: RuleErrorKind) -> Self {
        KeywordError { keyword: None, kind }
    }

    pub fn at(self, origin: Origin) -> RuleError {
        RuleError { origin, keyword: self.keyword, kind: self.kind }
    }
}

impl From<RuleErrorKind> for KeywordError {
    fn from(kind: RuleErrorKind) -> Self {
        KeywordError { keyword: None, kind }
    }
}

/// Shorthand for the keyword parsers, which report without location.
pub(crate) type KwResult<T> = Result<T, RuleErrorKind>;

pub(crate) fn invalid(msg: impl Into<String>) -> RuleErrorKind {
    RuleErrorKind::Invalid(msg.into())
}

/// An error in a config file (classification.config, threshold.config, vars).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_keyword() {
        let e = KeywordError::new("http_fancy", RuleErrorKind::UnsupportedKeyword)
            .at(Origin { file: "emerging-web.rules".into(), line: 1234 });
        assert_eq!(e.to_string(), "emerging-web.rules:1234: keyword \"http_fancy\": unsupported keyword");
        assert_eq!(e.reason(), "keyword \"http_fancy\": unsupported keyword");
    }

    #[test]
    fn reason_drops_per_rule_detail() {
        let e = KeywordError::new("depth", invalid("depth 0")).at(Origin { file: "a".into(), line: 1 });
        assert_eq!(e.to_string(), "a:1: keyword \"depth\": invalid value: depth 0");
        assert_eq!(e.reason(), "keyword \"depth\": invalid value");
    }
}
