//! MCP-RMM patch: the `--remote-debugging-pipe` transport. Chromium reads DevTools commands
//! from its file descriptor 3 and writes its answers to descriptor 4, each message JSON
//! ended by a NUL byte. Unlike `--remote-debugging-port`, nothing listens on a TCP port that
//! another local user could connect to: only the process that started Chromium holds the
//! other ends of the two pipes.

use std::io;

/// Our ends of the two pipes: commands go into `to_browser`, answers come from
/// `from_browser`.
#[cfg(unix)]
pub(crate) struct PipeEnds {
    pub(crate) to_browser: tokio::net::unix::pipe::Sender,
    pub(crate) from_browser: tokio::net::unix::pipe::Receiver,
}

/// The child's ends, kept open until the child has been spawned and then closed here, so
/// that our read end sees end-of-file when Chromium exits.
#[cfg(unix)]
pub(crate) struct ChildEnds {
    _commands: std::os::fd::OwnedFd,
    _answers: std::os::fd::OwnedFd,
}

/// Makes the two pipes and arranges for `cmd`'s child to get them as descriptors 3 and 4.
/// Must be called inside a tokio runtime (our ends are registered with its reactor).
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn attach(cmd: &mut tokio::process::Command) -> io::Result<(ChildEnds, PipeEnds)> {
    use std::os::fd::{AsRawFd, OwnedFd};

    // std's pipes are close-on-exec: the child gets only the two descriptors placed below.
    let (commands_read, commands_write) = io::pipe()?;
    let (answers_read, answers_write) = io::pipe()?;
    let child_commands: OwnedFd = commands_read.into();
    let child_answers: OwnedFd = answers_write.into();
    let in_fd = child_commands.as_raw_fd();
    let out_fd = child_answers.as_raw_fd();

    // SAFETY: the closure runs in the forked child before exec and calls only fcntl, dup2
    // and close, which are async-signal-safe; it allocates nothing and touches no lock.
    // Both descriptors are first copied above 9 so that placing one on 3 cannot overwrite
    // the other (either may itself be 3 or 4); dup2 clears close-on-exec on 3 and 4.
    unsafe {
        cmd.pre_exec(move || {
            let high_in = libc::fcntl(in_fd, libc::F_DUPFD_CLOEXEC, 10);
            let high_out = libc::fcntl(out_fd, libc::F_DUPFD_CLOEXEC, 10);
            if high_in < 0 || high_out < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::dup2(high_in, 3) < 0 || libc::dup2(high_out, 4) < 0 {
                return Err(io::Error::last_os_error());
            }
            libc::close(high_in);
            libc::close(high_out);
            Ok(())
        });
    }

    let ends = PipeEnds {
        to_browser: tokio::net::unix::pipe::Sender::from_owned_fd(commands_write.into())?,
        from_browser: tokio::net::unix::pipe::Receiver::from_owned_fd(answers_read.into())?,
    };
    Ok((
        ChildEnds {
            _commands: child_commands,
            _answers: child_answers,
        },
        ends,
    ))
}

/// Windows passes pipe handles through `--remote-debugging-io-pipes`, which this patch does
/// not implement yet: asking for the pipe there is a clear error, never a silent port.
#[cfg(not(unix))]
pub(crate) struct PipeEnds {
    _never: std::convert::Infallible,
}

#[cfg(not(unix))]
pub(crate) struct ChildEnds;

#[cfg(not(unix))]
pub(crate) fn attach(_cmd: &mut tokio::process::Command) -> io::Result<(ChildEnds, PipeEnds)> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the DevTools pipe transport is not implemented on this platform",
    ))
}

/// Chromium's answers larger than this are refused rather than buffered without bound.
#[cfg(unix)]
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Frames the DevTools messages on the pipes: JSON, each ended by a NUL byte.
#[cfg_attr(not(unix), allow(dead_code))] // never built there: `PipeEnds` is uninhabited
pub(crate) struct PipeConn {
    ends: PipeEnds,
    /// The command being written and how much of it is written.
    out: Vec<u8>,
    written: usize,
    /// Bytes read and not yet returned, and how far they were searched for a NUL.
    inbuf: Vec<u8>,
    scanned: usize,
}

impl std::fmt::Debug for PipeConn {
    // The buffers hold DevTools payloads (typed passwords, tokens): never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeConn").finish_non_exhaustive()
    }
}

#[cfg(unix)]
impl PipeConn {
    pub(crate) fn new(ends: PipeEnds) -> Self {
        Self {
            ends,
            out: Vec::new(),
            written: 0,
            inbuf: Vec::new(),
            scanned: 0,
        }
    }

    /// Writes queued commands until the pipe is full or the queue is empty.
    pub(crate) fn poll_send(
        &mut self,
        queue: &mut std::collections::VecDeque<chromiumoxide_types::MethodCall>,
        cx: &mut std::task::Context<'_>,
    ) -> crate::error::Result<()> {
        use std::task::Poll;
        use tokio::io::AsyncWrite;
        loop {
            if self.written == self.out.len() {
                self.out.clear();
                self.written = 0;
                let Some(call) = queue.pop_front() else {
                    return Ok(());
                };
                // JSON escapes control characters in strings, so the only NUL is the end.
                serde_json::to_writer(&mut self.out, &call)?;
                self.out.push(0);
            }
            match std::pin::Pin::new(&mut self.ends.to_browser)
                .poll_write(cx, &self.out[self.written..])
            {
                Poll::Ready(Ok(0)) => {
                    return Err(io::Error::from(io::ErrorKind::WriteZero).into());
                }
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(()),
            }
        }
    }

    /// The next whole message, `None` once Chromium has closed its end (it exited).
    pub(crate) fn poll_receive(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<crate::error::Result<Option<Vec<u8>>>> {
        use std::task::Poll;
        use tokio::io::{AsyncRead, ReadBuf};
        loop {
            if let Some(pos) = self.inbuf[self.scanned..].iter().position(|b| *b == 0) {
                let end = self.scanned + pos;
                let frame = self.inbuf[..end].to_vec();
                self.inbuf.drain(..=end);
                self.scanned = 0;
                return Poll::Ready(Ok(Some(frame)));
            }
            self.scanned = self.inbuf.len();
            if self.inbuf.len() > MAX_MESSAGE {
                return Poll::Ready(Err(crate::error::CdpError::msg(format!(
                    "a DevTools message is larger than {MAX_MESSAGE} bytes"
                ))));
            }
            let mut chunk = [0u8; 32 * 1024];
            let mut buf = ReadBuf::new(&mut chunk);
            match std::pin::Pin::new(&mut self.ends.from_browser).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(())) => self.inbuf.extend_from_slice(buf.filled()),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(not(unix))]
impl PipeConn {
    pub(crate) fn new(ends: PipeEnds) -> Self {
        match ends._never {}
    }

    pub(crate) fn poll_send(
        &mut self,
        _queue: &mut std::collections::VecDeque<chromiumoxide_types::MethodCall>,
        _cx: &mut std::task::Context<'_>,
    ) -> crate::error::Result<()> {
        match self.ends._never {}
    }

    pub(crate) fn poll_receive(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<crate::error::Result<Option<Vec<u8>>>> {
        match self.ends._never {}
    }
}
