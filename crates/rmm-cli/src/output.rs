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

/// A block of lines redrawn in place on a terminal: the live view of `rmm rollout run` and
/// `status --watch`. Where standard output is not a terminal (a log, a pipe), each block is
/// written after the last, so nothing is lost.
#[derive(Debug)]
pub struct LiveBlock {
    terminal: bool,
    shown: usize,
}

impl LiveBlock {
    pub fn new() -> Self {
        use std::io::IsTerminal as _;
        Self {
            terminal: std::io::stdout().is_terminal(),
            shown: 0,
        }
    }

    /// Whether blocks replace each other (on a terminal) rather than follow each other.
    pub fn redraws(&self) -> bool {
        self.terminal
    }

    /// Shows `lines` in place of the block shown last.
    pub fn show(&mut self, lines: &[String]) {
        let text = self.render(lines);
        line(format_args!("{}", text.trim_end_matches('\n')));
    }

    /// What `show` writes: on a terminal, first up to the last block's first line and a clear
    /// to the end of the screen.
    fn render(&mut self, lines: &[String]) -> String {
        let mut text = String::new();
        if self.terminal && self.shown > 0 {
            text.push_str(&format!("\x1b[{}F\x1b[J", self.shown));
        }
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        self.shown = lines.len();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::LiveBlock;

    #[test]
    fn a_live_block_replaces_the_last_one_on_a_terminal_and_follows_it_elsewhere() {
        let lines = |n: usize| (0..n).map(|i| format!("line {i}")).collect::<Vec<_>>();
        let mut terminal = LiveBlock {
            terminal: true,
            shown: 0,
        };
        assert_eq!(terminal.render(&lines(2)), "line 0\nline 1\n");
        assert_eq!(terminal.render(&lines(1)), "\x1b[2F\x1b[Jline 0\n");
        let mut log = LiveBlock {
            terminal: false,
            shown: 0,
        };
        log.render(&lines(2));
        assert_eq!(log.render(&lines(1)), "line 0\n");
    }
}
