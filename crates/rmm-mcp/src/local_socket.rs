//! The desktop app's local MCP socket: where it is (one per profile, in the user's runtime
//! folder), the app's owner-only listener, and the relay `rmm mcp --stdio` runs so that agents
//! which start a process get the app's approvals and activity list while the app runs.
//! A Unix domain socket (owner-only) on Unix, a named pipe on Windows; elsewhere `rmm mcp
//! --stdio` always works on its own.
//!
//! Before the MCP messages the relay sends one line of its own, `{"mcp-rmm-relay":1,
//! "read_only":true|false}`: what the agent's process was started with. The app's session
//! for that client is then read-only if either the app or the relay says so (a client can
//! only narrow what it may do). A client that speaks MCP on the socket straight away is
//! served as before.

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

/// The key of the relay's first line.
const PREAMBLE_KEY: &str = "mcp-rmm-relay";
/// The longest first line read as a possible preamble.
const PREAMBLE_MAX: usize = 256;

/// What the relay asks of the app's session for its client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayOptions {
    /// The agent's process was started with `--read-only`.
    pub read_only: bool,
}

fn preamble(options: RelayOptions) -> Vec<u8> {
    let mut line = serde_json::json!({PREAMBLE_KEY: 1, "read_only": options.read_only}).to_string();
    line.push('\n');
    line.into_bytes()
}

/// A stream whose first bytes were already read: they are given back first.
pub struct Replayed<S> {
    head: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Replayed<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.at < self.head.len() {
            let n = buf.remaining().min(self.head.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.head[at..at + n]);
            self.at += n;
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Replayed<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads the relay's first line from a new socket client, if it sent one: its options, and
/// the stream with whatever else was read put back in front.
pub async fn read_relay_options<S>(mut stream: S) -> std::io::Result<(RelayOptions, Replayed<S>)>
where
    S: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt as _;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // One byte at a time up to the first newline: nothing past the line is taken from the
    // stream, and a client that speaks MCP at once loses nothing (the bytes are replayed).
    while head.len() < PREAMBLE_MAX {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
        if byte[0] == b'\n'
            || !PREAMBLE_PREFIX.starts_with(&head[..head.len().min(PREAMBLE_PREFIX.len())])
        {
            break;
        }
    }
    let parsed = (head.ends_with(b"\n"))
        .then(|| serde_json::from_slice::<serde_json::Value>(&head).ok())
        .flatten()
        .filter(|v| v.get(PREAMBLE_KEY).is_some());
    let (options, head) = match parsed {
        Some(v) => (
            RelayOptions {
                read_only: v["read_only"] == serde_json::json!(true),
            },
            Vec::new(),
        ),
        None => (RelayOptions::default(), head),
    };
    Ok((
        options,
        Replayed {
            head,
            at: 0,
            inner: stream,
        },
    ))
}

/// How the preamble line starts: reading stops at the first byte that differs.
const PREAMBLE_PREFIX: &[u8] = b"{\"mcp-rmm-relay\"";

/// Serves one client of the app's local socket with `server`, read-only when the relay asks
/// for it (see the module's doc).
pub async fn serve_client<S>(server: crate::RmmMcpServer, stream: S) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (options, stream) = read_relay_options(stream).await?;
    let server = if options.read_only {
        server.read_only()
    } else {
        server
    };
    crate::serve_stream(server, stream).await
}

/// Copies stdin to `stream` and `stream` to stdout until either side closes: `rmm mcp
/// --stdio` while the app runs. The first line tells the app `options`.
pub async fn relay_stdio<S>(stream: S, options: RelayOptions) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut from_app, mut to_app) = tokio::io::split(stream);
    tokio::io::AsyncWriteExt::write_all(&mut to_app, &preamble(options)).await?;
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

    #[tokio::test]
    async fn the_relay_line_is_read_and_anything_else_is_replayed() {
        use tokio::io::AsyncReadExt as _;
        let line = preamble(RelayOptions { read_only: true });
        let mut sent = line.clone();
        sent.extend_from_slice(b"{\"jsonrpc\":\"2.0\"}\n");
        let (options, mut rest) = read_relay_options(&sent[..]).await.unwrap();
        assert!(options.read_only);
        let mut after = String::new();
        rest.read_to_string(&mut after).await.unwrap();
        assert_eq!(after, "{\"jsonrpc\":\"2.0\"}\n");
        // A client speaking MCP at once: nothing lost, nothing restricted.
        let plain = b"{\"jsonrpc\":\"2.0\",\"id\":1}\n";
        let (options, mut rest) = read_relay_options(&plain[..]).await.unwrap();
        assert!(!options.read_only);
        let mut all = Vec::new();
        rest.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, plain);
        let (options, _) = read_relay_options(&preamble(RelayOptions::default())[..])
            .await
            .unwrap();
        assert!(!options.read_only);
    }

    #[test]
    fn the_path_is_per_profile_in_the_runtime_folder() {
        let path = socket_path("demo").unwrap();
        assert!(path.ends_with("demo.sock"), "{}", path.display());
    }
}
