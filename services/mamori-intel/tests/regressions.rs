//! Replays every input in `tests/regressions/` through the paths the fuzz
//! targets drive (`fuzz_intel_feeds`, `fuzz_bundle`): none may panic.

#[test]
fn regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|f| f.to_string_lossy().starts_with('.')) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        mamori_intel::fuzzing::feeds(&bytes);
        mamori_intel::fuzzing::bundle(&bytes);
        n += 1;
    }
    eprintln!("{n} regression inputs replayed");
}

#[test]
fn signed_garbage_body_is_refused_not_panicking() {
    // A body the fuzzing key signs but that is no bundle: must be an error.
    let mut input = vec![1u8];
    input.extend_from_slice(b"MAMORIIB\x01\x00\x01\x00\0\0\0\0");
    input.extend_from_slice(&[0xff; 64]);
    mamori_intel::fuzzing::bundle(&input);
}
