//! Limits on the HTTP endpoint's connections, so that hostile local clients cannot starve it
//! (of file descriptors, of tasks) while the legitimate client keeps being served:
//! - at most `max_connections` open at once; a connection over that is closed at once;
//! - at most `max_unauthenticated` not yet authenticated (no request has passed the guard's
//!   bearer check); a new one then closes the oldest of them, so a flood of idle connections
//!   churns among themselves and a client that sends its request at once still gets in;
//! - a connection that is not authenticated within `auth_deadline` of being accepted is
//!   closed (a header-read timeout for everyone without the secret: slow or silent senders);
//! - accept errors (such as "too many open files") are logged and retried, never fatal.
//!
//! The listener hands each connection's `ConnectionHandle` to axum as its connect info; the
//! guard marks it authenticated.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How many connections the endpoint holds, and for how long without the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_unauthenticated: usize,
    pub auth_deadline: Duration,
}

impl Default for ConnectionLimits {
    /// 256 connections, 32 of them unauthenticated, 10 s to authenticate: well under a
    /// desktop's usual 1,024 file descriptors, and far more than local agents open.
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_unauthenticated: 32,
            auth_deadline: Duration::from_secs(10),
        }
    }
}

const UNAUTHENTICATED: u8 = 0;
const AUTHENTICATED: u8 = 1;
/// Closed for being over the cap or past the deadline (or gone).
const CLOSED: u8 = 2;

struct Shared {
    limits: ConnectionLimits,
    open: AtomicUsize,
    unauthenticated: AtomicUsize,
    /// Unauthenticated connections, oldest first (entries of ones since authenticated or gone
    /// are skipped).
    queue: Mutex<VecDeque<Weak<ConnectionState>>>,
}

struct ConnectionState {
    phase: AtomicU8,
    waker: AtomicWaker,
    shared: Arc<Shared>,
}

impl ConnectionState {
    /// Leaves the unauthenticated phase for `to`; true if this call did.
    fn leave_unauthenticated(&self, to: u8) -> bool {
        let left = self
            .phase
            .compare_exchange(UNAUTHENTICATED, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if left {
            self.shared.unauthenticated.fetch_sub(1, Ordering::AcqRel);
        }
        left
    }
}

/// One accepted connection, as the guard sees it (axum's connect info).
#[derive(Clone)]
pub struct ConnectionHandle(Option<Arc<ConnectionState>>);

impl std::fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = self.0.as_ref().map(|s| s.phase.load(Ordering::Acquire));
        f.debug_tuple("ConnectionHandle").field(&phase).finish()
    }
}

impl ConnectionHandle {
    /// A request on this connection passed the bearer check: it is no longer closed for
    /// being idle or for making room.
    pub fn authenticated(&self) {
        if let Some(state) = &self.0 {
            state.leave_unauthenticated(AUTHENTICATED);
        }
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, LimitedListener>>
    for ConnectionHandle
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, LimitedListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// The endpoint's listener with the limits applied.
pub struct LimitedListener {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            shared: Arc::new(Shared {
                limits,
                open: AtomicUsize::new(0),
                unauthenticated: AtomicUsize::new(0),
                queue: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Closes the oldest unauthenticated connections until one more fits.
    fn make_room(&self) {
        let Ok(mut queue) = self.shared.queue.lock() else {
            return;
        };
        while self.shared.unauthenticated.load(Ordering::Acquire)
            >= self.shared.limits.max_unauthenticated
        {
            let Some(oldest) = queue.pop_front() else {
                break;
            };
            if let Some(state) = oldest.upgrade()
                && state.leave_unauthenticated(CLOSED)
            {
                state.waker.wake();
            }
        }
        // Entries of connections that authenticated or went: dropped as they reach the front.
        while queue.front().is_some_and(|w| {
            w.upgrade()
                .is_none_or(|s| s.phase.load(Ordering::Acquire) != UNAUTHENTICATED)
        }) {
            queue.pop_front();
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = ConnectionHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let stream = match self.inner.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%error, "MCP HTTP endpoint: accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if self.shared.open.load(Ordering::Acquire) >= self.shared.limits.max_connections {
                tracing::debug!("MCP HTTP endpoint: connection cap reached; closing a new one");
                drop(stream);
                continue;
            }
            self.make_room();
            let state = Arc::new(ConnectionState {
                phase: AtomicU8::new(UNAUTHENTICATED),
                waker: AtomicWaker::new(),
                shared: self.shared.clone(),
            });
            self.shared.open.fetch_add(1, Ordering::AcqRel);
            self.shared.unauthenticated.fetch_add(1, Ordering::AcqRel);
            if let Ok(mut queue) = self.shared.queue.lock() {
                queue.push_back(Arc::downgrade(&state));
            }
            let _ = stream.set_nodelay(true);
            let io = LimitedStream {
                inner: stream,
                deadline: Box::pin(tokio::time::sleep(self.shared.limits.auth_deadline)),
                state: state.clone(),
            };
            return (io, ConnectionHandle(Some(state)));
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(ConnectionHandle(None))
    }
}

/// An accepted connection: reads fail once it is closed for the limits.
pub struct LimitedStream {
    inner: TcpStream,
    deadline: Pin<Box<tokio::time::Sleep>>,
    state: Arc<ConnectionState>,
}

impl Drop for LimitedStream {
    fn drop(&mut self) {
        self.state.leave_unauthenticated(CLOSED);
        self.state.shared.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.state.waker.register(cx.waker());
        match self.state.phase.load(Ordering::Acquire) {
            CLOSED => {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "closed to make room for another connection",
                )));
            }
            UNAUTHENTICATED if self.deadline.as_mut().poll(cx).is_ready() => {
                self.state.leave_unauthenticated(CLOSED);
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no authenticated request in time",
                )));
            }
            _ => {}
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
