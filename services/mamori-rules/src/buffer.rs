//! Inspection buffers: sticky buffer keywords (`http.uri;`), their legacy
//! content-modifier forms (`content:"x"; http_uri;`), pcre buffer flags
//! (`/x/U`), and transforms applied to a sticky buffer.

use crate::error::{invalid, KwResult};
use crate::header::AppLayer;
use crate::text;

/// Where a content, pcre or byte_* keyword looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buffer {
    /// Packet payload and reassembled stream (rule protocol `tcp`, `udp`, app-layer, ...).
    Payload,
    /// Reassembled stream only (`tcp-stream` rules).
    Stream,
    /// Packet payload only (`tcp-pkt` rules).
    Packet,
    HttpUri,
    HttpUriRaw,
    HttpMethod,
    HttpHost,
    HttpHostRaw,
    HttpUserAgent,
    HttpHeader,
    HttpHeaderRaw,
    HttpHeaderNames,
    HttpCookie,
    HttpContentType,
    HttpContentLen,
    HttpRequestLine,
    HttpRequestBody,
    HttpStatCode,
    HttpStatMsg,
    HttpResponseLine,
    HttpProtocol,
    HttpStart,
    HttpReferer,
    HttpAccept,
    HttpAcceptEnc,
    HttpAcceptLang,
    HttpConnection,
    HttpLocation,
    HttpServer,
    HttpRequestHeader,
    HttpResponseHeader,
    /// `file.data`: HTTP response (and request) bodies, SMTP attachments, ...
    /// Also `http.response_body` / `http_server_body`, which Suricata 6+
    /// registers on this same list.
    FileData,
    FileName,
    TlsSni,
    TlsCertSubject,
    TlsCertIssuer,
    TlsCertSerial,
    TlsCertFingerprint,
    TlsCerts,
    TlsSubjectAltName,
    Ja3Hash,
    Ja3String,
    Ja3sHash,
    Ja3sString,
    Ja4Hash,
    DnsQuery,
    SshProto,
    SshSoftware,
    SshHassh,
    SshHasshString,
    SshHasshServer,
    SshHasshServerString,
    SmtpHelo,
    SmtpMailFrom,
    SmtpRcptTo,
    QuicSni,
    QuicUa,
    QuicVersion,
    QuicCyuHash,
    QuicCyuString,
    /// Data decoded by `base64_decode`.
    Base64Data,
}

/// How a keyword selects a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BufferKeyword {
    /// Following keywords inspect this buffer.
    Sticky(Buffer),
    /// Moves the preceding content into this buffer.
    Modifier(Buffer),
}

const STICKY: &[(&str, Buffer)] = &[
    ("pkt_data", Buffer::Payload),
    ("file.data", Buffer::FileData),
    ("file_data", Buffer::FileData),
    ("file.name", Buffer::FileName),
    ("http.uri", Buffer::HttpUri),
    ("http.uri.raw", Buffer::HttpUriRaw),
    ("http.method", Buffer::HttpMethod),
    ("http.host", Buffer::HttpHost),
    ("http.host.raw", Buffer::HttpHostRaw),
    ("http.user_agent", Buffer::HttpUserAgent),
    ("http.header", Buffer::HttpHeader),
    ("http.header.raw", Buffer::HttpHeaderRaw),
    ("http.header_names", Buffer::HttpHeaderNames),
    ("http.cookie", Buffer::HttpCookie),
    ("http.content_type", Buffer::HttpContentType),
    ("http.content_len", Buffer::HttpContentLen),
    // Pre-5.0 underscore names Suricata keeps as aliases of sticky buffers.
    ("http_content_type", Buffer::HttpContentType),
    ("http_content_len", Buffer::HttpContentLen),
    ("http_referer", Buffer::HttpReferer),
    ("http_accept", Buffer::HttpAccept),
    ("http_accept_enc", Buffer::HttpAcceptEnc),
    ("http_accept_lang", Buffer::HttpAcceptLang),
    ("http_connection", Buffer::HttpConnection),
    ("http_protocol", Buffer::HttpProtocol),
    ("http_start", Buffer::HttpStart),
    ("http_header_names", Buffer::HttpHeaderNames),
    ("http_location", Buffer::HttpLocation),
    ("http_server", Buffer::HttpServer),
    ("http.request_line", Buffer::HttpRequestLine),
    ("http_request_line", Buffer::HttpRequestLine),
    ("http.request_body", Buffer::HttpRequestBody),
    ("http.stat_code", Buffer::HttpStatCode),
    ("http.stat_msg", Buffer::HttpStatMsg),
    ("http.response_line", Buffer::HttpResponseLine),
    ("http_response_line", Buffer::HttpResponseLine),
    // Suricata 6+ registers http.response_body on the file_data list.
    ("http.response_body", Buffer::FileData),
    ("http.protocol", Buffer::HttpProtocol),
    ("http.start", Buffer::HttpStart),
    ("http.referer", Buffer::HttpReferer),
    ("http.accept", Buffer::HttpAccept),
    ("http.accept_enc", Buffer::HttpAcceptEnc),
    ("http.accept_lang", Buffer::HttpAcceptLang),
    ("http.connection", Buffer::HttpConnection),
    ("http.location", Buffer::HttpLocation),
    ("http.server", Buffer::HttpServer),
    ("http.request_header", Buffer::HttpRequestHeader),
    ("http.response_header", Buffer::HttpResponseHeader),
    ("tls.sni", Buffer::TlsSni),
    ("tls_sni", Buffer::TlsSni),
    ("tls.cert_subject", Buffer::TlsCertSubject),
    ("tls_cert_subject", Buffer::TlsCertSubject),
    ("tls.cert_issuer", Buffer::TlsCertIssuer),
    ("tls_cert_issuer", Buffer::TlsCertIssuer),
    ("tls.cert_serial", Buffer::TlsCertSerial),
    ("tls_cert_serial", Buffer::TlsCertSerial),
    ("tls.cert_fingerprint", Buffer::TlsCertFingerprint),
    ("tls_cert_fingerprint", Buffer::TlsCertFingerprint),
    ("tls.certs", Buffer::TlsCerts),
    ("tls.subjectaltname", Buffer::TlsSubjectAltName),
    ("ja3.hash", Buffer::Ja3Hash),
    ("ja3_hash", Buffer::Ja3Hash),
    ("ja3.string", Buffer::Ja3String),
    ("ja3_string", Buffer::Ja3String),
    ("ja3s.hash", Buffer::Ja3sHash),
    ("ja3s.string", Buffer::Ja3sString),
    ("ja4.hash", Buffer::Ja4Hash),
    ("dns.query", Buffer::DnsQuery),
    ("dns_query", Buffer::DnsQuery),
    ("ssh.proto", Buffer::SshProto),
    ("ssh_proto", Buffer::SshProto),
    ("ssh.software", Buffer::SshSoftware),
    ("ssh_software", Buffer::SshSoftware),
    ("ssh.hassh", Buffer::SshHassh),
    ("ssh.hassh.string", Buffer::SshHasshString),
    ("ssh.hassh.server", Buffer::SshHasshServer),
    ("ssh.hassh.server.string", Buffer::SshHasshServerString),
    ("smtp.helo", Buffer::SmtpHelo),
    ("smtp.mail_from", Buffer::SmtpMailFrom),
    ("smtp.rcpt_to", Buffer::SmtpRcptTo),
    ("quic.sni", Buffer::QuicSni),
    ("quic.ua", Buffer::QuicUa),
    ("quic.version", Buffer::QuicVersion),
    ("quic.cyu.hash", Buffer::QuicCyuHash),
    ("quic.cyu.string", Buffer::QuicCyuString),
    ("base64_data", Buffer::Base64Data),
];

const MODIFIERS: &[(&str, Buffer)] = &[
    ("http_uri", Buffer::HttpUri),
    ("http_raw_uri", Buffer::HttpUriRaw),
    ("http_method", Buffer::HttpMethod),
    ("http_host", Buffer::HttpHost),
    ("http_raw_host", Buffer::HttpHostRaw),
    ("http_user_agent", Buffer::HttpUserAgent),
    ("http_header", Buffer::HttpHeader),
    ("http_raw_header", Buffer::HttpHeaderRaw),
    ("http_cookie", Buffer::HttpCookie),
    ("http_client_body", Buffer::HttpRequestBody),
    ("http_stat_code", Buffer::HttpStatCode),
    ("http_stat_msg", Buffer::HttpStatMsg),
    ("http_server_body", Buffer::FileData),
];

pub(crate) fn lookup(keyword: &str) -> Option<BufferKeyword> {
    if let Some(&(_, b)) = STICKY.iter().find(|(k, _)| *k == keyword) {
        return Some(BufferKeyword::Sticky(b));
    }
    MODIFIERS.iter().find(|(k, _)| *k == keyword).map(|&(_, b)| BufferKeyword::Modifier(b))
}

impl Buffer {
    /// The pcre flag that selects a buffer (Suricata detect-pcre.c).
    pub fn from_pcre_flag(flag: char) -> Option<Buffer> {
        Some(match flag {
            'U' => Buffer::HttpUri,
            'I' => Buffer::HttpUriRaw,
            'P' => Buffer::HttpRequestBody,
            'Q' => Buffer::FileData,
            'H' => Buffer::HttpHeader,
            'D' => Buffer::HttpHeaderRaw,
            'M' => Buffer::HttpMethod,
            'C' => Buffer::HttpCookie,
            'S' => Buffer::HttpStatCode,
            'Y' => Buffer::HttpStatMsg,
            'V' => Buffer::HttpUserAgent,
            'W' => Buffer::HttpHost,
            'Z' => Buffer::HttpHostRaw,
            _ => return None,
        })
    }

    /// The canonical (Suricata 7 dotted) keyword naming this buffer.
    pub fn keyword(self) -> &'static str {
        match self {
            Buffer::Payload | Buffer::Stream | Buffer::Packet => "pkt_data",
            // Prefer the dotted Suricata 5+ name over legacy aliases.
            b => STICKY
                .iter()
                .filter(|&&(_, x)| x == b)
                .map(|&(k, _)| k)
                .min_by_key(|k| !k.contains('.'))
                .unwrap_or("pkt_data"),
        }
    }

    /// Whether this is the raw payload/stream rather than an app-layer field.
    /// Every buffer a rule can name, each once.
    pub fn all() -> Vec<Buffer> {
        let mut v: Vec<Buffer> = STICKY.iter().chain(MODIFIERS).map(|&(_, b)| b).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn is_payload(self) -> bool {
        matches!(self, Buffer::Payload | Buffer::Stream | Buffer::Packet)
    }

    /// The app-layer protocols that fill this buffer; empty means any.
    pub fn app_layers(self) -> &'static [AppLayer] {
        use Buffer::*;
        match self {
            Payload | Stream | Packet | Base64Data => &[],
            HttpUri | HttpUriRaw | HttpMethod | HttpHost | HttpHostRaw | HttpUserAgent | HttpHeader | HttpHeaderRaw
            | HttpHeaderNames | HttpCookie | HttpContentType | HttpContentLen | HttpRequestLine | HttpRequestBody
            | HttpStatCode | HttpStatMsg | HttpResponseLine | HttpProtocol | HttpStart | HttpReferer | HttpAccept
            | HttpAcceptEnc | HttpAcceptLang | HttpConnection | HttpLocation | HttpServer | HttpRequestHeader
            | HttpResponseHeader => &[AppLayer::Http],
            FileData | FileName => &[],
            TlsSni | TlsCertSubject | TlsCertIssuer | TlsCertSerial | TlsCertFingerprint | TlsCerts
            | TlsSubjectAltName | Ja3sHash | Ja3sString => &[AppLayer::Tls],
            Ja3Hash | Ja3String | Ja4Hash => &[AppLayer::Tls, AppLayer::Quic],
            DnsQuery => &[AppLayer::Dns],
            SshProto | SshSoftware | SshHassh | SshHasshString | SshHasshServer | SshHasshServerString => {
                &[AppLayer::Ssh]
            }
            SmtpHelo | SmtpMailFrom | SmtpRcptTo => &[AppLayer::Smtp],
            QuicSni | QuicUa | QuicVersion | QuicCyuHash | QuicCyuString => &[AppLayer::Quic],
        }
    }
}

/// A transform applied to a sticky buffer before inspection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Transform {
    ToLowercase,
    ToUppercase,
    StripWhitespace,
    CompressWhitespace,
    UrlDecode,
    Dotprefix,
    ToMd5,
    ToSha1,
    ToSha256,
    HeaderLowercase,
    StripPseudoHeaders,
    /// `xor:"<hex key>"`.
    Xor(Vec<u8>),
    /// `pcrexform:"<regex>"`: the first capture replaces the buffer.
    Pcrexform(String),
    /// `from_base64` with Suricata's defaults (RFC 4648 mode, no offset or limit).
    FromBase64,
}

impl Transform {
    /// Parses a transform keyword; `None` when `keyword` is not one.
    pub(crate) fn parse(keyword: &str, value: Option<&str>) -> Option<KwResult<Transform>> {
        let no_value = |t: Transform| -> KwResult<Transform> {
            match value {
                None => Ok(t),
                Some(_) => Err(crate::error::RuleErrorKind::UnexpectedValue),
            }
        };
        Some(match keyword {
            "to_lowercase" => no_value(Transform::ToLowercase),
            "to_uppercase" => no_value(Transform::ToUppercase),
            "strip_whitespace" => no_value(Transform::StripWhitespace),
            "compress_whitespace" => no_value(Transform::CompressWhitespace),
            "url_decode" => no_value(Transform::UrlDecode),
            "dotprefix" => no_value(Transform::Dotprefix),
            "to_md5" => no_value(Transform::ToMd5),
            "to_sha1" => no_value(Transform::ToSha1),
            "to_sha256" => no_value(Transform::ToSha256),
            "header_lowercase" => no_value(Transform::HeaderLowercase),
            "strip_pseudo_headers" => no_value(Transform::StripPseudoHeaders),
            "from_base64" => match value {
                None => Ok(Transform::FromBase64),
                Some(_) => Err(crate::error::RuleErrorKind::Unsupported("from_base64 options".into())),
            },
            "xor" => parse_xor(value),
            "pcrexform" => match value {
                Some(v) => text::quoted(v).map(|s| Transform::Pcrexform(s.to_string())),
                None => Err(crate::error::RuleErrorKind::MissingValue),
            },
            _ => return None,
        })
    }
}

fn parse_xor(value: Option<&str>) -> KwResult<Transform> {
    let v = value.ok_or(crate::error::RuleErrorKind::MissingValue)?;
    let hexs = text::quoted(v)?;
    if hexs.is_empty() || hexs.len() % 2 != 0 || hexs.len() > 510 {
        return Err(invalid("xor key must be an even number of hex digits, at most 255 bytes"));
    }
    let mut key = Vec::with_capacity(hexs.len() / 2);
    let bytes = hexs.as_bytes();
    for pair in bytes.chunks_exact(2) {
        let s = std::str::from_utf8(pair).map_err(|_| invalid("xor key is not hex"))?;
        key.push(u8::from_str_radix(s, 16).map_err(|_| invalid("xor key is not hex"))?);
    }
    Ok(Transform::Xor(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_tables() {
        assert_eq!(lookup("http.uri"), Some(BufferKeyword::Sticky(Buffer::HttpUri)));
        assert_eq!(lookup("http_uri"), Some(BufferKeyword::Modifier(Buffer::HttpUri)));
        assert_eq!(lookup("tls_sni"), Some(BufferKeyword::Sticky(Buffer::TlsSni)));
        assert_eq!(lookup("http_client_body"), Some(BufferKeyword::Modifier(Buffer::HttpRequestBody)));
        assert_eq!(lookup("http.fancy"), None);
        assert_eq!(Buffer::TlsSni.keyword(), "tls.sni");
        assert_eq!(Buffer::HttpReferer.keyword(), "http.referer");
        assert_eq!(lookup("http_referer"), Some(BufferKeyword::Sticky(Buffer::HttpReferer)));
        assert_eq!(Buffer::from_pcre_flag('W'), Some(Buffer::HttpHost));
        assert_eq!(Buffer::from_pcre_flag('K'), None);
    }

    #[test]
    fn transforms() {
        assert_eq!(Transform::parse("dotprefix", None), Some(Ok(Transform::Dotprefix)));
        assert_eq!(
            Transform::parse("xor", Some("\"0d0ac8ff\"")),
            Some(Ok(Transform::Xor(vec![0x0d, 0x0a, 0xc8, 0xff])))
        );
        assert!(matches!(Transform::parse("xor", Some("\"0d0\"")), Some(Err(_))));
        assert!(matches!(Transform::parse("to_md5", Some("x")), Some(Err(_))));
        assert_eq!(Transform::parse("content", None), None);
    }
}
