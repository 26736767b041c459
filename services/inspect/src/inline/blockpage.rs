//! The page a blocked HTTP client sees: Japanese first, English second. It
//! says what was blocked, why, and whom to call (the customer's contact).

/// What the page tells the user.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockInfo<'a> {
    /// The address the user asked for, when known.
    pub url: Option<&'a str>,
    /// Why: the rule's message or the list/category that matched.
    pub reason: &'a str,
    /// Whom to call, from the configuration.
    pub contact: &'a str,
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// A whole HTTP response that closes the connection.
pub fn response(info: &BlockInfo<'_>) -> Vec<u8> {
    let url = info.url.map(escape).unwrap_or_else(|| "-".into());
    let reason =
        escape(if info.reason.is_empty() { "セキュリティポリシー (security policy)" } else { info.reason });
    let contact = if info.contact.is_empty() {
        "社内の管理者 (your administrator)".to_string()
    } else {
        escape(info.contact)
    };
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>アクセスをブロックしました</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}}
h1{{color:#b00020;font-size:1.4em}}dt{{font-weight:bold;margin-top:.8em}}.en{{color:#666;font-size:.9em}}</style>
</head><body>
<h1>このページへのアクセスはブロックされました</h1>
<p>お使いのネットワークを守るため、Mamori がこの通信を止めました。</p>
<dl>
<dt>ブロックしたもの</dt><dd>{url}</dd>
<dt>理由</dt><dd>{reason}</dd>
<dt>お問い合わせ先</dt><dd>{contact}</dd>
</dl>
<p>業務に必要なページの場合は、上記のお問い合わせ先にこの画面の内容をお伝えください。</p>
<hr>
<p class="en">Access to this page was blocked by Mamori to protect your network.
Blocked: {url}. Reason: {reason}. If you need this page for your work, contact: {contact}.</p>
</body></html>
"#
    );
    let mut out = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_what_why_and_whom_and_escapes_input() {
        let r = response(&BlockInfo {
            url: Some("http://evil.example/<script>"),
            reason: "ET MALWARE \"test\"",
            contact: "IT担当: 03-1234-5678",
        });
        let text = String::from_utf8(r).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(head.contains("charset=utf-8"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(body.contains("ブロック"));
        assert!(body.contains("http://evil.example/&lt;script&gt;"));
        assert!(!body.contains("<script>"));
        assert!(body.contains("ET MALWARE &quot;test&quot;"));
        assert!(body.contains("IT担当: 03-1234-5678"));
    }
}
