//! SMTP sessions end to end: commands, replies, mails, files, STARTTLS.

mod common;

use common::*;
use mamori_applayer::{FileEnd, NullSink, ParseCtx, Probe, Status, StreamParser};
use mamori_mail::{smtp, MailEvent, SmtpParser};

fn session(att1: &[u8], att2: &[u8]) -> Vec<(mamori_applayer::Direction, Vec<u8>)> {
    let mut data1 = dot_stuff(&mail("First", "one.bin", att1));
    data1.extend_from_slice(b".\r\n");
    let mut data2 = dot_stuff(&mail("=?UTF-8?B?5Lul5LiK?=", "two.bin", att2));
    data2.extend_from_slice(b".\r\n");
    vec![
        (S, b"220 mx.example.com ESMTP Postfix\r\n".to_vec()),
        (C, b"EHLO client.example.org\r\n".to_vec()),
        (S, b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n".to_vec()),
        (C, b"MAIL FROM:<alice@example.com> SIZE=1234\r\n".to_vec()),
        (S, b"250 2.1.0 Ok\r\n".to_vec()),
        (C, b"RCPT TO:<bob@example.com>\r\n".to_vec()),
        (S, b"250 2.1.5 Ok\r\n".to_vec()),
        (C, b"RCPT TO: <carol@example.com>\r\n".to_vec()),
        (S, b"250 2.1.5 Ok\r\n".to_vec()),
        (C, b"DATA\r\n".to_vec()),
        (S, b"354 End data with <CR><LF>.<CR><LF>\r\n".to_vec()),
        (C, data1),
        (S, b"250 2.0.0 Ok: queued as 1\r\n".to_vec()),
        // Pipelined second transaction.
        (C, b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<dave@example.com>\r\nDATA\r\n".to_vec()),
        (S, b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n".to_vec()),
        (C, data2),
        (S, b"250 2.0.0 Ok: queued as 2\r\n".to_vec()),
        (C, b"QUIT\r\n".to_vec()),
        (S, b"221 2.0.0 Bye\r\n".to_vec()),
    ]
}

fn play_owned(
    script: &[(mamori_applayer::Direction, Vec<u8>)],
    cut: Option<(mamori_applayer::Direction, usize)>,
) -> Run {
    let s: Vec<(mamori_applayer::Direction, &[u8])> = script.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    play(&mut SmtpParser::new(), &s, cut)
}

#[test]
fn two_mails_with_attachments_and_eve() {
    let (a1, a2) = (binary(5000, 1), binary(777, 2));
    let run = play_owned(&session(&a1, &a2), None);
    assert_eq!(run.starts(), vec![0, 1]);
    let recs = run.records();
    assert_eq!(recs.len(), 2);
    let (tx0, r0) = &recs[0];
    assert_eq!(*tx0, 0);
    assert!(!r0.truncated);
    assert_eq!(
        serde_json::to_string(r0.smtp.as_ref().unwrap()).unwrap(),
        r#"{"helo":"client.example.org","mail_from":"<alice@example.com>","rcpt_to":["<bob@example.com>","<carol@example.com>"]}"#
    );
    assert_eq!(
        serde_json::to_string(r0.email.as_ref().unwrap()).unwrap(),
        r#"{"from":"Alice <alice@example.com>","to":["bob@example.com"],"cc":["carol@example.com"],"status":"PARSE_DONE","attachment":["one.bin"],"message_id":"<one.bin@example.com>","subject":"First"}"#
    );
    let e1 = recs[1].1.email.as_ref().unwrap();
    assert_eq!(e1.subject.as_deref(), Some("以上"));
    assert_eq!(recs[1].1.smtp.as_ref().unwrap().rcpt_to, vec!["<dave@example.com>".to_owned()]);

    assert_eq!(run.file_hashes(), vec![(b"one.bin".to_vec(), 0, sha(&a1)), (b"two.bin".to_vec(), 1, sha(&a2))]);
    assert!(run.files.files.iter().all(|f| f.end == Some(FileEnd::Closed) && f.dir == C));
    assert_eq!(run.replies(), vec!["220", "250", "250", "250", "250", "354", "250", "250", "250", "354", "250", "221"]);
    let verbs: Vec<String> = run.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(verbs, vec!["EHLO", "MAIL", "RCPT", "RCPT", "DATA", "MAIL", "RCPT", "DATA", "QUIT"]);
    assert!(run.anomalies().is_empty(), "{:?}", run.anomalies());
    assert!(run.statuses.iter().all(|s| *s == Status::Continue));
}

#[test]
fn client_stream_split_at_every_offset() {
    let (a1, a2) = (binary(400, 3), binary(90, 4));
    let script = session(&a1, &a2);
    let want = play_owned(&script, None).file_hashes();
    // The DATA message of the first mail, split everywhere.
    let data_len = script[11].1.len();
    for cut in 0..data_len {
        let mut s = script.clone();
        let tail = s[11].1.split_off(cut);
        s.insert(12, (C, tail));
        assert_eq!(play_owned(&s, None).file_hashes(), want, "cut {cut}");
    }
    // And the pipelined command block and replies.
    for cut in 0..script[13].1.len() {
        assert_eq!(play_owned(&script, Some((C, cut))).file_hashes(), want, "pipelined cut {cut}");
    }
    for cut in 0..script[2].1.len() {
        assert_eq!(play_owned(&script, Some((S, cut))).records().len(), 2);
    }
}

#[test]
fn dot_unstuffing_reaches_the_mime_parser() {
    // A text/plain attachment whose lines start with dots.
    let body = b"Content-Type: text/plain; name=dots.txt\r\n\r\n.a\r\n..b\r\nc.\r\n";
    let mut data = dot_stuff(body);
    data.extend_from_slice(b".\r\n");
    let script: Vec<(mamori_applayer::Direction, &[u8])> = vec![
        (C, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
        (S, b"250 ok\r\n250 ok\r\n354 go\r\n"),
        (C, &data),
        (S, b"250 ok\r\n"),
    ];
    let run = play(&mut SmtpParser::new(), &script, None);
    assert_eq!(run.files.files[0].content, b".a\r\n..b\r\nc.\r\n");
}

#[test]
fn starttls_accepted_hands_over() {
    let mut p = SmtpParser::new();
    let script: Vec<(mamori_applayer::Direction, &[u8])> = vec![
        (S, b"220 mx ESMTP\r\n"),
        (C, b"EHLO me\r\n"),
        (S, b"250-mx\r\n250 STARTTLS\r\n"),
        (C, b"STARTTLS\r\n"),
        (S, b"220 2.0.0 Ready to start TLS\r\n"),
        (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ];
    let run = play(&mut p, &script, None);
    assert_eq!(run.statuses[4], Status::StartTls);
    assert_eq!(run.statuses[5], Status::StartTls);
    assert_eq!(run.events.iter().filter(|e| matches!(e, MailEvent::StartTls)).count(), 1);
    assert!(run.anomalies().is_empty());
}

#[test]
fn starttls_refused_continues_in_clear() {
    let script: Vec<(mamori_applayer::Direction, &[u8])> = vec![
        (C, b"EHLO me\r\n"),
        (S, b"220 mx\r\n250 ok\r\n"),
        (C, b"STARTTLS\r\n"),
        (S, b"454 TLS not available\r\n"),
        (C, b"MAIL FROM:<a@b>\r\n"),
    ];
    let run = play(&mut SmtpParser::new(), &script, None);
    assert!(run.statuses.iter().all(|s| *s == Status::Continue));
    assert_eq!(run.starts(), vec![0]);
}

#[test]
fn auth_credentials_are_never_recorded() {
    let script: Vec<(mamori_applayer::Direction, &[u8])> = vec![
        (S, b"220 mx ESMTP\r\n"),
        (C, b"EHLO me\r\n"),
        (S, b"250 AUTH LOGIN PLAIN\r\n"),
        (C, b"AUTH LOGIN\r\n"),
        (S, b"334 VXNlcm5hbWU6\r\n"),
        (C, b"c2VjcmV0dXNlcg==\r\n"),
        (S, b"334 UGFzc3dvcmQ6\r\n"),
        (C, b"aHVudGVyMg==\r\n"),
        (S, b"235 2.7.0 Authentication successful\r\n"),
        (C, b"AUTH PLAIN AGFsaWNlAGh1bnRlcjI=\r\n"),
        (S, b"235 ok\r\n"),
        (C, b"MAIL FROM:<alice@example.com>\r\n"),
        (S, b"250 ok\r\n"),
    ];
    let run = play(&mut SmtpParser::new(), &script, None);
    let text = run.debug_text();
    for secret in ["c2VjcmV0dXNlcg", "aHVudGVyMg", "AGFsaWNlAGh1bnRlcjI"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert_eq!(
        run.commands(),
        vec![
            ("EHLO".into(), Some("me".into())),
            ("AUTH".into(), Some("LOGIN".into())),
            ("AUTH".into(), Some("PLAIN".into())),
            ("MAIL".into(), Some("FROM:<alice@example.com>".into())),
        ]
    );
    assert!(run.anomalies().is_empty(), "{:?}", run.anomalies());
}

#[test]
fn bdat_chunks_are_not_unstuffed() {
    let att = binary(300, 9);
    let msg = mail("chunked", "c.bin", &att);
    let (a, b) = msg.split_at(100);
    let mut client = format!("BDAT {}\r\n", a.len()).into_bytes();
    client.extend_from_slice(a);
    client.extend_from_slice(format!("BDAT {} LAST\r\n", b.len()).as_bytes());
    client.extend_from_slice(b);
    client.extend_from_slice(b"QUIT\r\n");
    let script: Vec<(mamori_applayer::Direction, &[u8])> =
        vec![(C, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"), (C, &client)];
    let run = play(&mut SmtpParser::new(), &script, None);
    assert_eq!(run.file_hashes(), vec![(b"c.bin".to_vec(), 0, sha(&att))]);
    let recs = run.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].1.email.as_ref().unwrap().subject.as_deref(), Some("chunked"));
    assert_eq!(run.commands().last().unwrap().0, "QUIT");
}

#[test]
fn refused_data_does_not_swallow_commands() {
    let script: Vec<(mamori_applayer::Direction, &[u8])> = vec![
        (C, b"MAIL FROM:<a@b>\r\nDATA\r\n"),
        (S, b"250 ok\r\n554 no valid recipients\r\n"),
        (C, b"RSET\r\nQUIT\r\n"),
    ];
    let run = play(&mut SmtpParser::new(), &script, None);
    let verbs: Vec<String> = run.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(verbs, vec!["MAIL", "DATA", "RSET", "QUIT"]);
    let recs = run.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].1.email.is_none());
}

#[test]
fn gap_in_data_truncates_and_resyncs() {
    let att = binary(3000, 5);
    let mut data = dot_stuff(&mail("gap", "g.bin", &att));
    data.extend_from_slice(b".\r\n");
    let mut p = SmtpParser::new();
    let mut events = Vec::new();
    let mut files = mamori_applayer::MemorySink::default();
    let mut ctx = ParseCtx { events: &mut events, files: &mut files };
    p.input(C, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", &mut ctx);
    p.input(C, &data[..1500], &mut ctx);
    assert_eq!(p.gap(C, 500, &mut ctx), Status::Continue);
    p.input(C, &data[2000..], &mut ctx);
    p.input(C, b"MAIL FROM:<x@y>\r\n", &mut ctx);
    let truncated: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            MailEvent::MailComplete { record, .. } => Some(record.truncated),
            _ => None,
        })
        .collect();
    assert_eq!(truncated, vec![true]);
    assert_eq!(files.files[0].end, Some(FileEnd::Truncated));
    assert!(events.iter().any(|e| matches!(e, MailEvent::MailStart { tx_id: 1 })));
}

#[test]
fn long_lines_and_garbage() {
    let mut long = vec![b'A'; 20_000];
    long.extend_from_slice(b"\r\nNOOP\r\n");
    let run = play(&mut SmtpParser::new(), &[(C, &long)], None);
    assert_eq!(run.anomalies(), vec!["line_too_long"]);
    assert_eq!(run.commands(), vec![("NOOP".into(), None)]);

    let garbage: Vec<u8> = (0..40).flat_map(|i| format!("\x01\x02{i}\r\n").into_bytes()).collect();
    let run = play(&mut SmtpParser::new(), &[(C, &garbage)], None);
    assert_eq!(run.statuses.last(), Some(&Status::Stop));
}

#[test]
fn session_closed_mid_mail_truncates() {
    let att = binary(1000, 6);
    let data = dot_stuff(&mail("cut", "c.bin", &att));
    let script: Vec<(mamori_applayer::Direction, &[u8])> =
        vec![(C, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), (C, &data[..data.len() / 2])];
    let run = play(&mut SmtpParser::new(), &script, None);
    let recs = run.records();
    assert!(recs[0].1.truncated);
    assert_eq!(run.files.files[0].end, Some(FileEnd::Truncated));
}

#[test]
fn probes() {
    assert_eq!(smtp::probe(S, b"220 mx.example.com ESMTP Postfix\r\n"), Probe::Match);
    assert_eq!(smtp::probe(S, b"220-mx.example.com ESMTP\r\n"), Probe::Match);
    assert_eq!(smtp::probe(S, b"220 ProFTPD 1.3.5 Server ready.\r\n"), Probe::NoMatch);
    assert_eq!(smtp::probe(S, b"220 (vsFTPd 3.0.3)\r\n"), Probe::NoMatch);
    assert_eq!(smtp::probe(S, b"220 mx"), Probe::NeedMore);
    assert_eq!(smtp::probe(S, b"22"), Probe::NeedMore);
    assert_eq!(smtp::probe(S, b"HTTP/1.1 200 OK\r\n"), Probe::NoMatch);
    assert_eq!(smtp::probe(S, b"2200"), Probe::NoMatch);
    assert_eq!(smtp::probe(C, b"EHLO client\r\n"), Probe::Match);
    assert_eq!(smtp::probe(C, b"helo x"), Probe::Match);
    assert_eq!(smtp::probe(C, b"EH"), Probe::NeedMore);
    assert_eq!(smtp::probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(smtp::probe(C, b"\x16\x03\x01"), Probe::NoMatch);
}

#[test]
fn input_after_stop_is_harmless() {
    let mut p = SmtpParser::new();
    let mut events = Vec::new();
    let mut sink = NullSink::default();
    let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
    let garbage = vec![b'\x01'; 10];
    for _ in 0..30 {
        let mut g = garbage.clone();
        g.extend_from_slice(b"\r\n");
        p.input(C, &g, &mut ctx);
    }
    assert_eq!(p.input(C, b"EHLO x\r\n", &mut ctx), Status::Stop);
}
