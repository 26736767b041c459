#![no_main]
//! HTTP parser: arbitrary bytes, arbitrary splits, both directions, gaps
//! and closes (see `mamori_http::fuzzing::run` for the input layout).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_http::fuzzing::run(data);
});
