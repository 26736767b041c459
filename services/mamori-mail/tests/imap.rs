//! IMAP sessions end to end.

mod common;

use common::*;
use mamori_applayer::{Direction, FileEnd, Probe, Status};
use mamori_mail::{imap, ImapParser, MailEvent};

fn fetch_answer(n: u32, item: &str, m: &[u8]) -> Vec<u8> {
    let mut v = format!("* {n} FETCH (FLAGS (\\Seen) UID 4{n} {item} {{{}}}\r\n", m.len()).into_bytes();
    v.extend_from_slice(m);
    v.extend_from_slice(b")\r\n");
    v
}

fn session(att: &[u8], sent: &[u8]) -> Vec<(Direction, Vec<u8>)> {
    let m = mail("Fetched", "f.pdf", att);
    let out = mail("Sent one", "s.docx", sent);
    let mut append = format!("a6 APPEND Sent (\\Seen) {{{}}}\r\n", out.len()).into_bytes();
    let mut append_body = out.clone();
    append_body.extend_from_slice(b"\r\n");
    append.truncate(append.len());
    vec![
        (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n".to_vec()),
        (C, b"a1 CAPABILITY\r\n".to_vec()),
        (S, b"* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK done\r\n".to_vec()),
        (C, b"a2 LOGIN \"bob\" \"s3cr3t\"\r\n".to_vec()),
        (S, b"a2 OK Logged in\r\n".to_vec()),
        (C, b"a3 SELECT INBOX\r\n".to_vec()),
        (S, b"* 2 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\na3 OK [READ-WRITE] done\r\n".to_vec()),
        (C, b"a4 FETCH 1:2 (FLAGS BODY.PEEK[])\r\n".to_vec()),
        (S, {
            let mut v = fetch_answer(1, "BODY[]", &m);
            v.extend_from_slice(&fetch_answer(2, "BODY[1]", b"just the text part"));
            v.extend_from_slice(b"a4 OK Fetch completed\r\n");
            v
        }),
        (C, append),
        (S, b"+ OK\r\n".to_vec()),
        (C, append_body),
        (S, b"a6 OK [APPENDUID 1 7] Append completed\r\n".to_vec()),
        (C, b"a7 LOGOUT\r\n".to_vec()),
        (S, b"* BYE\r\na7 OK\r\n".to_vec()),
    ]
}

fn play_owned(script: &[(Direction, Vec<u8>)], cut: Option<(Direction, usize)>) -> Run {
    let s: Vec<(Direction, &[u8])> = script.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    play(&mut ImapParser::new(), &s, cut)
}

#[test]
fn fetch_and_append_carry_mails() {
    let (att, sent) = (binary(3000, 21), binary(1200, 22));
    let run = play_owned(&session(&att, &sent), None);
    assert_eq!(run.starts(), vec![0, 1]);
    let recs = run.records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].1.email.as_ref().unwrap().subject.as_deref(), Some("Fetched"));
    assert_eq!(recs[1].1.email.as_ref().unwrap().subject.as_deref(), Some("Sent one"));
    assert_eq!(run.file_hashes(), vec![(b"f.pdf".to_vec(), 0, sha(&att)), (b"s.docx".to_vec(), 1, sha(&sent))]);
    assert_eq!(run.files.files[0].dir, S);
    assert_eq!(run.files.files[1].dir, C);
    assert!(run.files.files.iter().all(|f| f.end == Some(FileEnd::Closed)));
    assert!(run.anomalies().is_empty(), "{:?}", run.anomalies());
    let verbs: Vec<String> = run.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(verbs, vec!["CAPABILITY", "LOGIN", "SELECT", "FETCH", "APPEND", "LOGOUT"]);
    assert_eq!(run.replies(), vec!["OK", "OK", "OK", "OK", "OK", "OK", "OK", "BYE", "OK"]);
}

#[test]
fn login_password_never_recorded() {
    let run = play_owned(&session(b"a", b"b"), None);
    assert!(!run.debug_text().contains("s3cr3t"));
    assert!(run.commands().contains(&("LOGIN".into(), Some("bob".into()))));

    // Password sent as a literal.
    let script: Vec<(Direction, &[u8])> = vec![
        (C, b"a1 LOGIN bob {9}\r\n"),
        (S, b"+ go ahead\r\n"),
        (C, b"p4ss{w}rd\r\n"),
        (S, b"a1 OK\r\n"),
        (C, b"a2 AUTHENTICATE PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGJvYgBzM2NyM3Q=\r\n"),
        (S, b"a2 OK\r\n"),
        (C, b"a3 NOOP\r\n"),
    ];
    let run = play(&mut ImapParser::new(), &script, None);
    let text = run.debug_text();
    assert!(!text.contains("p4ss") && !text.contains("AGJvYgBzM2NyM3Q"));
    assert_eq!(
        run.commands(),
        vec![
            ("LOGIN".into(), Some("bob".into())),
            ("AUTHENTICATE".into(), Some("PLAIN".into())),
            ("NOOP".into(), None)
        ]
    );
}

#[test]
fn server_stream_split_at_every_offset() {
    let (att, sent) = (binary(150, 23), binary(10, 24));
    let script = session(&att, &sent);
    let want = play_owned(&script, None).file_hashes();
    let idx = 8;
    for cut in 0..script[idx].1.len() {
        let mut s = script.clone();
        let tail = s[idx].1.split_off(cut);
        s.insert(idx + 1, (S, tail));
        let run = play_owned(&s, None);
        assert_eq!(run.file_hashes(), want, "cut {cut}");
        assert!(run.anomalies().is_empty(), "cut {cut}: {:?}", run.anomalies());
    }
}

#[test]
fn refused_append_literal_is_not_waited_for() {
    let script: Vec<(Direction, &[u8])> =
        vec![(C, b"a5 APPEND Nope {500}\r\n"), (S, b"a5 NO [TRYCREATE] no such mailbox\r\n"), (C, b"a6 LOGOUT\r\n")];
    let run = play(&mut ImapParser::new(), &script, None);
    let verbs: Vec<String> = run.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(verbs, vec!["APPEND", "LOGOUT"]);
    assert!(run.starts().is_empty());
}

#[test]
fn mailbox_literal_is_not_a_mail() {
    let m = b"Subject: lit\r\n\r\nbody\r\n";
    let mut c = b"a1 APPEND {5+}\r\nDraft {".to_vec();
    c.extend_from_slice(format!("{}+}}\r\n", m.len()).as_bytes());
    c.extend_from_slice(m);
    c.extend_from_slice(b"\r\n");
    let run = play(&mut ImapParser::new(), &[(C, &c)], None);
    let recs = run.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].1.email.as_ref().unwrap().subject.as_deref(), Some("lit"));
}

#[test]
fn starttls() {
    let script: Vec<(Direction, &[u8])> =
        vec![(S, b"* OK ready\r\n"), (C, b"x STARTTLS\r\n"), (S, b"x OK Begin TLS negotiation now\r\n")];
    let run = play(&mut ImapParser::new(), &script, None);
    assert_eq!(run.statuses.last(), Some(&Status::StartTls));
    assert!(run.events.iter().any(|e| matches!(e, MailEvent::StartTls)));
}

#[test]
fn compress_stops_parsing() {
    let script: Vec<(Direction, &[u8])> =
        vec![(C, b"c1 COMPRESS DEFLATE\r\n"), (S, b"c1 OK DEFLATE active\r\n"), (S, b"\x78\x9c garbage")];
    let run = play(&mut ImapParser::new(), &script, None);
    assert_eq!(run.statuses[1..], [Status::Stop, Status::Stop]);
    assert!(run.anomalies().contains(&"compressed_session"));
}

#[test]
fn gap_inside_literal_keeps_framing() {
    let att = binary(5000, 25);
    let answer = fetch_answer(1, "RFC822", &mail("g", "g.bin", &att));
    let mut p = ImapParser::new();
    let mut events = Vec::new();
    let mut files = mamori_applayer::MemorySink::default();
    let mut ctx = mamori_applayer::ParseCtx { events: &mut events, files: &mut files };
    use mamori_applayer::StreamParser;
    p.input(S, &answer[..2000], &mut ctx);
    p.gap(S, 1000, &mut ctx);
    p.input(S, &answer[3000..], &mut ctx);
    p.input(S, b"a1 OK done\r\n", &mut ctx);
    assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
    assert!(events.iter().any(|e| matches!(e, MailEvent::Reply { code, .. } if code == "OK")));
    assert!(!events.iter().any(|e| matches!(e, MailEvent::Anomaly(a) if a.event == "invalid_reply")));
}

#[test]
fn partial_and_section_fetches() {
    let m = b"Subject: p\r\n\r\nx\r\n";
    for (item, is_mail) in [
        ("BODY[]<0>", true),
        ("BODY[]<100>", false),
        ("BODY[TEXT]", false),
        ("RFC822.HEADER", false),
        ("BINARY[]", true),
    ] {
        let run = play(&mut ImapParser::new(), &[(S, &fetch_answer(1, item, m))], None);
        assert_eq!(run.records().len(), usize::from(is_mail), "{item}");
    }
}

#[test]
fn huge_literal_size_is_skipped_not_buffered() {
    let mut p = ImapParser::new();
    let mut events = Vec::new();
    let mut sink = mamori_applayer::NullSink::default();
    let mut ctx = mamori_applayer::ParseCtx { events: &mut events, files: &mut sink };
    use mamori_applayer::StreamParser;
    p.input(S, b"* 1 FETCH (BODY[HEADER] {18446744073709551615}\r\n", &mut ctx);
    let chunk = vec![0u8; 65536];
    for _ in 0..16 {
        assert_eq!(p.input(S, &chunk, &mut ctx), Status::Continue);
    }
    // Still inside that literal: this is literal data, not a line.
    assert_eq!(p.input(S, b"* 1 FETCH (BODY[] {99999999999999999999999}\r\n", &mut ctx), Status::Continue);

    // A size that does not fit 64 bits cannot be framed: stop.
    let run = play(&mut ImapParser::new(), &[(S, b"* 1 FETCH (BODY[] {99999999999999999999999}\r\n")], None);
    assert_eq!(run.statuses, vec![Status::Stop]);
    assert_eq!(run.anomalies(), vec!["invalid_literal"]);
}

#[test]
fn probes() {
    assert_eq!(imap::probe(S, b"* OK [CAPABILITY IMAP4rev1] ready\r\n"), Probe::Match);
    assert_eq!(imap::probe(S, b"* PREAUTH hi"), Probe::Match);
    assert_eq!(imap::probe(S, b"* O"), Probe::NeedMore);
    assert_eq!(imap::probe(S, b"+OK pop"), Probe::NoMatch);
    assert_eq!(imap::probe(C, b"a001 CAPABILITY\r\n"), Probe::Match);
    assert_eq!(imap::probe(C, b"A1 login bob pw\r\n"), Probe::Match);
    assert_eq!(imap::probe(C, b"a001 CAPAB"), Probe::NeedMore);
    assert_eq!(imap::probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(imap::probe(C, b"EHLO x\r\n"), Probe::NoMatch);
}
