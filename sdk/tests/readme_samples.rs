//! The README's app-developer samples are the files the Kotlin and Swift tests
//! compile and run: the lines between `// README:begin` and `// README:end`
//! appear verbatim in README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

fn marked(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    let start = text.find("// README:begin\n").expect("begin marker") + "// README:begin\n".len();
    let end = text.find("// README:end").expect("end marker");
    text[start..end].trim_end().to_owned()
}

#[test]
fn the_readme_shows_the_tested_samples() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for (lang, file) in [
        (
            "kotlin",
            "bindings-android/src/test/kotlin/io/safelane/ReadmeSample.kt",
        ),
        (
            "swift",
            "bindings-ios/Tests/SafelaneTests/ReadmeSample.swift",
        ),
    ] {
        let sample = marked(file);
        let fenced = format!("```{lang}\n{sample}\n```");
        assert!(
            readme.contains(&fenced),
            "README.md does not show {file} verbatim"
        );
    }
}
