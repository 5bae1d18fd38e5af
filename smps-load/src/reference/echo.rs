//! TCP and UDP echo servers on 127.0.0.1 (the peers of `tcp://` and `udp://` runs): every
//! byte received is sent back, after an optional delay; the UDP server can drop a share of
//! the datagrams (seeded, so a test knows what to expect).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// Largest read (and datagram) the echo servers handle at once.
const BUFFER: usize = 64 * 1024;

/// Builder of an [`EchoServer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EchoServerBuilder {
    udp: bool,
    drop_rate: f64,
    delay: Duration,
    seed: u64,
}

/// A running TCP or UDP echo server. Stop it with [`EchoServer::shutdown`]; dropping it stops
/// it as well.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    udp: bool,
    echoed: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// A TCP echo server builder (no delay).
    pub fn tcp() -> EchoServerBuilder {
        EchoServerBuilder {
            udp: false,
            drop_rate: 0.0,
            delay: Duration::ZERO,
            seed: 1,
        }
    }

    /// A UDP echo server builder (no delay, nothing dropped).
    pub fn udp() -> EchoServerBuilder {
        EchoServerBuilder {
            udp: true,
            ..Self::tcp()
        }
    }

    /// The listening address (on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of this server: `tcp://127.0.0.1:PORT` or `udp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.udp { "udp" } else { "tcp" };
        format!("{scheme}://{}", self.addr)
    }

    /// Echoes sent so far (TCP: reads echoed; UDP: datagrams echoed).
    pub fn echoed(&self) -> u64 {
        self.echoed.load(Ordering::Relaxed)
    }

    /// Datagrams dropped on purpose so far (UDP).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops the server and waits for its task to end.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(t) = self.task.take() {
            // The loop only ends; its result carries nothing.
            let _ = t.await;
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

impl EchoServerBuilder {
    /// UDP: the share of datagrams not echoed, in `[0, 1]` (default 0).
    pub fn drop_rate(mut self, rate: f64) -> Self {
        self.drop_rate = rate;
        self
    }

    /// Delay before each echo (default none).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Seed of the drop decisions.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a drop rate outside `[0, 1]` or one given to a TCP
    /// server; [`Error::BindServer`] if the socket cannot be bound; [`Error::NoRuntime`]
    /// outside a Tokio runtime.
    pub async fn start(self) -> Result<EchoServer> {
        tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        if !(0.0..=1.0).contains(&self.drop_rate) || (!self.udp && self.drop_rate > 0.0) {
            return Err(Error::InvalidSetting {
                field: "drop_rate".into(),
                reason: format!(
                    "must be in [0, 1], and only a UDP server drops; got {}",
                    self.drop_rate
                ),
            });
        }
        let bind_err = |source| Error::BindServer {
            addr: "127.0.0.1:0".into(),
            source,
        };
        let token = CancellationToken::new();
        let echoed = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let udp = self.udp;
        let (addr, task) = if udp {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.map_err(bind_err)?);
            let addr = socket.local_addr().map_err(bind_err)?;
            let task = tokio::spawn(serve_udp(
                socket,
                self,
                token.clone(),
                Arc::clone(&echoed),
                Arc::clone(&dropped),
            ));
            (addr, task)
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(bind_err)?;
            let addr = listener.local_addr().map_err(bind_err)?;
            let task = tokio::spawn(serve_tcp(
                listener,
                self.delay,
                token.clone(),
                Arc::clone(&echoed),
            ));
            (addr, task)
        };
        Ok(EchoServer {
            addr,
            udp,
            echoed,
            dropped,
            token,
            task: Some(task),
        })
    }
}

async fn serve_tcp(
    listener: TcpListener,
    delay: Duration,
    token: CancellationToken,
    echoed: Arc<AtomicU64>,
) {
    loop {
        let (mut s, _) = tokio::select! {
            _ = token.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                // Out of file descriptors and the like: keep serving the others.
                Err(_) => continue,
            },
        };
        let _ = s.set_nodelay(true);
        let token = token.clone();
        let echoed = Arc::clone(&echoed);
        tokio::spawn(async move {
            let mut buf = vec![0u8; BUFFER];
            loop {
                let n = tokio::select! {
                    _ = token.cancelled() => break,
                    r = s.read(&mut buf) => match r {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    },
                };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if s.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                echoed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

async fn serve_udp(
    socket: Arc<UdpSocket>,
    b: EchoServerBuilder,
    token: CancellationToken,
    echoed: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
) {
    let mut rng = SplitMix64::new(b.seed);
    let mut buf = vec![0u8; BUFFER];
    loop {
        let (n, from) = tokio::select! {
            _ = token.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                // An ICMP error from an earlier send to a client that went away.
                Err(_) => continue,
            },
        };
        if b.drop_rate > 0.0 && rng.unit() <= b.drop_rate {
            dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if b.delay.is_zero() {
            if socket.send_to(&buf[..n], from).await.is_ok() {
                echoed.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            let socket = Arc::clone(&socket);
            let echoed = Arc::clone(&echoed);
            let data = buf[..n].to_vec();
            let delay = b.delay;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if socket.send_to(&data, from).await.is_ok() {
                    echoed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
}
