//! Bodies being read count toward `--max-memory-mb`: a request's body is in memory (in
//! hyper's buffers, then in the handler's bytes) before anything is stored, so a hundred
//! connections each holding most of a 24 MB body could take gigabytes while the stores
//! held nothing.
//!
//! The serve loop (`crate::serve`) hands every request to [`meter_body`] before the
//! dispatch service sees it:
//!
//! - A body with a `Content-Length` reserves that many bytes on the engine's
//!   [`Meter`] (one atomic add). When they do not fit beside what is stored and what other
//!   bodies are reading, nothing is reserved and the request carries a
//!   [`BodyMeter::Refused`]: the dispatch service answers it in the provider's "storage
//!   full" shape (the admin API in its own) without reading the body.
//! - A body of unknown length (chunked) reserves what arrives, frame by frame; once a
//!   frame would pass the cap the body ends in an error and the request's
//!   [`BodyMeter::Cut`] says why, so the dispatch service answers with the same refusal.
//! - The reservation is given back when the body is dropped (`Metered`'s `Drop`): read
//!   to the end, refused or abandoned by a client that went away.
//!
//! A request without a body (every GET) is not wrapped and costs nothing.

use crate::engine::quota::{Full, Meter};
use axum::body::Body;
use axum::extract::Request;
use bytes::Buf;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

/// Put in a request's extensions when its body is over the memory cap.
#[derive(Clone)]
pub enum BodyMeter {
    /// The declared length does not fit: answer this refusal, do not read the body.
    Refused(Full),
    /// A body of unknown length: set when it was cut off at the cap.
    Cut(Arc<OnceLock<Full>>),
}

impl BodyMeter {
    /// Why the body was (or must be) refused, if it was.
    pub fn refusal(&self) -> Option<&Full> {
        match self {
            BodyMeter::Refused(full) => Some(full),
            BodyMeter::Cut(cut) => cut.get(),
        }
    }
}

/// `request` with its body counted on `meter` (see the module's doc). A declared length
/// above `body_limit` (the largest body any route reads) reserves only that much: the
/// route refuses the body at its limit, and a `Content-Length` of a gigabyte must not
/// hold the cap while its connection stays open.
pub fn meter_body<B>(request: Request<B>, meter: &Arc<Meter>, body_limit: u64) -> Request
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let hint = body.size_hint();
    let body = match hint.exact() {
        // No body (a GET): nothing to count.
        Some(0) => Body::new(body),
        Some(length) => match meter.reserve(length.min(body_limit)) {
            Ok(()) => Body::new(Metered {
                inner: body,
                meter: meter.clone(),
                reserved: length.min(body_limit),
                read: 0,
                cut: None,
            }),
            Err(full) => {
                tracing::warn!("{full}");
                parts.extensions.insert(BodyMeter::Refused(full));
                Body::new(body)
            }
        },
        None => {
            let cut = Arc::new(OnceLock::new());
            parts.extensions.insert(BodyMeter::Cut(cut.clone()));
            Body::new(Metered {
                inner: body,
                meter: meter.clone(),
                reserved: 0,
                read: 0,
                cut: Some(cut),
            })
        }
    };
    Request::from_parts(parts, body)
}

/// A body whose bytes are reserved on the meter while it lives.
struct Metered<B> {
    inner: B,
    meter: Arc<Meter>,
    /// Bytes reserved on the meter, given back on drop.
    reserved: u64,
    /// Bytes read so far.
    read: u64,
    /// For a body of unknown length: where the refusal goes when it is cut off.
    cut: Option<Arc<OnceLock<Full>>>,
}

impl<B> http_body::Body for Metered<B>
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            this.read = this.read.saturating_add(data.remaining() as u64);
            // A declared length was reserved whole up to the body limit (hyper never reads
            // past it); beyond that, or for a body of unknown length, what is read beyond
            // the reservation is reserved as it comes.
            if this.read > this.reserved {
                let extra = this.read - this.reserved;
                if let Err(full) = this.meter.reserve(extra) {
                    tracing::warn!("{full}");
                    let why = full.to_string();
                    if let Some(cut) = &this.cut {
                        let _ = cut.set(full);
                    }
                    return Poll::Ready(Some(Err(why.into())));
                }
                this.reserved = this.read;
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Metered<B> {
    fn drop(&mut self) {
        self.meter.release(self.reserved);
    }
}
