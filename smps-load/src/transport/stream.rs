//! Byte streams to an origin: a TCP connection, possibly wrapped in TLS, opened with the
//! connect timeout and classified failures. Every stream-based protocol starts here.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::classify::classify_connect_io;
use super::{Origin, Transport};
use crate::ErrorKind;

/// A TCP stream, possibly wrapped in TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

impl Transport {
    /// Opens a TCP connection to the first address of `origin` that answers (with the
    /// connect timeout), with `TCP_NODELAY` set.
    pub(crate) async fn connect_tcp(&self, origin: &Origin) -> Result<TcpStream, ErrorKind> {
        let mut last = ErrorKind::Resolve;
        for addr in &origin.addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Err(_) => {
                    last = self.failed(ErrorKind::ConnectTimeout, || {
                        format!(
                            "no TCP connection to {addr} within the connect timeout ({:?})",
                            self.connect_timeout
                        )
                    });
                }
                Ok(Err(e)) => {
                    last = self.failed(classify_connect_io(&e), || {
                        format!("connect to {addr}: {e}")
                    });
                }
                Ok(Ok(s)) => {
                    // Best effort: a failure here only costs latency.
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
            }
        }
        Err(last)
    }

    /// Opens a stream to `origin`: TCP, then TLS for `https` origins. Returns the stream and
    /// whether HTTP/2 was agreed by ALPN (always `false` on plain TCP).
    pub(crate) async fn connect_stream(
        &self,
        origin: &Origin,
    ) -> Result<(Stream, bool), ErrorKind> {
        let tcp = self.connect_tcp(origin).await?;
        if !origin.https {
            return Ok((Stream::Plain(tcp), false));
        }
        #[cfg(feature = "rustls")]
        {
            let Some(tls) = &self.tls else {
                return Err(self.failed(ErrorKind::Tls, || "no TLS configuration".into()));
            };
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(origin.host.clone())
                .map_err(|e| {
                self.failed(ErrorKind::Tls, || {
                    format!("`{}` is not a TLS server name: {e}", origin.host)
                })
            })?;
            let s = tokio::time::timeout(self.connect_timeout, tls.connect(name, tcp))
                .await
                .map_err(|_| {
                    self.failed(ErrorKind::ConnectTimeout, || {
                        format!(
                            "the TLS handshake with {} did not finish within the connect timeout ({:?}); is the port plain HTTP?",
                            origin.host, self.connect_timeout
                        )
                    })
                })?
                .map_err(|e| {
                    let kind = match e.kind() {
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                            ErrorKind::ConnectionReset
                        }
                        _ => ErrorKind::Tls,
                    };
                    self.failed(kind, || {
                        let hint = if e.to_string().contains("InvalidContentType") {
                            " (the server answered in plain text: is the port plain HTTP?)"
                        } else {
                            ""
                        };
                        format!("TLS handshake with {}: {e}{hint}", origin.host)
                    })
                })?;
            let h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
            Ok((Stream::Tls(Box::new(s)), h2))
        }
        #[cfg(not(feature = "rustls"))]
        {
            drop(tcp);
            Err(ErrorKind::Tls)
        }
    }
}
