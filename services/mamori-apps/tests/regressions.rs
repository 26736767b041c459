//! Replays every input in `tests/regressions/` through the `fuzz_apps` path.

#[test]
fn regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|f| f.to_string_lossy().starts_with('.')) {
            continue;
        }
        mamori_apps::fuzzing::run(&std::fs::read(&path).unwrap());
        n += 1;
    }
    eprintln!("{n} regression inputs replayed");
}
