//! POP3 sessions end to end.

mod common;

use common::*;
use mamori_applayer::{Direction, FileEnd, Probe, Status};
use mamori_mail::{pop3, MailEvent, Pop3Parser};

fn retr_answer(m: &[u8]) -> Vec<u8> {
    let mut v = format!("+OK {} octets\r\n", m.len()).into_bytes();
    v.extend_from_slice(&dot_stuff(m));
    v.extend_from_slice(b".\r\n");
    v
}

fn session(att: &[u8]) -> Vec<(Direction, Vec<u8>)> {
    let m = mail("Invoice", "inv.pdf", att);
    let headers_only = b"Subject: second\r\nFrom: x@y\r\n\r\n".to_vec();
    vec![
        (S, b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n".to_vec()),
        (C, b"CAPA\r\n".to_vec()),
        (S, b"+OK Capability list follows\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n".to_vec()),
        (C, b"USER bob\r\n".to_vec()),
        (S, b"+OK\r\n".to_vec()),
        (C, b"PASS hunter2\r\n".to_vec()),
        (S, b"+OK maildrop has 2 messages\r\n".to_vec()),
        (C, b"LIST\r\n".to_vec()),
        (S, b"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n".to_vec()),
        (C, b"RETR 1\r\n".to_vec()),
        (S, retr_answer(&m)),
        (C, b"TOP 2 0\r\n".to_vec()),
        (S, retr_answer(&headers_only)),
        (C, b"RETR 9\r\n".to_vec()),
        (S, b"-ERR no such message\r\n".to_vec()),
        (C, b"QUIT\r\n".to_vec()),
        (S, b"+OK bye\r\n".to_vec()),
    ]
}

fn play_owned(script: &[(Direction, Vec<u8>)], cut: Option<(Direction, usize)>) -> Run {
    let s: Vec<(Direction, &[u8])> = script.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    play(&mut Pop3Parser::new(), &s, cut)
}

#[test]
fn retr_and_top_are_mails() {
    let att = binary(2500, 11);
    let run = play_owned(&session(&att), None);
    assert_eq!(run.starts(), vec![0, 1]);
    let recs = run.records();
    assert_eq!(recs.len(), 2);
    assert!(recs[0].1.smtp.is_none());
    let e0 = recs[0].1.email.as_ref().unwrap();
    assert_eq!(e0.subject.as_deref(), Some("Invoice"));
    assert_eq!(e0.attachment, vec!["inv.pdf".to_owned()]);
    assert_eq!(recs[1].1.email.as_ref().unwrap().subject.as_deref(), Some("second"));
    assert_eq!(run.file_hashes(), vec![(b"inv.pdf".to_vec(), 0, sha(&att))]);
    assert_eq!(run.files.files[0].dir, S);
    assert_eq!(run.files.files[0].end, Some(FileEnd::Closed));
    assert!(run.anomalies().is_empty(), "{:?}", run.anomalies());
}

#[test]
fn user_is_logged_password_never() {
    let run = play_owned(&session(b"x"), None);
    assert!(!run.debug_text().contains("hunter2"));
    let cmds = run.commands();
    assert!(cmds.contains(&("USER".into(), Some("bob".into()))));
    assert!(cmds.contains(&("PASS".into(), None)));
    assert!(cmds.contains(&("RETR".into(), Some("1".into()))));
}

#[test]
fn server_stream_split_at_every_offset() {
    let att = binary(200, 12);
    let script = session(&att);
    let want = play_owned(&script, None).file_hashes();
    let idx = 10;
    for cut in 0..script[idx].1.len() {
        let mut s = script.clone();
        let tail = s[idx].1.split_off(cut);
        s.insert(idx + 1, (S, tail));
        let run = play_owned(&s, None);
        assert_eq!(run.file_hashes(), want, "cut {cut}");
        assert_eq!(run.records().len(), 2, "cut {cut}");
    }
}

#[test]
fn stls_and_sasl() {
    let script: Vec<(Direction, &[u8])> = vec![
        (S, b"+OK ready\r\n"),
        (C, b"AUTH PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGJvYgBodW50ZXIy\r\n"),
        (S, b"+OK logged in\r\n"),
        (C, b"STLS\r\n"),
        (S, b"+OK begin TLS\r\n"),
    ];
    let run = play(&mut Pop3Parser::new(), &script, None);
    assert_eq!(run.statuses.last(), Some(&Status::StartTls));
    assert!(run.events.iter().any(|e| matches!(e, MailEvent::StartTls)));
    assert!(!run.debug_text().contains("AGJvYgBodW50ZXIy"));
    assert_eq!(run.commands(), vec![("AUTH".into(), Some("PLAIN".into())), ("STLS".into(), None)]);
}

#[test]
fn gap_inside_retr_truncates_and_recovers() {
    let att = binary(4000, 13);
    let answer = retr_answer(&mail("g", "g.bin", &att));
    let mut p = Pop3Parser::new();
    let mut events = Vec::new();
    let mut files = mamori_applayer::MemorySink::default();
    let mut ctx = mamori_applayer::ParseCtx { events: &mut events, files: &mut files };
    use mamori_applayer::StreamParser;
    p.input(S, b"+OK hi\r\n", &mut ctx);
    p.input(C, b"RETR 1\r\nSTAT\r\n", &mut ctx);
    p.input(S, &answer[..1000], &mut ctx);
    p.gap(S, 1000, &mut ctx);
    p.input(S, &answer[2000..], &mut ctx);
    p.input(C, b"NOOP\r\n", &mut ctx);
    p.input(S, b"+OK\r\n", &mut ctx);
    assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
    let replies = events.iter().filter(|e| matches!(e, MailEvent::Reply { .. })).count();
    assert_eq!(replies, 3);
}

#[test]
fn probes() {
    assert_eq!(pop3::probe(S, b"+OK POP3 ready\r\n"), Probe::Match);
    assert_eq!(pop3::probe(S, b"+O"), Probe::NeedMore);
    assert_eq!(pop3::probe(S, b"* OK IMAP"), Probe::NoMatch);
    assert_eq!(pop3::probe(S, b"220 smtp"), Probe::NoMatch);
    assert_eq!(pop3::probe(C, b"CAPA\r\n"), Probe::Match);
    assert_eq!(pop3::probe(C, b"capa\r\n"), Probe::Match);
    assert_eq!(pop3::probe(C, b"USER bob\r\n"), Probe::NoMatch);
    assert_eq!(pop3::probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
}
