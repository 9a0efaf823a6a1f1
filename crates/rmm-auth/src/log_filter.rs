//! The one log filter every face uses (the `rmm` command line and the desktop app): whatever
//! level `RUST_LOG` or `-v` asks for, the libraries whose logs carry secrets stay quiet.
//!
//! chromiumoxide traces each DevTools message, and the websocket crates under it
//! (`async-tungstenite`, `tungstenite`, through the `log` bridge) log the frames themselves:
//! those carry the typed password (`Input.insertText`), the captured `authorization` header
//! and the subscription key. The HTTP and D-Bus stacks at debug and trace can show headers and
//! the secrets sent to the keyring. Our own crates never log a secret, at any level.

use tracing_subscriber::EnvFilter;

/// Directives laid over whatever was asked for, last so that they win.
pub const SECRET_SAFE_LOG_DIRECTIVES: &[&str] = &[
    "chromiumoxide=error",
    "chromiumoxide::conn=off",
    "chromiumoxide::handler=off",
    "chromiumoxide_cdp=off",
    "async_tungstenite=off",
    "tungstenite=off",
    "tokio_tungstenite=off",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "reqwest=info",
    "rustls=info",
    "zbus=info",
    "keyring=info",
    "keyring_core=info",
    "dbus_secret_service=info",
    "secret_service=info",
    "wry=info",
    "tao=info",
];

/// The filter for a face: `requested` (`RUST_LOG`) when given and valid, else `default`
/// (a level such as `warn`), with [`SECRET_SAFE_LOG_DIRECTIVES`] over it. A malformed
/// `RUST_LOG` falls back to `default` and never loses the safety directives.
pub fn secret_safe_filter(requested: Option<&str>, default: &str) -> EnvFilter {
    let safety = SECRET_SAFE_LOG_DIRECTIVES.join(",");
    requested
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .and_then(|value| EnvFilter::try_new(format!("{value},{safety}")).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("{default},{safety}")))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::secret_safe_filter;

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

    fn logged_with(requested: Option<&str>, default: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(secret_safe_filter(requested, default))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "chromiumoxide::conn", "typed password hunter2");
            tracing::debug!(target: "chromiumoxide::handler", "bearer eyJ.secret");
            tracing::trace!(target: "tungstenite::protocol", "frame hunter2");
            tracing::debug!(target: "async_tungstenite", "frame eyJ.secret");
            tracing::trace!(target: "hyper::proto::h1::role", "header eyJ.secret");
            tracing::trace!(target: "zbus::connection", "message hunter2");
            tracing::trace!(target: "rmm_auth", "rmm trace line");
            tracing::warn!(target: "rmm_api", "rmm warning line");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn secret_carrying_libraries_stay_silent_whatever_is_asked() {
        for (requested, default) in [
            (None, "trace"),
            (Some("trace"), "warn"),
            (Some("chromiumoxide=trace,tungstenite=trace"), "warn"),
            (Some("chromiumoxide::conn=trace,trace"), "trace"),
            (Some("not a [valid filter"), "trace"),
        ] {
            let logged = logged_with(requested, default);
            assert!(!logged.contains("hunter2"), "{requested:?}: {logged}");
            assert!(!logged.contains("eyJ.secret"), "{requested:?}: {logged}");
        }
    }

    #[test]
    fn our_own_lines_follow_the_level_asked_for() {
        let quiet = logged_with(None, "warn");
        assert!(quiet.contains("rmm warning line"));
        assert!(!quiet.contains("rmm trace line"));
        assert!(logged_with(Some("trace"), "warn").contains("rmm trace line"));
    }
}
