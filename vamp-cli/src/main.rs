//! The `vamp` command.
fn main() {}
