//! Logging for the terminal: human-readable lines on stderr, never on stdout, which belongs to
//! the command's output (`rmm sim` prints its connection details there, `rmm mcp --stdio` speaks
//! MCP there).

use tracing_subscriber::EnvFilter;

/// Starts logging at warn, info with `-v`, debug with `-vv`, trace with `-vvv`;
/// `RUST_LOG` sets the level when present.
pub fn init(verbose: u8) {
    let requested = std::env::var("RUST_LOG").ok();
    // A second init (in tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(requested.as_deref(), verbose))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The filter for what was asked: rmm-auth's one secret-safe filter, shared with the app.
fn filter(requested: Option<&str>, verbose: u8) -> EnvFilter {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    rmm_auth::secret_safe_filter(requested, level)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::filter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged_with(requested: Option<&str>, verbose: u8) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(requested, verbose))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "chromiumoxide::conn", "typed password hunter2");
            tracing::debug!(target: "chromiumoxide::handler", "bearer eyJ.secret");
            tracing::trace!(target: "rmm_auth", "rmm trace line");
            tracing::warn!(target: "rmm_api", "rmm warning line");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn devtools_traffic_stays_silent_at_every_level_and_whatever_rust_log_asks() {
        for (requested, verbose) in [
            (None, 3),
            (Some("trace"), 0),
            (Some("chromiumoxide=trace"), 0),
            (Some("chromiumoxide::conn=trace,trace"), 3),
            (Some("not a [valid filter"), 3),
        ] {
            let logged = logged_with(requested, verbose);
            assert!(!logged.contains("hunter2"), "{requested:?}: {logged}");
            assert!(!logged.contains("eyJ.secret"), "{requested:?}: {logged}");
        }
    }

    #[test]
    fn verbosity_still_controls_our_own_lines() {
        let quiet = logged_with(None, 0);
        assert!(quiet.contains("rmm warning line"));
        assert!(!quiet.contains("rmm trace line"));
        let loud = logged_with(None, 3);
        assert!(loud.contains("rmm trace line"));
    }
}
