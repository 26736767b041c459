#![no_main]
//! The app classifier on arbitrary flow facts: the first byte picks the
//! transport, then ports, then length-prefixed payload chunks whose prefix
//! byte also picks the direction (so split points are the fuzzer's).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_apps::fuzzing::run(data);
});
