//! Serving HTTP with bounds a slow or hostile client cannot stretch: a cap on open connections,
//! WebSockets included for their whole life (one over it is told 503 and closed at once),
//! request headers that must arrive whole within a time (idle keep-alive connections close after
//! it too), request bodies that must arrive whole within a time from the request's start, however
//! slowly they trickle in, and writes a client must read within a time. HTTP/1.1 only (WebSocket
//! by its upgrade), which is what the ingress in front speaks.
//!
//! `axum::serve` sets none of these: hyper's header timeout needs a timer it does not give it,
//! and tower-http's body timeout restarts at every frame, so a body sent a byte a second never
//! ends. Hence this loop over hyper's own connection builder.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// What one client may hold of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once (`CASELEDGER_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Time to send a request's headers, and the longest a keep-alive connection idles
    /// (`CASELEDGER_HEADER_TIMEOUT_SECONDS`).
    pub header_timeout: Duration,
    /// Time from a request's start to the last byte of its body (`CASELEDGER_BODY_TIMEOUT_SECONDS`).
    pub body_timeout: Duration,
    /// Time a write to the client may wait for it to read: a client that stops reading (a
    /// response, a live stream, a WebSocket) is cut off after it.
    pub write_timeout: Duration,
}

/// An open connection's place among `max_connections`, in every request's extensions: a
/// WebSocket handler keeps it for the socket's life.
#[derive(Debug, Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<tokio::sync::OwnedSemaphorePermit>);

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// The answer to a connection over the cap: written whole, then the connection is closed.
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: text/plain\r\n\
content-length: 36\r\nconnection: close\r\n\r\ntoo many connections: try again soon";

/// Serves `app` on `listener` within `limits` until `stop` turns true; then stops accepting, lets
/// each connection finish what it is doing, and returns once they have all closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(limits.body_timeout, body_deadline));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait, rather than spin.
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { stop.wait_for(|stop| *stop).await.map(|_| ()) } => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!("caseledger_http_connections_refused_total").increment(1);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(FULL)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        metrics::gauge!("caseledger_http_connections_open").increment(1.0);
        // The connection's place, shared with a WebSocket it upgrades to: the upgraded socket
        // outlives hyper's connection, and holds the place until it closes.
        let slot = ConnectionSlot(Arc::new(permit));
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(slot.clone());
                request
            },
        ));
        // A client that stops reading what it asked for holds nothing for long.
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let connection = builder
            .serve_connection(TokioIo::new(Box::pin(stream)), service)
            .with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                }
                _ = async { stop.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            metrics::gauge!("caseledger_http_connections_open").decrement(1.0);
        });
    }
    drop(listener);
    // Every connection holds a permit until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
    Ok(())
}

/// Middleware: the request's body must arrive whole within `timeout` of the request's start.
async fn body_deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = Body::new(DeadlineBody {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        timeout,
    });
    next.run(Request::from_parts(parts, body)).await
}

/// A body that fails once its deadline passes before its end.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTooSlow(Duration);

impl HttpBody for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTooSlow(self.timeout).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
