//! Serving glue shared by the sample service and the sidecar: the accept loop and JSON responses.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug)]
pub(super) struct Denied;

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by policy")
    }
}

impl std::error::Error for Denied {}

pub(super) fn serve<F, Fut>(listener: TcpListener, mut stop: watch::Receiver<()>, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response<Full<Bytes>>, Denied>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = listener.accept() => {
                    let Ok((stream, _)) = r else { continue };
                    let _ = stream.set_nodelay(true);
                    let h = handler.clone();
                    let mut stop_conn = stop.clone();
                    tokio::spawn(async move {
                        let conn = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service_fn(h));
                        tokio::select! {
                            _ = conn => {}
                            _ = stop_conn.changed() => {}
                        }
                    });
                }
                _ = stop.changed() => break,
            }
        }
    });
}

pub(super) fn json_response(
    status: StatusCode,
    body: &Value,
    served_by: &str,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(served_by) {
        r.headers_mut().insert("x-served-by", v);
    }
    r
}
