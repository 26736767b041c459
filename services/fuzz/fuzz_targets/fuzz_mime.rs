#![no_main]
//! The streaming MIME parser directly, fed in chunks the first bytes choose.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_mail::fuzzing::run_mime(data);
});
