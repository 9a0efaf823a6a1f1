//! The desktop app's local MCP socket: where it is (one per profile, in the user's runtime
//! folder), the app's owner-only listener, and the relay `rmm mcp --stdio` runs so that agents
//! which start a process get the app's approvals and activity list while the app runs.
//! A Unix domain socket (owner-only) on Unix, a named pipe on Windows; elsewhere `rmm mcp
//! --stdio` always works on its own.

use std::path::PathBuf;

/// `\\.\pipe\mcp-rmm-<user>-<profile>`: one pipe per user and profile.
#[cfg(windows)]
pub fn socket_path(profile: &str) -> Result<PathBuf, String> {
    let user = std::env::var("USERNAME").unwrap_or_default();
    Ok(PathBuf::from(pipe_name(&user, profile)))
}

/// The pipe's name; the user's name is kept to characters a pipe name can always hold.
#[cfg(any(windows, test))]
fn pipe_name(user: &str, profile: &str) -> String {
    let user: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(r"\\.\pipe\mcp-rmm-{user}-{profile}")
}

/// `$XDG_RUNTIME_DIR/mcp-rmm/<profile>.sock`, else `<data folder>/run/<profile>.sock`.
#[cfg(not(windows))]
pub fn socket_path(profile: &str) -> Result<PathBuf, String> {
    let base = match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("mcp-rmm"),
        None => rmm_core::settings::data_dir()
            .map_err(|e| e.to_string())?
            .join("run"),
    };
    Ok(base.join(format!("{profile}.sock")))
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    use std::path::{Path, PathBuf};

    use tokio::net::{UnixListener, UnixStream};

    /// The app's listener; removes the socket file when dropped.
    #[derive(Debug)]
    pub struct LocalSocket {
        listener: UnixListener,
        path: PathBuf,
    }

    impl LocalSocket {
        /// Listens at `path`: its folder made owner-only (0700), the socket 0600. A stale socket
        /// left by a crashed app is replaced; one another app still answers on is not.
        pub async fn bind(path: &Path) -> Result<Self, String> {
            let dir = path
                .parent()
                .ok_or_else(|| format!("{} has no folder", path.display()))?;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot make {} owner-only: {e}", dir.display()))?;
            if path.exists() {
                if UnixStream::connect(path).await.is_ok() {
                    return Err(format!(
                        "another MCP-RMM app already listens on {}",
                        path.display()
                    ));
                }
                std::fs::remove_file(path)
                    .map_err(|e| format!("cannot remove the stale {}: {e}", path.display()))?;
            }
            let listener = UnixListener::bind(path)
                .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("cannot make {} owner-only: {e}", path.display()))?;
            Ok(Self {
                listener,
                path: path.to_owned(),
            })
        }

        pub fn path(&self) -> &Path {
            &self.path
        }

        /// The next agent connection.
        pub async fn accept(&self) -> std::io::Result<UnixStream> {
            self.listener.accept().await.map(|(stream, _)| stream)
        }
    }

    impl Drop for LocalSocket {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Connects to the app at `path`, if one listens there.
    pub async fn connect(path: &Path) -> Option<UnixStream> {
        UnixStream::connect(path).await.ok()
    }
}

#[cfg(unix)]
pub use unix::{LocalSocket, connect};

#[cfg(windows)]
mod windows {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use tokio::net::windows::named_pipe::{
        ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions,
    };
    use tokio::sync::Mutex;

    /// Windows' "all pipe instances are busy".
    const ERROR_PIPE_BUSY: i32 = 231;

    /// The app's named pipe. Its default security lets only the user who made it (and the
    /// system's administrators) open it for writing, so no other user can send requests; it
    /// takes local clients only. The pipe goes when the app closes it.
    #[derive(Debug)]
    pub struct LocalSocket {
        /// The instance waiting for the next client.
        waiting: Mutex<NamedPipeServer>,
        path: PathBuf,
    }

    impl LocalSocket {
        /// Makes the pipe; refused when another app already made it.
        pub async fn bind(path: &Path) -> Result<Self, String> {
            let first = ServerOptions::new()
                .first_pipe_instance(true)
                .reject_remote_clients(true)
                .create(path)
                .map_err(|e| {
                    format!(
                        "cannot make the pipe {} (another MCP-RMM app may have it): {e}",
                        path.display()
                    )
                })?;
            Ok(Self {
                waiting: Mutex::new(first),
                path: path.to_owned(),
            })
        }

        pub fn path(&self) -> &Path {
            &self.path
        }

        /// The next agent connection; a fresh instance then waits for the one after.
        pub async fn accept(&self) -> std::io::Result<NamedPipeServer> {
            let mut waiting = self.waiting.lock().await;
            waiting.connect().await?;
            let next = ServerOptions::new()
                .reject_remote_clients(true)
                .create(&self.path)?;
            Ok(std::mem::replace(&mut *waiting, next))
        }
    }

    /// Connects to the app at `path`, if one listens there (waiting briefly while every
    /// instance is busy).
    pub async fn connect(path: &Path) -> Option<NamedPipeClient> {
        for _ in 0..50 {
            match ClientOptions::new().open(path) {
                Ok(client) => return Some(client),
                Err(error) if error.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(_) => return None,
            }
        }
        None
    }
}

#[cfg(windows)]
pub use windows::{LocalSocket, connect};

/// Copies stdin to `stream` and `stream` to stdout until either side closes: `rmm mcp
/// --stdio` while the app runs.
pub async fn relay_stdio<S>(stream: S) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut from_app, mut to_app) = tokio::io::split(stream);
    let mut stdin = tokio::io::stdin();
    let mut stdout = tokio::io::stdout();
    let upstream = async {
        tokio::io::copy(&mut stdin, &mut to_app).await?;
        // The agent closed stdin: let the app see the end of the session.
        tokio::io::AsyncWriteExt::shutdown(&mut to_app).await
    };
    let downstream = async {
        tokio::io::copy(&mut from_app, &mut stdout).await?;
        tokio::io::AsyncWriteExt::flush(&mut stdout).await
    };
    tokio::select! {
        r = upstream => r,
        r = downstream => r,
    }
}

#[cfg(test)]
mod pipe_name_tests {
    use super::pipe_name;

    #[test]
    fn a_pipe_is_named_for_its_user_and_profile() {
        assert_eq!(pipe_name("ada", "demo"), r"\\.\pipe\mcp-rmm-ada-demo");
        // A user name with a space or a backslash cannot break out of the pipe's name.
        assert_eq!(
            pipe_name(r"DOM\Ada L", "work"),
            r"\\.\pipe\mcp-rmm-DOM_Ada_L-work"
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[tokio::test]
    async fn the_socket_and_its_folder_are_owner_only_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/demo.sock");
        let socket = LocalSocket::bind(&path).await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(connect(&path).await.is_some());
        // A second app on the same profile is refused while the first answers.
        let second = LocalSocket::bind(&path).await.unwrap_err();
        assert!(second.contains("already listens"), "{second}");
        drop(socket);
        assert!(!path.exists());
        assert!(connect(&path).await.is_none());
    }

    #[tokio::test]
    async fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "a socket file nobody listens on");
        let socket = LocalSocket::bind(&path).await.unwrap();
        assert_eq!(socket.path(), path);
    }

    #[test]
    fn the_path_is_per_profile_in_the_runtime_folder() {
        let path = socket_path("demo").unwrap();
        assert!(path.ends_with("demo.sock"), "{}", path.display());
    }
}
