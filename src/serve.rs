//! The listeners' connection loop: HTTP/1.1 over hyper, plain or over TLS, with the bounds
//! a shared sandbox needs at the connection level.
//!
//! - A connection limit ([`Limits::max_connections`], never more than the descriptor limit
//!   allows): at the limit the loop stops accepting, so new connections wait in the
//!   kernel's backlog (which costs no descriptor of ours) and are served as soon as one
//!   closes, instead of being accepted and dropped.
//! - A header-read timeout: a request head must be complete within
//!   [`Limits::header_timeout`] of its first byte, and a new connection's first head of the
//!   accept (a client dripping one byte a second, or connecting and saying nothing, is cut).
//! - An idle timeout: a connection with no request in flight that moves no byte for
//!   [`Limits::idle_timeout`] is closed (a request in flight, e.g. a scenario's latency,
//!   keeps it open), and so is one whose request waits that long for body bytes that do
//!   not come.
//! - Every admin request (`/_signsim`) carries the peer's address
//!   (`ConnectInfo<SocketAddr>`, for the admin token's throttle), and every request has its
//!   body counted toward the memory cap ([`crate::dispatch::inflight`]).
//!
//! Each connection's task watches its connection with a coarse tick (a quarter of the
//! shorter timeout, at most a second) over two counters the connection bumps as it goes:
//! no timer per request or per read, so the hot path pays a store per read and write and
//! a counter per request.

use crate::dispatch::{inflight, Dispatch};
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// The bounds of the connection level (`--header-timeout`, `--idle-timeout`,
/// `--max-connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    /// 10 s for a head (a real client sends it at once), 60 s idle (longer than the pause
    /// between two calls of a test or a person), 512 connections (far above what a test
    /// suite opens, well under the usual 1,024 descriptors).
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Descriptors kept out of the connection limit: files, the state file's writes, webhook
/// deliveries, the log.
const DESCRIPTOR_MARGIN: u64 = 128;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// The connection permits every listener of a process shares: one limit for the process,
/// as the descriptors are the process's.
#[derive(Clone)]
pub struct Connections {
    limits: Limits,
    permits: Arc<Semaphore>,
    /// The largest body a route reads (`--max-body-mb`): a body's reservation on the
    /// memory cap stops there (`inflight::meter_body`).
    body_limit: u64,
}

impl Connections {
    pub fn new(limits: Limits, body_limit: usize) -> Connections {
        let max = limits.max_connections.clamp(1, descriptor_ceiling());
        if max < limits.max_connections {
            tracing::warn!(
                "--max-connections {} lowered to {max}: the descriptor limit (ulimit -n) \
                 leaves room for no more",
                limits.max_connections
            );
        }
        Connections {
            limits: Limits {
                max_connections: max,
                ..limits
            },
            permits: Arc::new(Semaphore::new(max)),
            body_limit: u64::try_from(body_limit).unwrap_or(u64::MAX),
        }
    }

    /// The limits in force (the connection limit as lowered to the descriptor limit).
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// The most connections the process's soft descriptor limit leaves room for: the limit
/// minus a margin, and at least half of it.
fn descriptor_ceiling() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct we own and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            // rlim_t is u64 on the usual targets, not on every one.
            #[allow(clippy::unnecessary_cast)]
            let soft = limit.rlim_cur as u64;
            let room = soft.saturating_sub(DESCRIPTOR_MARGIN).max(soft / 2).max(1);
            return usize::try_from(room).unwrap_or(usize::MAX);
        }
    }
    usize::MAX
}

/// Serves `service` on `tcp`, over TLS when `tls` is given, until `stop` resolves; then
/// stops accepting, lets each connection finish its request in flight, and returns when
/// all are closed.
pub async fn serve(
    tcp: TcpListener,
    service: Dispatch,
    tls: Option<Arc<ServerConfig>>,
    connections: Connections,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    // Connections wait on `stopping` for the stop; `done` counts them (each holds a
    // receiver) so that the loop can wait for the last one.
    let (stopping_tx, stopping) = watch::channel(false);
    let (done_tx, done) = watch::channel(());
    let mut stop = pin!(stop);
    loop {
        // At the limit, wait for a permit before accepting: new connections queue in the
        // kernel's backlog rather than take descriptors.
        let permit = tokio::select! {
            _ = stop.as_mut() => break,
            permit = connections.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, addr) = tokio::select! {
            _ = stop.as_mut() => break,
            accepted = tcp.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            service: service.clone(),
            body_limit: connections.body_limit,
            addr,
            limits: connections.limits,
            stopping: stopping.clone(),
            _done: done.clone(),
            _permit: permit,
        };
        match &acceptor {
            None => {
                tokio::spawn(connection.run(stream));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => connection.run(tls).await,
                        // A client that does not trust the certificate aborts here; that is
                        // its business, not an error of ours.
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {addr} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {addr} took too long"),
                    }
                });
            }
        }
    }
    drop(tcp);
    let _ = stopping_tx.send(true);
    drop(done);
    done_tx.closed().await;
    Ok(())
}

/// One accepted connection and what it holds until it closes.
struct Connection {
    service: Dispatch,
    body_limit: u64,
    addr: SocketAddr,
    limits: Limits,
    stopping: watch::Receiver<bool>,
    /// Held until the connection closes: the serve loop waits for every one at a stop.
    _done: watch::Receiver<()>,
    /// The connection's place under `--max-connections`, given back when it closes.
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run<IO>(mut self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Watched {
            inner: io,
            activity: activity.clone(),
            reads: 0,
            moves: 0,
        });
        let service = PerConnection {
            meter: self.service.meter().clone(),
            service: self.service,
            body_limit: self.body_limit,
            addr: self.addr,
            activity: activity.clone(),
        };
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The timeouts are the watchdog's below: hyper's header timer would also run while
        // a kept-alive connection waits for its next request, which is the idle timeout.
        builder.header_read_timeout(None);
        let mut conn = pin!(builder.serve_connection(io, service));
        let tick = (self.limits.header_timeout.min(self.limits.idle_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watchdog = Watchdog::new(self.limits, Instant::now());
        let addr = self.addr;
        // Made once, not per turn of the loop (each would register anew with the channel).
        let mut stop = pin!(self.stopping.changed());
        let mut stopping = false;
        loop {
            tokio::select! {
                biased;
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection with {addr}: {e}");
                    }
                    return;
                }
                _ = stop.as_mut(), if !stopping => {
                    stopping = true;
                    // Ends the connection once its request in flight is answered.
                    conn.as_mut().graceful_shutdown();
                }
                now = ticks.tick() => {
                    if let Some(why) = watchdog.expired(&activity, now) {
                        tracing::debug!("closing the connection with {addr}: {why}");
                        return;
                    }
                }
            }
        }
    }
}

/// What a connection did, as its watchdog samples it.
#[derive(Default)]
struct Activity {
    /// Reads that returned bytes, so far (a plain store by the connection's reader).
    reads: AtomicU64,
    /// Reads and writes that moved bytes, so far.
    moves: AtomicU64,
    /// `reads` when the last request's head was complete (its call started) or its
    /// answer was ready: reads past it are the next request's head.
    reads_at_call: AtomicU64,
    /// Requests whose answer is not ready yet.
    in_flight: AtomicU64,
    /// The request's handler waits for body bytes the client does not send: the
    /// connection is idle although a request is in flight.
    waiting_body: AtomicBool,
}

/// Decides, tick by tick, whether a connection ran past a timeout.
struct Watchdog {
    limits: Limits,
    moves: u64,
    /// When a byte last moved (or the connection opened).
    quiet_since: Instant,
    /// When a request head was first seen arriving and not yet complete.
    head_since: Option<Instant>,
}

impl Watchdog {
    fn new(limits: Limits, now: Instant) -> Watchdog {
        Watchdog {
            limits,
            moves: 0,
            quiet_since: now,
            head_since: None,
        }
    }

    fn expired(&mut self, activity: &Activity, now: Instant) -> Option<&'static str> {
        let moves = activity.moves.load(Ordering::Relaxed);
        if moves != self.moves {
            self.moves = moves;
            self.quiet_since = now;
        }
        if activity.in_flight.load(Ordering::Relaxed) > 0 {
            self.head_since = None;
            // A handler at work keeps the connection (a scripted latency); one waiting for
            // a body that stopped coming does not.
            let stalled = activity.waiting_body.load(Ordering::Relaxed)
                && now.saturating_duration_since(self.quiet_since) >= self.limits.idle_timeout;
            return stalled.then_some("the request body stalled");
        }
        // Bytes read since the last head was complete: the next head is arriving. A new
        // connection waits for its first head from the start (no call has read anything
        // yet), as a server's header timeout usually counts from the accept.
        let at_call = activity.reads_at_call.load(Ordering::Relaxed);
        let reading_head = at_call == 0 || activity.reads.load(Ordering::Relaxed) != at_call;
        if reading_head {
            let since = *self.head_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= self.limits.header_timeout {
                return Some("the request head took too long");
            }
        } else {
            self.head_since = None;
        }
        if now.saturating_duration_since(self.quiet_since) >= self.limits.idle_timeout {
            return Some("idle");
        }
        None
    }
}

/// The connection's stream, counting the reads and writes that moved bytes.
struct Watched<IO> {
    inner: IO,
    activity: Arc<Activity>,
    /// Our own counts, stored (not added) into `activity`: only this stream writes them.
    reads: u64,
    moves: u64,
}

impl<IO> Watched<IO> {
    fn moved(&mut self, read: bool) {
        self.moves = self.moves.wrapping_add(1);
        self.activity.moves.store(self.moves, Ordering::Relaxed);
        if read {
            self.reads = self.reads.wrapping_add(1);
            self.activity.reads.store(self.reads, Ordering::Relaxed);
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.moved(true);
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved(false);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved(false);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The dispatch service as one connection calls it: with the peer's address, the body
/// metered, and the request counted in flight until its answer is ready.
struct PerConnection {
    service: Dispatch,
    meter: Arc<crate::engine::quota::Meter>,
    body_limit: u64,
    addr: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerConnection {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = InFlight;

    fn call(&self, mut request: hyper::Request<Incoming>) -> InFlight {
        let activity = &self.activity;
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity
            .reads_at_call
            .store(activity.reads.load(Ordering::Relaxed), Ordering::Relaxed);
        // The peer's address is read by the admin token's throttle alone: only admin calls
        // carry it, so that a provider's call does not pay for an extensions map.
        if request.uri().path().starts_with("/_signsim") {
            request.extensions_mut().insert(ConnectInfo(self.addr));
        }
        let request = if http_body::Body::is_end_stream(request.body()) {
            inflight::meter_body(request, &self.meter, self.body_limit)
        } else {
            let activity = self.activity.clone();
            let request = request.map(|inner| WatchedBody { inner, activity });
            inflight::meter_body(request, &self.meter, self.body_limit)
        };
        InFlight {
            answer: self.service.handle(request),
            activity: self.activity.clone(),
        }
    }
}

/// A request's body, telling the watchdog when its handler waits for bytes.
struct WatchedBody {
    inner: Incoming,
    activity: Arc<Activity>,
}

impl http_body::Body for WatchedBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.activity
            .waiting_body
            .store(polled.is_pending(), Ordering::Relaxed);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.activity.waiting_body.store(false, Ordering::Relaxed);
    }
}

/// A request's answer being made; while it lives the connection is not idle.
struct InFlight {
    answer: crate::dispatch::Answer,
    activity: Arc<Activity>,
}

impl Future for InFlight {
    type Output = Result<axum::response::Response, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.answer.as_mut().poll(cx)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.activity;
        // The request's body was read meanwhile: those reads are not the next head's.
        activity
            .reads_at_call
            .store(activity.reads.load(Ordering::Relaxed), Ordering::Relaxed);
        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
