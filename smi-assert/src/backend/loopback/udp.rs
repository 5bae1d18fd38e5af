//! UDP in the loopback mesh: a UDP echo sample service and an outbound UDP sidecar per workload.
//!
//! A workload hands a datagram to its own UDP sidecar as `<authority>\n<payload>`, e.g.
//! `app-b:9092\nping`: the authority stands in for the original destination address that a real
//! mesh reads from the redirected socket (as the `Host` header does for the HTTP sidecar). The
//! sidecar resolves the Service (the port must be one of its `protocol: UDP` ports), picks an
//! endpoint, authorises with the destination's TrafficTargets (only `UDPRoute` rules cover UDP)
//! and forwards the payload to the endpoint's echo service, which answers
//! `<SERVICE_NAME>\n<payload>`; the sidecar relays that answer back. Denied or unroutable
//! datagrams are dropped silently, since UDP has no way to refuse: the sender sees a timeout.
//! UDP traffic is not split by TrafficSplits and not counted in TrafficMetrics (an HTTP API).

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use http::HeaderMap;
use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::net::{classify, parse_host};
use super::policy::{Decision, Protocol, RequestView, authorize};
use super::workload::{Inner, Workload};
use crate::backend::Outcome;

/// Largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// How long the sidecar waits for the destination's answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the echo sample service until `stop` fires.
pub(super) fn serve_echo(socket: UdpSocket, service_name: String, mut stop: watch::Receiver<()>) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    let Ok((n, from)) = r else { continue };
                    let mut reply = Vec::with_capacity(service_name.len() + 1 + n);
                    reply.extend_from_slice(service_name.as_bytes());
                    reply.push(b'\n');
                    reply.extend_from_slice(&buf[..n]);
                    let _ = socket.send_to(&reply, from).await;
                }
                _ = stop.changed() => break,
            }
        }
    });
}

/// Runs a workload's UDP sidecar until `stop` fires or the workload is gone.
pub(super) fn serve_sidecar(
    socket: UdpSocket,
    inner: Weak<Inner>,
    me: Weak<Workload>,
    mut stop: watch::Receiver<()>,
) {
    let socket = Arc::new(socket);
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    let Ok((n, from)) = r else { continue };
                    let (Some(inner), Some(me)) = (inner.upgrade(), me.upgrade()) else { break };
                    // Routing is synchronous; no strong handle is held while waiting for the answer.
                    let Some((target, start)) = route(&inner, &me, &buf[..n]) else { continue };
                    let payload = buf[start..n].to_vec();
                    let socket = socket.clone();
                    let stop = stop.clone();
                    tokio::spawn(relay(socket, from, target, payload, stop));
                }
                _ = stop.changed() => break,
            }
        }
    });
}

/// Where an outbound datagram goes if policy allows it: the endpoint's echo address and the
/// offset of the payload.
fn route(inner: &Inner, me: &Workload, datagram: &[u8]) -> Option<(SocketAddr, usize)> {
    let nl = datagram.iter().position(|b| *b == b'\n')?;
    let authority = std::str::from_utf8(&datagram[..nl]).ok()?;
    let (svc, ns, port) = parse_host(authority, &me.namespace)?;
    let info = inner.service(&ns, &svc)?;
    if !info.udp_ports.contains(&port) {
        return None;
    }
    let eps = inner.endpoints(&ns, &info);
    if eps.is_empty() {
        return None;
    }
    let dst = eps[inner.pick(eps.len())].clone();
    let policy = inner.current_policy();
    let headers = HeaderMap::new();
    let view = RequestView {
        protocol: Protocol::Udp,
        method: "",
        path: "",
        headers: &headers,
        port,
    };
    match authorize(
        &policy,
        inner.config.access,
        &inner.config.faults,
        (&me.namespace, &me.service_account),
        (&dst.namespace, &dst.service_account),
        &view,
    ) {
        Decision::Allow => Some((dst.udp_echo_addr, nl + 1)),
        Decision::DenyHttp | Decision::DenyConnection => None,
    }
}

async fn relay(
    socket: Arc<UdpSocket>,
    from: SocketAddr,
    target: SocketAddr,
    payload: Vec<u8>,
    mut stop: watch::Receiver<()>,
) {
    let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
        return;
    };
    if up.connect(target).await.is_err() || up.send(&payload).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; MAX_DATAGRAM];
    tokio::select! {
        r = tokio::time::timeout(FORWARD_TIMEOUT, up.recv(&mut buf)) => {
            if let Ok(Ok(n)) = r {
                let _ = socket.send_to(&buf[..n], from).await;
            }
        }
        _ = stop.changed() => {}
    }
}

/// Sends `payload` to `authority` through the UDP sidecar at `sidecar` and waits up to `timeout`
/// for the echo. Returns the outcome and the workload that answered.
pub(super) async fn call(
    sidecar: SocketAddr,
    authority: &str,
    payload: &[u8],
    timeout: Duration,
) -> (Outcome, Option<String>) {
    let other = |message: String| (Outcome::Other { message }, None);
    let sock = match UdpSocket::bind("127.0.0.1:0").await {
        Ok(s) => s,
        Err(e) => return other(format!("cannot bind a UDP socket: {e}")),
    };
    if let Err(e) = sock.connect(sidecar).await {
        return (classify(&e), None);
    }
    let mut frame = Vec::with_capacity(authority.len() + 1 + payload.len());
    frame.extend_from_slice(authority.as_bytes());
    frame.push(b'\n');
    frame.extend_from_slice(payload);
    if let Err(e) = sock.send(&frame).await {
        return (classify(&e), None);
    }
    let mut buf = vec![0u8; MAX_DATAGRAM];
    match tokio::time::timeout(timeout, sock.recv(&mut buf)).await {
        Err(_) => (Outcome::Timeout, None),
        Ok(Err(e)) => (classify(&e), None),
        Ok(Ok(n)) => {
            let reply = &buf[..n];
            let Some(nl) = reply.iter().position(|b| *b == b'\n') else {
                return other("the UDP answer is not `<service>\\n<payload>`".into());
            };
            let served_by = String::from_utf8_lossy(&reply[..nl]).into_owned();
            if &reply[nl + 1..] == payload {
                (Outcome::Datagram, Some(served_by))
            } else {
                (
                    Outcome::Other {
                        message: "the UDP answer does not echo the request".into(),
                    },
                    Some(served_by),
                )
            }
        }
    }
}
