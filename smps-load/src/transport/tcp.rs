//! TCP echo: each request writes a unique payload and waits for all of it to come back;
//! the echo is compared byte for byte (as fortio's `tcp://` client does). The connection
//! is reused while echoes match; a mismatch leaves the stream out of step, so the
//! connection is closed and the next request reconnects.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Outcome;
use super::classify::classify_io;
use crate::ErrorKind;

/// One TCP echo connection and its buffers (one request in flight).
pub(crate) struct TcpConn {
    stream: TcpStream,
    out: Vec<u8>,
    back: Vec<u8>,
}

impl TcpConn {
    pub(crate) fn new(stream: TcpStream, payload: usize) -> Self {
        TcpConn {
            stream,
            out: vec![0; payload],
            back: vec![0; payload],
        }
    }

    /// Sends request `seq` of slot `id` and reads its echo.
    ///
    /// Cancel safety: dropping the future leaves the stream mid-echo; the caller discards
    /// the connection.
    pub(crate) async fn exchange(&mut self, id: u64, seq: u64) -> Outcome {
        super::echo::fill(&mut self.out, id, seq);
        let sent_at = Instant::now();
        let size = self.out.len() as u64;
        let result = async {
            self.stream
                .write_all(&self.out)
                .await
                .map_err(|e| classify_io(&e))?;
            self.stream
                .read_exact(&mut self.back)
                .await
                .map_err(|e| classify_io(&e))?;
            if self.back != self.out {
                return Err(ErrorKind::EchoMismatch);
            }
            Ok((200, size, size))
        }
        .await;
        Outcome {
            sent_at,
            reusable: result.is_ok(),
            result,
        }
    }
}
