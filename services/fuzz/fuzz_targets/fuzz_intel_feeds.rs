#![no_main]
//! Every intel feed parser (and the matchers built from what they accept)
//! on arbitrary text.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_intel::fuzzing::feeds(data);
});
