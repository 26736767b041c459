#![no_main]
//! `verify_and_load` on arbitrary bytes; with an odd first byte the rest is
//! signed with the fuzzing key first so section decoding is reached too.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_intel::fuzzing::bundle(data);
});
