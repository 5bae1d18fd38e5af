//! UDP echo: each request sends one unique datagram and waits for its echo.
//!
//! Each request has exactly one outcome: the matching echo within the UDP timeout is a
//! success; within twice the timeout it is [`ErrorKind::EchoLate`]; none by then is
//! [`ErrorKind::EchoLost`]; a datagram for this request with other bytes, or one that is
//! no echo of this slot at all, is [`ErrorKind::EchoMismatch`]. Echoes of this slot's
//! earlier requests (they already ended as lost) and duplicates are skipped while waiting.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::Outcome;
use super::classify::{classify_connect_io, classify_io};
use crate::ErrorKind;

/// One connected UDP socket and its buffers.
pub(crate) struct UdpConn {
    socket: UdpSocket,
    out: Vec<u8>,
    /// One byte longer than the payload, so a longer datagram is seen as such.
    back: Vec<u8>,
}

impl UdpConn {
    /// Binds an ephemeral local port of `addr`'s family and connects it to `addr`.
    pub(crate) async fn open(addr: SocketAddr, payload: usize) -> Result<Self, std::io::Error> {
        let local: SocketAddr = if addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(addr).await?;
        Ok(UdpConn {
            socket,
            out: vec![0; payload],
            back: vec![0; payload + 1],
        })
    }

    /// Sends request `seq` of slot `id` and waits for its echo (see the module docs).
    pub(crate) async fn exchange(&mut self, id: u64, seq: u64, timeout: Duration) -> Outcome {
        super::echo::fill(&mut self.out, id, seq);
        let sent_at = Instant::now();
        let size = self.out.len() as u64;
        if let Err(e) = self.socket.send(&self.out).await {
            return Outcome {
                sent_at,
                result: Err(send_kind(&e)),
                reusable: true,
            };
        }
        let on_time = sent_at + timeout;
        let give_up = on_time + timeout;
        let result = loop {
            let n = match tokio::time::timeout_at(give_up, self.socket.recv(&mut self.back)).await {
                Err(_) => break Err(ErrorKind::EchoLost),
                // An ICMP "port unreachable" for an earlier datagram shows up here.
                Ok(Err(e)) => break Err(classify_io(&e)),
                Ok(Ok(n)) => n,
            };
            let got = &self.back[..n];
            match super::echo::header(got) {
                Some((i, s)) if i == id && s < seq => continue,
                Some((i, s)) if i == id && s == seq && got == self.out.as_slice() => {
                    break if Instant::now() <= on_time {
                        Ok((200, size, size))
                    } else {
                        Err(ErrorKind::EchoLate)
                    };
                }
                _ => break Err(ErrorKind::EchoMismatch),
            }
        };
        Outcome {
            sent_at,
            result,
            reusable: true,
        }
    }
}

/// The kind of a failed send (a refused earlier datagram is reported on the next call).
fn send_kind(e: &std::io::Error) -> ErrorKind {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        _ => classify_connect_io(e),
    }
}
