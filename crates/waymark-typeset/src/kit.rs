//! Reading a typeset PDF back with tools nobody here wrote (`pdftotext`,
//! `qpdf`), for the tests of every crate that makes one (feature `test-kit`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test stops at its first failure.

use std::path::Path;
use std::process::Command;

/// Runs `tool`, failing the test with what it said when it fails.
pub fn run_tool(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} did not run ({e}); install poppler-utils and qpdf (cargo xtask setup)"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The words of each page, whitespace collapsed, as pdftotext reads them.
pub fn pages_of(pdf: &Path) -> Vec<String> {
    // Content-stream order keeps each table cell whole, as a screen reader meets it.
    let text = run_tool("pdftotext", &["-raw", pdf.to_str().unwrap(), "-"]);
    text.split('\u{c}')
        .map(|page| page.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|page| !page.is_empty())
        .collect()
}

/// `qpdf --check` finds nothing wrong.
pub fn assert_structurally_valid(pdf: &Path) {
    let report = run_tool("qpdf", &["--check", pdf.to_str().unwrap()]);
    assert!(report.contains("No syntax or stream encoding errors"), "qpdf: {report}");
}

/// Renders page 1 to `png_stem` + `.png` (for the README's pictures of printouts).
pub fn keep_first_page(pdf: &Path, png_stem: &Path) {
    if let Some(dir) = png_stem.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    run_tool(
        "pdftoppm",
        &["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf.to_str().unwrap(), png_stem.to_str().unwrap()],
    );
    assert!(png_stem.with_extension("png").metadata().unwrap().len() > 1000, "the page image is empty");
}
