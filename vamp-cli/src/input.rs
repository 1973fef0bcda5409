//! Reading the files the commands are given: one way to read a file (or
//! standard input) and one way to read a blueprint from it, with one code
//! for a file that holds none (`missing_path_value`, the code the DSL reader
//! gives an input without a document).

use std::io::Read as _;

use vamp_model::{Artifact, Blueprint, Code, Diagnostic, Document, Kind, Span};

use crate::render::CliError;

/// The bytes of `file` (`-` reads standard input), at most `limit` of them.
pub(crate) fn read_at_most(file: &str, limit: u64) -> Result<Vec<u8>, Diagnostic> {
    let mut buf = Vec::new();
    let result = if file == "-" {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result
        .map(|_| buf)
        .map_err(|e| Diagnostic::error(Code::Io, format!("cannot read `{file}`: {e}")))
}

/// The bytes of a document file (`-` reads standard input): never more than
/// the DSL reader accepts, plus one byte so that it notices.
pub(crate) fn read_input(file: &str) -> Result<Vec<u8>, Diagnostic> {
    read_at_most(file, vamp_dsl::yaml::Limits::default().max_bytes as u64 + 1)
}

/// The first blueprint of `file` and the file's bytes, or the first error
/// (pointing into the file). A file without a blueprint is `missing_path_value`
/// (as the DSL reader reports an input without a document),
/// at line 1, column 1.
pub(crate) fn read_blueprint(file: &str) -> Result<(Artifact<Blueprint>, Vec<u8>), CliError> {
    let bytes = read_input(file)?;
    let options = vamp_dsl::ReadOptions {
        kind: Some(Kind::Blueprint),
        ..Default::default()
    };
    let documents = vamp_dsl::read_bytes(&bytes, options)
        .into_result()
        .map_err(|d| CliError::in_file(d, file, Some(&bytes)))?;
    match documents.into_iter().next() {
        Some(Document::Blueprint(b)) => Ok((b, bytes)),
        _ => Err(CliError::in_file(
            Diagnostic::error(
                Code::MissingPathValue,
                format!("`{file}` holds no blueprint"),
            )
            .at(Span::START),
            file,
            Some(&bytes),
        )),
    }
}
