//! MIME parser behaviour on whole messages, byte-exact fixtures.

use mamori_applayer::{Direction, FileEnd, MemorySink};
use sha2::{Digest, Sha256};

use super::decode::tests_support::encode_b64;
use super::MimeParser;

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn parse_chunks(chunks: &[&[u8]], complete: bool) -> (MimeParser, MemorySink) {
    let mut sink = MemorySink::default();
    let mut p = MimeParser::new(Direction::ToServer, 3);
    for c in chunks {
        p.feed(c, &mut sink);
    }
    p.finish(complete, &mut sink);
    (p, sink)
}

fn parse(msg: &[u8]) -> (MimeParser, MemorySink) {
    parse_chunks(&[msg], true)
}

fn anomaly_names(p: &mut MimeParser) -> Vec<&'static str> {
    p.take_anomalies().into_iter().map(|a| a.event).collect()
}

/// Wraps base64 at 76 columns as mailers do.
fn b64_lines(data: &[u8]) -> Vec<u8> {
    let enc = encode_b64(data);
    let mut out = Vec::new();
    for line in enc.chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn pdf_bytes() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.extend((0..3000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    v
}

fn nested_message(pdf: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(
        b"From: Alice <alice@example.com>\r\n\
To: bob@example.com, \"Doe, Carol\" <carol@example.com>\r\n\
Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\n\
Message-ID: <abc@example.com>\r\n\
Date: Tue, 2 Jan 2024 10:00:00 +0900\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
This is the preamble.\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=inner\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello Bob.\r\n\
--inner\r\n\
Content-Type: text/html\r\n\
\r\n\
<p>Hello</p>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Disposition: attachment;\r\n\
\x20filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n",
    );
    m.extend_from_slice(&b64_lines(pdf));
    m.extend_from_slice(
        b"--outer\r\n\
Content-Type: text/plain; name=\"notes.txt\"\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
line one=\r\n\
\x20continues=3D\r\n\
line two\r\n\
--outer--\r\n\
epilogue\r\n",
    );
    m
}

#[test]
fn nested_multipart_extracts_attachments_with_hashes() {
    let pdf = pdf_bytes();
    let msg = nested_message(&pdf);
    let (mut p, sink) = parse(&msg);
    assert_eq!(sink.files.len(), 2);
    let f = &sink.files[0];
    assert_eq!(f.meta.name, "報告.pdf".as_bytes());
    assert_eq!(f.meta.tx_id, 3);
    assert_eq!(f.meta.content_type.as_deref(), Some(&b"application/pdf"[..]));
    assert_eq!(f.dir, Direction::ToServer);
    assert_eq!(f.end, Some(FileEnd::Closed));
    assert_eq!(sha(&f.content), sha(&pdf));
    let t = &sink.files[1];
    assert_eq!(t.meta.name, b"notes.txt");
    assert_eq!(t.content, b"line one continues=\r\nline two");
    let s = p.summary();
    assert_eq!(s.from.as_deref(), Some("Alice <alice@example.com>"));
    assert_eq!(s.to, vec!["bob@example.com".to_owned(), "\"Doe, Carol\" <carol@example.com>".to_owned()]);
    assert_eq!(s.subject.as_deref(), Some("会議"));
    assert_eq!(s.message_id.as_deref(), Some("<abc@example.com>"));
    assert_eq!(s.attachments, vec!["報告.pdf".to_owned(), "notes.txt".to_owned()]);
    assert!(anomaly_names(&mut p).is_empty());
}

#[test]
fn split_at_every_offset_gives_same_files() {
    let pdf = pdf_bytes();
    let msg = nested_message(&pdf[..300]);
    let (_, whole) = parse(&msg);
    let want: Vec<(Vec<u8>, String)> = whole.files.iter().map(|f| (f.meta.name.clone(), sha(&f.content))).collect();
    assert_eq!(want.len(), 2);
    for cut in 0..=msg.len() {
        let (_, sink) = parse_chunks(&[&msg[..cut], &msg[cut..]], true);
        let got: Vec<(Vec<u8>, String)> = sink.files.iter().map(|f| (f.meta.name.clone(), sha(&f.content))).collect();
        assert_eq!(got, want, "cut at {cut}");
    }
}

#[test]
fn byte_at_a_time() {
    let pdf = pdf_bytes();
    let msg = nested_message(&pdf);
    let chunks: Vec<&[u8]> = msg.chunks(1).collect();
    let (_, sink) = parse_chunks(&chunks, true);
    assert_eq!(sha(&sink.files[0].content), sha(&pdf));
}

#[test]
fn missing_final_boundary_closes_last_part() {
    let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: application/octet-stream; name=a.bin\r\n\r\n\
payload\r\n";
    let (mut p, sink) = parse(msg);
    assert_eq!(sink.files.len(), 1);
    assert_eq!(sink.files[0].content, b"payload\r\n");
    assert_eq!(sink.files[0].end, Some(FileEnd::Closed));
    assert!(anomaly_names(&mut p).contains(&"missing_final_boundary"));
}

#[test]
fn outer_boundary_closes_unclosed_inner() {
    let msg = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\
Content-Disposition: attachment; filename=in.bin\r\n\r\n\
inner\r\n\
--o\r\n\
Content-Disposition: attachment; filename=out.bin\r\n\r\n\
outer\r\n\
--o--\r\n";
    let (mut p, sink) = parse(msg);
    let got: Vec<(&[u8], &[u8])> = sink.files.iter().map(|f| (f.meta.name.as_slice(), f.content.as_slice())).collect();
    assert_eq!(got, vec![(&b"in.bin"[..], &b"inner"[..]), (&b"out.bin"[..], &b"outer"[..])]);
    assert!(anomaly_names(&mut p).contains(&"unclosed_nested_multipart"));
}

#[test]
fn binary_part_keeps_bytes_exactly() {
    // 8bit content with CRLFs, bare LF and CR inside: only the CRLF before
    // the boundary is dropped.
    let body = b"a\r\nb\nc\rd\r\n\r\n";
    let mut msg = b"Content-Type: multipart/mixed; boundary=\"x y\"\r\n\r\n--x y\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    msg.extend_from_slice(body);
    msg.extend_from_slice(b"\r\n--x y--  \r\n");
    let (_, sink) = parse(&msg);
    assert_eq!(sink.files[0].content, body);
    assert!(sink.files[0].meta.name.is_empty());
}

#[test]
fn rfc822_attachment_is_parsed_recursively() {
    let msg = b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: message/rfc822\r\n\r\n\
Subject: inner\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\
Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--c--\r\n\
--b--\r\n";
    let (p, sink) = parse(msg);
    assert_eq!(sink.files.len(), 1);
    assert_eq!(sink.files[0].content, b"\x89PNG\r\n\x1a\n");
    assert_eq!(sink.files[0].meta.content_type.as_deref(), Some(&b"image/png"[..]));
    // Only the top-level subject is the mail's.
    assert_eq!(p.summary().subject.as_deref(), Some("outer"));
}

#[test]
fn nesting_is_bounded() {
    let mut msg = Vec::new();
    for i in 0..40 {
        msg.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
    }
    msg.extend_from_slice(b"Content-Type: application/zip; name=deep.zip\r\n\r\nPK\r\n");
    let (mut p, sink) = parse(&msg);
    assert!(anomaly_names(&mut p).contains(&"nesting_too_deep"));
    // The part below the limit is opaque, so nothing deeper is extracted.
    assert!(sink.files.is_empty());
}

#[test]
fn japanese_filenames_in_all_forms() {
    let msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: application/pdf; name=\"=?ISO-2022-JP?B?GyRCOCtAURsoQg==?=.pdf\"\r\n\r\nx\r\n--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename*0*=shift_jis''%93%FA%96%7B; filename*1=\".xls\"\r\n\r\ny\r\n--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"=?UTF-8?B?5pel5pys6Kqe?=\r\n =?UTF-8?B?LmRvYw==?=\"\r\n\r\nz\r\n--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"=?EUC-JP?B?xvzL3A==?=.txt\"\r\n\r\nw\r\n--b--\r\n";
    let (p, _) = parse(msg.as_bytes());
    assert_eq!(p.summary().attachments, vec!["見積.pdf", "日本.xls", "日本語.doc", "日本.txt"]);
}

#[test]
fn text_bodies_are_not_files_but_inline_images_are() {
    let msg = b"Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\n\
Content-Type: text/html\r\n\r\n<img src=cid:1>\r\n--r\r\n\
Content-Type: image/gif\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--r--\r\n";
    let (_, sink) = parse(msg);
    assert_eq!(sink.files.len(), 1);
    assert_eq!(sink.files[0].content, b"GIF89a");
}

#[test]
fn truncated_mail_truncates_open_file() {
    let msg = b"Content-Type: application/octet-stream; name=a.bin\r\n\r\npartial";
    let (_, sink) = parse_chunks(&[msg], false);
    assert_eq!(sink.files[0].end, Some(FileEnd::Truncated));
    assert_eq!(sink.files[0].content, b"partial");
}

#[test]
fn headers_only_mail_and_no_mime() {
    let (p, sink) = parse(b"Subject: hi\r\nFrom: a@b");
    assert!(sink.files.is_empty());
    assert_eq!(p.summary().subject.as_deref(), Some("hi"));
    assert_eq!(p.summary().from.as_deref(), Some("a@b"));
    let (p, sink) = parse(b"Subject: plain\r\n\r\nJust text.\r\n");
    assert!(sink.files.is_empty());
    assert_eq!(p.summary().subject.as_deref(), Some("plain"));
}

#[test]
fn boundary_inside_headers_of_part() {
    let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: application/x-a; name=a\r\n--b\r\n\
Content-Type: application/x-b; name=b\r\n\r\nbody-b\r\n--b--\r\n";
    let (mut p, sink) = parse(msg);
    assert_eq!(sink.files.len(), 1);
    assert_eq!(sink.files[0].meta.name, b"b");
    assert!(anomaly_names(&mut p).contains(&"boundary_in_headers"));
}

#[test]
fn huge_single_line_stays_bounded() {
    // A 1 MiB line of base64 with no line breaks streams through.
    let data: Vec<u8> = (0..786_432u32).map(|i| i as u8).collect();
    let enc = encode_b64(&data);
    let mut msg =
        b"Content-Type: application/octet-stream; name=big\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    msg.extend_from_slice(&enc);
    let chunks: Vec<&[u8]> = msg.chunks(1460).collect();
    let (_, sink) = parse_chunks(&chunks, true);
    assert_eq!(sha(&sink.files[0].content), sha(&data));
}
