//! Serving glue shared by the sample service and the sidecar: the accept loop (HTTP/1.1 and h2c
//! with prior knowledge, for gRPC), the response body type and JSON responses.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Every response body of the loopback mesh: data, and for gRPC trailers.
pub(super) type RespBody = BoxBody<Bytes, Infallible>;

/// A body of `data` without trailers.
pub(super) fn full(data: impl Into<Bytes>) -> RespBody {
    Full::new(data.into()).boxed()
}

/// A body of `data` followed by `trailers`.
pub(super) fn with_trailers(data: Bytes, trailers: http::HeaderMap) -> RespBody {
    Full::new(data)
        .with_trailers(std::future::ready(Some(Ok::<_, Infallible>(trailers))))
        .boxed()
}

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
    Fut: std::future::Future<Output = Result<Response<RespBody>, Denied>> + Send + 'static,
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
                        let builder = auto::Builder::new(TokioExecutor::new());
                        let conn = builder.serve_connection(TokioIo::new(stream), service_fn(h));
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
) -> Response<RespBody> {
    let mut r = Response::new(full(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(served_by) {
        r.headers_mut().insert("x-served-by", v);
    }
    r
}
