#![no_main]
//! SMTP, POP3 and IMAP parsers (chosen by the first byte), both directions,
//! split and gapped where the next bytes say, plus their probes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_mail::fuzzing::run_protocols(data);
});
