//! Inputs that once broke the matcher (found by `fuzz_detect`), replayed
//! through the same path.

#[test]
fn regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("tests/regressions exists").flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|f| f == ".gitkeep") {
            continue;
        }
        let data = std::fs::read(&p).expect("readable");
        mamori_detect::fuzzing::run(&data);
        n += 1;
    }
    println!("{n} regression inputs");
}
