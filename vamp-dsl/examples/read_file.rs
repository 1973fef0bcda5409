//! Reads a YAML file with the DSL reader and prints how many documents and
//! diagnostics it holds: `cargo run -p vamp-dsl --example read_file -- FILE`.
#![allow(clippy::print_stdout)]

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        println!("usage: read_file FILE");
        return Ok(());
    };
    let bytes = std::fs::read(path)?;
    let out = vamp_dsl::read_bytes(&bytes, vamp_dsl::ReadOptions::default());
    println!(
        "{} documents, {} diagnostics",
        out.documents.len(),
        out.diagnostics.len()
    );
    Ok(())
}
