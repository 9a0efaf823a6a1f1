//! Where the command's results go: standard output, one line at a time. A reader that stops
//! early (`rmm devices --all | head -2`) closes the pipe; like ripgrep, `rmm` then ends quietly
//! with status 0 instead of panicking, since everything the reader wanted was written.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// Writes one line to standard output (the `out!` macro's body).
pub fn line(text: Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(format_args!("{text}\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(error) => {
            eprintln!("rmm: cannot write the output: {error}");
            std::process::exit(1);
        }
    }
}

/// `println!` for results: a closed pipe ends the command quietly (see the module doc).
macro_rules! out {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
