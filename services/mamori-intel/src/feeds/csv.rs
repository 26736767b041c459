//! CSV as the feeds write it.
//!
//! Hand-written rather than the `csv` crate because ThreatFox separates
//! quoted fields with `", "`: a quote after the space is not a quote to a
//! strict reader, and the commas inside `"elf,mirai"` tags would then split
//! the field. The abuse.ch header also sits in a `#` comment line.

use super::{Collector, FeedError, SkipReason};

/// Splits one line into fields: optional whitespace, then a quoted field
/// (`""` escapes a quote) or a bare one. Bare fields are trimmed.
pub(crate) fn split_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            field.push('"');
                        } else {
                            break;
                        }
                    }
                    Some(c) => field.push(c),
                    None => return None,
                }
            }
            // Anything between the closing quote and the comma is noise.
            let mut more = false;
            for c in chars.by_ref() {
                if c == ',' {
                    more = true;
                    break;
                }
            }
            fields.push(field);
            if !more {
                return Some(fields);
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                field.push(c);
            }
            fields.push(field.trim().to_owned());
            if ended {
                return Some(fields);
            }
        }
    }
}

/// Column positions found from a header line.
pub(crate) struct Columns {
    names: Vec<String>,
}

impl Columns {
    /// Position of the first column named like any of `aliases`.
    pub(crate) fn find(&self, aliases: &[&str]) -> Option<usize> {
        self.names.iter().position(|n| aliases.iter().any(|a| n.eq_ignore_ascii_case(a)))
    }
}

/// One data row with its header.
pub(crate) struct Record<'c> {
    pub(crate) line: usize,
    fields: Vec<String>,
    cols: &'c Columns,
}

impl Record<'_> {
    pub(crate) fn get(&self, aliases: &[&str]) -> Option<&str> {
        self.cols.find(aliases).and_then(|i| self.fields.get(i)).map(|s| s.as_str())
    }
}

/// Walks a CSV feed: finds the header (commented or not) by the presence of
/// `key_column`, then calls `row` for every data line. Lines before the
/// header, blank lines and `#` comments are not data.
pub(crate) fn for_each_row(
    text: &str,
    key_column: &[&'static str],
    c: &mut Collector,
    mut row: impl FnMut(&Record<'_>, &mut Collector),
) -> Result<(), FeedError> {
    let mut cols: Option<Columns> = None;
    let mut saw_data = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i.saturating_add(1);
        c.line();
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let commented = line.starts_with('#');
        if cols.is_none() {
            let candidate = line.trim_start_matches('#').trim();
            if let Some(names) = split_line(candidate) {
                let names: Vec<String> = names.into_iter().map(|s| s.trim().to_owned()).collect();
                let found = Columns { names };
                if found.find(key_column).is_some() {
                    cols = Some(found);
                    continue;
                }
            }
        }
        if commented {
            continue;
        }
        saw_data = true;
        let Some(cols) = cols.as_ref() else {
            c.skip(n, SkipReason::BeforeHeader);
            continue;
        };
        match split_line(line) {
            Some(fields) => row(&Record { line: n, fields, cols }, c),
            None => c.skip(n, SkipReason::BadCsv),
        }
    }
    if cols.is_none() && saw_data {
        return Err(FeedError::MissingHeader(key_column.first().copied().unwrap_or("")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(split_line("a, b ,c"), s(&["a", "b", "c"]));
        assert_eq!(split_line(r#""a","b,c","d""e""#), s(&["a", "b,c", "d\"e"]));
        assert_eq!(split_line(r#""x", "elf,mirai", "0""#), s(&["x", "elf,mirai", "0"]));
        assert_eq!(split_line("a,,"), s(&["a", "", ""]));
        assert_eq!(split_line(r#""a","#), s(&["a", ""]));
        assert_eq!(split_line(""), s(&[""]));
    }

    #[test]
    fn unterminated_quote_is_rejected() {
        assert_eq!(split_line(r#""abc,def"#), None);
    }
}
