//! What `vamp check` prints, as reviewed snapshots: one case per file in
//! `tests/fixtures/diagnostics/`, its snapshot
//! `tests/snapshots/diagnostics__NAME.snap` (exit code, standard output and
//! the rendered diagnostics on standard error). Add a case by adding a file.

mod support;

use std::path::PathBuf;

use support::vamp;

/// The fixture folder, relative to the repository root `vamp` runs in (so
/// the paths in the output are the same on every machine).
const FIXTURES: &str = "vamp-cli/tests/fixtures/diagnostics";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The names of the fixtures, sorted.
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join(FIXTURES))
        .expect("the fixture folder")
        .filter_map(|e| {
            let name = e.expect("a fixture").file_name().into_string().ok()?;
            Some(name.strip_suffix(".yml")?.to_owned())
        })
        .collect();
    names.sort();
    names
}

/// `vamp check FILE` as the user sees it.
fn check(name: &str) -> String {
    let out = vamp(&["check", &format!("{FIXTURES}/{name}.yml")], None);
    format!(
        "exit code: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code().map_or("none".into(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn check_prints_each_fixture_as_its_snapshot() {
    let names = fixtures();
    assert!(names.len() >= 10, "fixtures missing: {names:?}");
    let failed: Vec<&String> = names
        .iter()
        .filter(|name| {
            let path = root().join(FIXTURES).join(format!("{name}.yml"));
            // Every case runs, so one run shows every changed snapshot.
            std::panic::catch_unwind(|| {
                insta::with_settings!({ input_file => path, omit_expression => true }, {
                    insta::assert_snapshot!(name.as_str(), check(name));
                });
            })
            .is_err()
        })
        .collect();
    assert!(failed.is_empty(), "failing fixtures: {failed:?}");
}

#[test]
fn errors_fail_the_check_and_warnings_do_not() {
    for name in fixtures() {
        let out = vamp(&["check", &format!("{FIXTURES}/{name}.yml")], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors = stderr.lines().filter(|l| l.starts_with("error[")).count();
        assert_eq!(out.status.success(), errors == 0, "{name}: {stderr}");
        // The summary counts what was shown.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!(", {errors} error(s), ")),
            "{name}: {stdout}"
        );
    }
}
