//! Logging for the terminal: human-readable lines on stderr, never on stdout, which belongs to
//! the command's output (`rmm sim` prints its connection details there, `rmm mcp --stdio` speaks
//! MCP there).

use tracing_subscriber::EnvFilter;

/// Starts logging at warn, info with `-v`, debug with `-vv`, trace with `-vvv`;
/// `RUST_LOG` wins when set.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // A second init (in tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
