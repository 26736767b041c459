//! Text in a declared charset to UTF-8, via `encoding_rs` (which covers the
//! Japanese encodings that matter here: ISO-2022-JP, Shift_JIS, EUC-JP).

use encoding_rs::Encoding;

/// Labels mailers use that the WHATWG registry behind `encoding_rs` lacks.
fn alias(label: &str) -> Option<&'static Encoding> {
    match label {
        "cp932" | "ms932" | "windows-932" | "x-ms-cp932" | "sjis-open" | "shift_jisx0213" => {
            Some(encoding_rs::SHIFT_JIS)
        }
        "iso-2022-jp-1" | "iso-2022-jp-2" | "iso-2022-jp-3" | "csiso2022jp2" => Some(encoding_rs::ISO_2022_JP),
        "eucjp" | "euc_jp" | "x-euc" => Some(encoding_rs::EUC_JP),
        "utf8" => Some(encoding_rs::UTF_8),
        _ => None,
    }
}

/// Decodes `bytes` declared as `charset`. Unknown charsets fall back to
/// UTF-8, and undecodable bytes become U+FFFD, so names always come out.
pub fn decode_charset(charset: &[u8], bytes: &[u8]) -> String {
    let label = String::from_utf8_lossy(charset).trim().to_ascii_lowercase();
    // RFC 2231 allows a language suffix: "utf-8*ja".
    let label = label.split('*').next().unwrap_or_default();
    let encoding = Encoding::for_label(label.as_bytes()).or_else(|| alias(label)).unwrap_or(encoding_rs::UTF_8);
    let (text, _had_errors) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_charsets() {
        // "日本語" in each encoding.
        assert_eq!(decode_charset(b"ISO-2022-JP", b"\x1b$BF|K\\8l\x1b(B"), "日本語");
        assert_eq!(decode_charset(b"Shift_JIS", b"\x93\xfa\x96\x7b\x8c\xea"), "日本語");
        assert_eq!(decode_charset(b"cp932", b"\x93\xfa\x96\x7b\x8c\xea"), "日本語");
        assert_eq!(decode_charset(b"EUC-JP", b"\xc6\xfc\xcb\xdc\xb8\xec"), "日本語");
        assert_eq!(decode_charset(b"utf-8", "日本語".as_bytes()), "日本語");
    }

    #[test]
    fn unknown_and_language_tagged() {
        assert_eq!(decode_charset(b"x-unheard-of", b"abc"), "abc");
        assert_eq!(decode_charset(b"UTF-8*ja", "名前".as_bytes()), "名前");
        assert_eq!(decode_charset(b"iso-8859-1", b"caf\xe9"), "café");
    }
}
