//! The `rmm` command.
fn main() {}
