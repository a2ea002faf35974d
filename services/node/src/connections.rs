//! The cap on open connections: an acceptor (in front of the TLS handshake) that gives each
//! connection one of `[server] max_connections` slots for as long as it stays open, and closes a
//! connection at once when every slot is taken. With the handshake, header and body timeouts of
//! `server.rs` this bounds what slow or idle clients can hold.
//!
//! Owns only the counting; must not read or write the bytes of a connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// An acceptor that admits at most `max` connections at once, then hands each to `inner`.
#[derive(Debug, Clone)]
pub struct CappedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
}

impl<A> CappedAcceptor<A> {
    pub fn new(max: usize, inner: A) -> Self {
        CappedAcceptor { inner, slots: Arc::new(Semaphore::new(max)) }
    }
}

impl<A, I, S> Accept<I, S> for CappedAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
{
    type Stream = Slotted<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let permit = self.slots.clone().try_acquire_owned();
        let accepted = self.inner.accept(stream, service);
        Box::pin(async move {
            let Ok(permit) = permit else {
                tracing::warn!("connection refused: every connection slot is taken ([server] max_connections)");
                return Err(io::Error::other("too many connections"));
            };
            let (stream, service) = accepted.await?;
            Ok((Slotted { inner: stream, _slot: permit }, service))
        })
    }
}

/// A connection holding its slot; the slot is freed when the connection is dropped.
#[derive(Debug)]
pub struct Slotted<T> {
    inner: T,
    _slot: OwnedSemaphorePermit,
}

impl<T: AsyncRead + Unpin> AsyncRead for Slotted<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Slotted<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An acceptor that hands the stream back as it is.
    #[derive(Debug, Clone)]
    struct Passthrough;

    impl<I: Send + 'static, S: Send + 'static> Accept<I, S> for Passthrough {
        type Stream = I;
        type Service = S;
        type Future = std::future::Ready<io::Result<(I, S)>>;

        fn accept(&self, stream: I, service: S) -> Self::Future {
            std::future::ready(Ok((stream, service)))
        }
    }

    #[tokio::test]
    async fn a_connection_over_the_cap_is_refused_until_one_closes() {
        let acceptor = CappedAcceptor::new(2, Passthrough);
        let stream = || tokio::io::duplex(16).0;
        let first = acceptor.accept(stream(), ()).await.unwrap();
        let second = acceptor.accept(stream(), ()).await.unwrap();
        let refused = acceptor.accept(stream(), ()).await.unwrap_err();
        assert_eq!(refused.to_string(), "too many connections");
        drop(first);
        let third = acceptor.accept(stream(), ()).await.unwrap();
        drop((second, third));
        assert_eq!(acceptor.slots.available_permits(), 2);
    }
}
