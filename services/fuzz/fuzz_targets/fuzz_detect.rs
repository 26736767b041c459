#![no_main]
//! The matcher: rule text, a NUL, then a payload that goes through packet,
//! stream (split where its first byte says), transaction, gap and verdict
//! paths of `mamori-detect`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_detect::fuzzing::run(data);
});
