//! Every input in tests/regressions/ (crashes found by fuzzing, and
//! hand-made hostile inputs) runs through the fuzzing path without panic.

use std::path::Path;

#[test]
fn regression_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/regressions exists") {
        let path = entry.expect("dir entry").path();
        if !path.is_file() || path.file_name().is_some_and(|f| f == ".gitkeep") {
            continue;
        }
        let data = std::fs::read(&path).expect("readable");
        println!("{}", path.display());
        mamori_http::fuzzing::run(&data);
        n += 1;
    }
    println!("{n} regression inputs");
}
