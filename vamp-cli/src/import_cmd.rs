//! `vamp import compose`: a Docker Compose file as a Vamp blueprint.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use vamp_dsl::compose::{import_bytes, ImportOptions};
use vamp_model::{Diagnostic, Document};

use crate::input::read_input;
use crate::{error_json, print_json, render};

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Import a blueprint from another format.
    Import {
        /// The format to import.
        #[command(subcommand)]
        source: Source,
    },
}

/// The formats `vamp import` reads.
#[derive(Subcommand)]
pub(crate) enum Source {
    /// A docker-compose.yml (file format 2.x, 3.x or the Compose
    /// Specification) as a blueprint with inline breeds.
    Compose {
        /// The Compose file (`-` reads standard input).
        file: String,
        /// The blueprint's name (default: the file's `name:`, else `compose`).
        #[arg(long)]
        name: Option<String>,
        /// Output: the blueprint as DSL YAML or as canonical JSON.
        #[arg(long, value_enum, default_value = "yaml")]
        format: Output,
        /// A value for a Compose variable, as `.env` would give it (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
}

/// What `vamp import` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// DSL YAML, as `vamp put` stores it.
    Yaml,
    /// Canonical JSON, as `vamp canonical` prints it.
    Json,
}

pub(crate) fn run(cmd: Cmd) -> ExitCode {
    match cmd {
        Cmd::Import {
            source:
                Source::Compose {
                    file,
                    name,
                    format,
                    vars,
                },
        } => compose(&file, name, format, &vars),
    }
}

fn compose(file: &str, name: Option<String>, format: Output, vars: &[String]) -> ExitCode {
    let mut options = ImportOptions {
        name,
        ..ImportOptions::default()
    };
    for v in vars {
        match v.split_once('=') {
            Some((k, val)) if !k.is_empty() => {
                options.variables.insert(k.to_owned(), val.to_owned());
            }
            _ => {
                let d = Diagnostic::error(
                    vamp_model::Code::UnexpectedType,
                    format!("`--var {v}` should be `NAME=VALUE`"),
                );
                return fail(file, None, &[d], format);
            }
        }
    }
    let bytes = match read_input(file) {
        Ok(b) => b,
        Err(d) => return fail(file, None, &[d], format),
    };
    let out = import_bytes(&bytes, options);
    let src = String::from_utf8(bytes).ok();
    let Some(bp) = out
        .blueprint
        .clone()
        .filter(|_| out.first_error().is_none())
    else {
        return fail(file, src.as_deref(), &out.diagnostics, format);
    };
    for d in &out.diagnostics {
        eprint!("{}", render::render(d, file, src.as_deref()));
    }
    let clusters = bp.spec.clusters.len();
    let name = bp.name.clone();
    let doc = Document::Blueprint(bp);
    match format {
        Output::Yaml => print!("{}", vamp_dsl::write::to_yaml(&doc)),
        Output::Json => print_json(&vamp_dsl::canonical::documents_json(&[doc])),
    }
    eprintln!(
        "{file}: blueprint `{name}` with {clusters} cluster(s), 0 error(s), {} warning(s)",
        out.diagnostics.len()
    );
    ExitCode::SUCCESS
}

fn fail(file: &str, src: Option<&str>, diagnostics: &[Diagnostic], format: Output) -> ExitCode {
    for d in diagnostics {
        eprint!("{}", render::render(d, file, src));
    }
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    eprintln!(
        "{file}: not imported, {} error(s), {} warning(s)",
        errors.len(),
        diagnostics.len() - errors.len()
    );
    if format == Output::Json {
        if let Some(first) = errors.first() {
            print_json(&error_json(first, &errors));
        }
    }
    ExitCode::FAILURE
}
