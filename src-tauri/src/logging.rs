//! The app's log: `tracing` events to a daily-rotated file in the OS log folder (and to stderr).
//! Never log a secret: tokens, passwords and subscription keys stay out of every event.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::{Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Log files older than this many days are deleted by the appender.
const KEEP_LOG_FILES: usize = 14;

/// Starts logging; returns the folder the log files go to, or `None` when only stderr is used
/// (no log folder known, or it cannot be created). `RUST_LOG` overrides the default `info`.
pub fn init(log_dir: Option<&Path>) -> Option<PathBuf> {
    // rmm-auth's one secret-safe filter, shared with the command line: whatever RUST_LOG
    // asks, the DevTools, websocket, HTTP and D-Bus traffic never reaches the log.
    let requested = std::env::var("RUST_LOG").ok();
    let filter = || rmm_auth::secret_safe_filter(requested.as_deref(), "info");
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());

    let mut written_to = None;
    let mut file_layer = None;
    if let Some(dir) = log_dir {
        match file_appender(dir) {
            // Written synchronously: no background worker whose buffer could be lost when the
            // event loop ends the process without unwinding.
            Ok(appender) => {
                file_layer = Some(
                    fmt::layer()
                        .with_ansi(false)
                        .with_writer(appender)
                        .with_filter(filter()),
                );
                written_to = Some(dir.to_path_buf());
            }
            Err(error) => eprintln!("mcp-rmm: cannot write logs to {}: {error}", dir.display()),
        }
    }

    if let Err(error) = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
    {
        eprintln!("mcp-rmm: logging was already set up: {error}");
    }
    written_to
}

/// The daily files in `dir`, an owner-only folder (so every file in it, whatever the mode the
/// appender gives a new day's file, is readable by its owner only); older files are narrowed
/// to 0600 too.
fn file_appender(dir: &Path) -> Result<RollingFileAppender, String> {
    rmm_auth::private_fs::create_private_dir(dir).map_err(|e| e.to_string())?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("mcp-rmm")
        .filename_suffix("log")
        .max_log_files(KEEP_LOG_FILES)
        .build(dir)
        .map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let path = entry.path();
        if path.is_file() {
            rmm_auth::private_fs::restrict_to_owner(&path).map_err(|e| e.to_string())?;
        }
    }
    Ok(appender)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_log_file_is_created_in_a_new_folder_with_a_dated_name() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("nested").join("logs");
        let mut appender = file_appender(&dir).unwrap();
        appender.write_all(b"hello\n").unwrap();
        appender.flush().unwrap();

        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(
            names[0].starts_with("mcp-rmm.") && names[0].ends_with(".log"),
            "{names:?}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700, "the log folder is not owner-only");
            drop(appender);
            file_appender(&dir).unwrap();
            assert_eq!(
                mode(&dir.join(&names[0])),
                0o600,
                "the log file is not owner-only"
            );
        }
    }
}
