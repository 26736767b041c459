//! `pcre` and `pcrexform` patterns, compiled on first use so that loading a
//! large rule set stays fast (most of ET Open's regexes never run on a given
//! network).

use std::sync::OnceLock;

use mamori_rules::{Pcre, RegexEngine};

/// Compiled-program size limit for `regex`; past it PCRE2 takes over.
const RUST_SIZE_LIMIT: usize = 8 << 20;

enum Compiled {
    Rust(regex::bytes::Regex),
    Pcre2(pcre2::bytes::Regex),
}

/// A regex that compiles when first needed.
pub(crate) struct LazyRegex {
    pcre: Pcre,
    compiled: OnceLock<Option<Compiled>>,
}

impl LazyRegex {
    pub fn new(pcre: Pcre) -> LazyRegex {
        LazyRegex { pcre, compiled: OnceLock::new() }
    }

    fn get(&self) -> Option<&Compiled> {
        self.compiled.get_or_init(|| compile(&self.pcre)).as_ref()
    }

    /// First match in `hay` starting at or after `from`: (start, end).
    /// A pattern neither library accepts never matches.
    pub fn find_at(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        if from > hay.len() {
            return None;
        }
        match self.get()? {
            Compiled::Rust(r) => r.find_at(hay, from).map(|m| (m.start(), m.end())),
            // A matching error (match limit) counts as no match, as in Suricata.
            Compiled::Pcre2(r) => r.find_at(hay, from).ok().flatten().map(|m| (m.start(), m.end())),
        }
    }

    /// The first capture group of the first match (pcrexform).
    pub fn first_group<'h>(&self, hay: &'h [u8]) -> Option<&'h [u8]> {
        match self.get()? {
            Compiled::Rust(r) => r.captures(hay)?.get(1).map(|m| m.as_bytes()),
            Compiled::Pcre2(r) => r.captures(hay).ok().flatten()?.get(1).map(|m| m.as_bytes()),
        }
    }
}

fn compile(p: &Pcre) -> Option<Compiled> {
    if p.engine == RegexEngine::Rust {
        let built = regex::bytes::RegexBuilder::new(&p.rust_pattern())
            .size_limit(RUST_SIZE_LIMIT)
            .dfa_size_limit(RUST_SIZE_LIMIT)
            .build();
        if let Ok(r) = built {
            return Some(Compiled::Rust(r));
        }
    }
    compile_pcre2(p).map(Compiled::Pcre2)
}

fn compile_pcre2(p: &Pcre) -> Option<pcre2::bytes::Regex> {
    let f = &p.flags;
    // The pcre2 crate's builder has no ungreedy/anchored options: inline them.
    let mut src = String::with_capacity(p.source.len() + 8);
    if f.ungreedy {
        src.push_str("(?U)");
    }
    if f.anchored {
        src.push_str("\\A(?:");
        src.push_str(&p.source);
        src.push(')');
    } else {
        src.push_str(&p.source);
    }
    pcre2::bytes::RegexBuilder::new()
        .caseless(f.caseless)
        .dotall(f.dotall)
        .multi_line(f.multiline)
        .extended(f.extended)
        .jit_if_available(true)
        .build(&src)
        .ok()
}

/// A `pcrexform` regex (no flags).
pub(crate) fn plain(source: &str) -> LazyRegex {
    LazyRegex::new(Pcre {
        source: source.to_string(),
        modifiers: String::new(),
        flags: Default::default(),
        negated: false,
        engine: RegexEngine::Pcre2,
        captures: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_rules::PcreFlags;

    fn pcre(src: &str, flags: PcreFlags, engine: RegexEngine) -> LazyRegex {
        LazyRegex::new(Pcre {
            source: src.into(),
            modifiers: String::new(),
            flags,
            negated: false,
            engine,
            captures: vec![],
        })
    }

    #[test]
    fn both_engines_match_bytes_with_flags() {
        let f = PcreFlags { caseless: true, ..Default::default() };
        for e in [RegexEngine::Rust, RegexEngine::Pcre2] {
            let r = pcre("^get \\/two", f, e);
            assert_eq!(r.find_at(b"GET /two/", 0), Some((0, 8)));
            assert_eq!(r.find_at(b"xGET /two/", 0), None, "^ anchors at the haystack start");
            let r = pcre("\\xff\\x00", PcreFlags::default(), e);
            assert_eq!(r.find_at(b"a\xff\x00", 0), Some((1, 3)));
        }
        let r = pcre("(?<=a)b", PcreFlags::default(), RegexEngine::Pcre2);
        assert_eq!(r.find_at(b"ab", 0), Some((1, 2)));
    }

    #[test]
    fn broken_pattern_never_matches() {
        let r = pcre("(", PcreFlags::default(), RegexEngine::Pcre2);
        assert_eq!(r.find_at(b"(", 0), None);
    }

    #[test]
    fn pcrexform_takes_first_group() {
        let r = plain("a(b+)c");
        assert_eq!(r.first_group(b"xxabbbc"), Some(&b"bbb"[..]));
    }
}
