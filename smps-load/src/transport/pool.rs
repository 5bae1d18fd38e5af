//! Connections shared by several slots (HTTP/2): slot `s` uses connection `s / M` of its
//! origin, M being the streams per connection. The first slot that finds its connection
//! missing or closed opens it; the others wait for it on the entry's lock, so a lost
//! connection causes one reconnect, not M.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use super::stream::Stream;
use super::{Protocol, Transport};
use crate::ErrorKind;

/// The shared connections to one origin, `T` being what slots hold of one.
pub(crate) struct Pool<T> {
    entries: Mutex<Vec<Arc<Entry<T>>>>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            entries: Mutex::new(Vec::new()),
        }
    }
}

/// One pooled connection, replaced when it is lost.
struct Entry<T> {
    current: tokio::sync::Mutex<Option<T>>,
}

impl<T> Pool<T> {
    fn entry(&self, index: usize) -> Arc<Entry<T>> {
        // Taken when a slot opens or joins a connection, not per request.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        while entries.len() <= index {
            entries.push(Arc::new(Entry {
                current: tokio::sync::Mutex::new(None),
            }));
        }
        Arc::clone(&entries[index])
    }
}

/// What a slot gets when it asks for a shared connection.
pub(crate) enum Joined<T> {
    /// The shared connection; `true` if this call opened it.
    Shared(T, bool),
    /// TLS agreed on HTTP/1.1 only: the slot speaks HTTP/1.1 on this stream of its own.
    Http1(Stream),
}

impl<T> Joined<T> {
    /// Maps the shared connection.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Joined<U> {
        match self {
            Joined::Shared(t, opened) => Joined::Shared(f(t), opened),
            Joined::Http1(s) => Joined::Http1(s),
        }
    }
}

impl Transport {
    /// The shared connection of slot `slot_id` to origin `origin` in `pool`: the pooled
    /// one if `alive`, else a new one made by `handshake` on a new stream within the connect
    /// timeout.
    pub(crate) async fn join_shared<T, F, Fut>(
        &self,
        pool: &Pool<T>,
        origin: usize,
        slot_id: usize,
        alive: impl Fn(&T) -> bool,
        handshake: F,
    ) -> Result<Joined<T>, ErrorKind>
    where
        T: Clone,
        F: FnOnce(Stream) -> Fut,
        Fut: Future<Output = Result<T, ErrorKind>>,
    {
        let entry = pool.entry(slot_id / self.streams_per_connection.max(1));
        let mut current = entry.current.lock().await;
        if let Some(c) = current.as_ref().filter(|c| alive(c)) {
            return Ok(Joined::Shared(c.clone(), false));
        }
        *current = None;
        let o = &self.origins[origin];
        let (stream, alpn_h2) = self.connect_stream(o).await?;
        if o.https && !alpn_h2 {
            if self.protocol == Protocol::Grpc {
                return Err(self.failed(ErrorKind::Protocol, || {
                    format!(
                        "{} did not agree on HTTP/2 by ALPN, which gRPC needs",
                        o.host
                    )
                }));
            }
            return Ok(Joined::Http1(stream));
        }
        // Either client's handshake is bounded by the connect timeout here.
        let conn = tokio::time::timeout(self.connect_timeout, handshake(stream))
            .await
            .map_err(|_| {
                self.failed(ErrorKind::ConnectTimeout, || {
                    format!(
                        "the HTTP/2 handshake with {} did not finish within the connect timeout ({:?})",
                        o.host, self.connect_timeout
                    )
                })
            })??;
        *current = Some(conn.clone());
        Ok(Joined::Shared(conn, true))
    }
}
