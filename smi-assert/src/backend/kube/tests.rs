//! [`KubeCluster`] and [`KubeTraffic`] against a fake API server on 127.0.0.1: a small hyper
//! server that answers discovery, CRUD and the pod proxy / log endpoints for the few resources
//! used, simulates learn-layer5 sample apps behind the pod proxy, and records every request so
//! the tests can check exactly what was sent.
//!
//! The tests that need a real cluster are at the end, marked `#[ignore = "needs a cluster"]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ::kube::{Client, Config};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{FIELD_MANAGER, KubeCluster, KubeTraffic};
use crate::backend::{
    ClusterBackend, Error, ObjectRef, Outcome, TrafficBackend, TrafficRequest, merge_patch,
};

// ------------------------------------------------------------------------------------------------
// The fake API server

/// `(group/version, kind, plural, namespaced)` of the resources the fake serves.
const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("v1", "Namespace", "namespaces", false),
    ("v1", "Pod", "pods", true),
    ("v1", "Service", "services", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("apps/v1", "Deployment", "deployments", true),
    (
        "access.smi-spec.io/v1alpha3",
        "TrafficTarget",
        "traffictargets",
        true,
    ),
    (
        "split.smi-spec.io/v1alpha4",
        "TrafficSplit",
        "trafficsplits",
        true,
    ),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
];

/// One request as the fake received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    content_type: Option<String>,
    body: Value,
}

/// What the mesh does with one request a sample app makes.
#[derive(Debug, Clone)]
enum Route {
    /// The app whose `SERVICE_NAME` is `backend` answers with `status`.
    Serve { backend: String, status: u16 },
    /// The request fails with this Go transport error.
    Transport(String),
    /// No answer for this long, then `Serve`.
    Hang(Duration, String),
    /// The app answers but writes no log (not the learn-layer5 app).
    Unlogged,
}

type Mesh = dyn Fn(&str, &str, &str) -> Route + Send + Sync; // (caller, url, method)

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    objects: BTreeMap<String, Value>,
    /// `(method, path)` → answer `(status, body, delay)`.
    overrides: BTreeMap<(String, String), (u16, Value, Duration)>,
    received: BTreeMap<String, Vec<String>>,
    logs: BTreeMap<String, Vec<String>>,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    mesh: Arc<Mutex<Arc<Mesh>>>,
    addr: SocketAddr,
    _task: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

fn logrus(level: &str, msg: &str) -> String {
    let quoted = serde_json::to_string(msg).unwrap_or_default();
    format!(r#"time="2024-05-01T10:00:00Z" level={level} msg={quoted}"#)
}

fn labels_match(obj: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        obj["metadata"]["labels"][k].as_str() == Some(v)
    })
}

impl Fake {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let default_mesh: Arc<Mesh> = Arc::new(|_: &str, _: &str, _: &str| Route::Unlogged);
        let mesh = Arc::new(Mutex::new(default_mesh));
        let (st, me) = (state.clone(), mesh.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, me) = (st.clone(), me.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let (st, me) = (st.clone(), me.clone());
                        async move { Ok::<_, std::convert::Infallible>(handle(&st, &me, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            state,
            mesh,
            addr,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    fn client(&self) -> Client {
        let config = Config::new(format!("http://{}", self.addr).parse().unwrap());
        Client::try_from(config).unwrap()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    fn set_override(&self, method: &str, path: &str, status: u16, body: Value, delay: Duration) {
        self.lock()
            .overrides
            .insert((method.into(), path.into()), (status, body, delay));
    }

    fn set_mesh(&self, mesh: impl Fn(&str, &str, &str) -> Route + Send + Sync + 'static) {
        *self.mesh.lock().unwrap() = Arc::new(mesh);
    }

    fn put(&self, path: &str, obj: Value) {
        self.lock().objects.insert(path.into(), obj);
    }

    fn object(&self, path: &str) -> Option<Value> {
        self.lock().objects.get(path).cloned()
    }

    /// A running, ready sample-app pod with labels, `SERVICE_NAME` and port 9091.
    fn app_pod(&self, ns: &str, name: &str, service: &str, labels: Value) {
        self.put(
            &format!("/api/v1/namespaces/{ns}/pods/{name}"),
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": ns, "labels": labels},
                   "spec": {"containers": [
                       {"name": "istio-proxy", "image": "proxy"},
                       {"name": "app", "image": "layer5/learn-layer5:latest",
                        "ports": [{"containerPort": 9091, "name": "http"}],
                        "env": [{"name": "SERVICE_NAME", "value": service}]}]},
                   "status": {"phase": "Running",
                              "conditions": [{"type": "Ready", "status": "True"}]}}),
        );
    }

    fn deployment(&self, ns: &str, name: &str, labels: Value) {
        self.put(
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}}),
        );
    }

    fn service(&self, ns: &str, name: &str, selector: Value) {
        self.put(
            &format!("/api/v1/namespaces/{ns}/services/{name}"),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": selector, "ports": [{"port": 9091}]}}),
        );
    }
}

fn respond(status: u16, body: &Value) -> Response<Full<Bytes>> {
    text(status, "application/json", body.to_string())
}

fn text(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut()
        .insert("content-type", content_type.parse().unwrap());
    r
}

fn discovery(gv: &str) -> Option<Value> {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|(g, ..)| *g == gv)
        .flat_map(|(_, kind, plural, namespaced)| {
            let mut v = vec![json!({"name": plural, "singularName": "", "namespaced": namespaced,
                                    "kind": kind, "verbs": ["create", "delete", "get", "list", "patch"]})];
            if *plural == "pods" {
                v.push(json!({"name": "pods/log", "singularName": "", "namespaced": true,
                              "kind": "Pod", "verbs": ["get"]}));
            }
            v
        })
        .collect();
    (!resources.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
               "resources": resources})
    })
}

async fn handle(
    st: &Arc<Mutex<State>>,
    mesh: &Arc<Mutex<Arc<Mesh>>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.replace("%3D", "=").replace("%2C", ","))
        })
        .collect();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let bytes = req.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let over = {
        let mut s = st.lock().unwrap();
        s.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            content_type,
            body: body.clone(),
        });
        s.overrides
            .get(&(method.to_string(), path.clone()))
            .cloned()
    };
    if let Some((status, body, delay)) = over {
        tokio::time::sleep(delay).await;
        return respond(status, &body);
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (gv, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ((*v).to_string(), rest.to_vec()),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest.to_vec()),
        _ => return respond(404, &status_body(404, "NotFound", "no such path")),
    };
    if rest.is_empty() {
        return match discovery(&gv) {
            Some(d) if method == Method::GET => respond(200, &d),
            _ => respond(
                404,
                &status_body(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            ),
        };
    }
    let prefix = format!("/{}", segs[..segs.len() - rest.len()].join("/"));
    match rest.as_slice() {
        ["namespaces", ns, "pods", target, "proxy", app_path @ ..] => {
            let (pod, _port) = target.split_once(':').unwrap_or((target, "80"));
            sample_app(st, mesh, ns, pod, &method, &app_path.join("/"), &body).await
        }
        ["namespaces", ns, "pods", pod, "log"] => {
            let key = format!("{ns}/{pod}");
            let s = st.lock().unwrap();
            let lines = s.logs.get(&key).cloned().unwrap_or_default();
            let tail: usize = query
                .get("tailLines")
                .and_then(|t| t.parse().ok())
                .unwrap_or(usize::MAX);
            let from = lines.len().saturating_sub(tail);
            let mut out = lines[from..].join("\n");
            if !out.is_empty() {
                out.push('\n');
            }
            text(200, "text/plain", out)
        }
        ["namespaces", ns, plural] => crud(
            st,
            &gv,
            plural,
            &format!("{prefix}/namespaces/{ns}/{plural}"),
            Some(ns),
            None,
            &method,
            &body,
            &query,
        ),
        ["namespaces", ns, plural, name] => crud(
            st,
            &gv,
            plural,
            &format!("{prefix}/namespaces/{ns}/{plural}"),
            Some(ns),
            Some(name),
            &method,
            &body,
            &query,
        ),
        [plural] => crud(
            st,
            &gv,
            plural,
            &format!("{prefix}/{plural}"),
            None,
            None,
            &method,
            &body,
            &query,
        ),
        [plural, name] => crud(
            st,
            &gv,
            plural,
            &format!("{prefix}/{plural}"),
            None,
            Some(name),
            &method,
            &body,
            &query,
        ),
        _ => respond(404, &status_body(404, "NotFound", "no such path")),
    }
}

#[allow(clippy::too_many_arguments)]
fn crud(
    st: &Arc<Mutex<State>>,
    gv: &str,
    plural: &str,
    collection: &str,
    ns: Option<&str>,
    name: Option<&str>,
    method: &Method,
    body: &Value,
    query: &BTreeMap<String, String>,
) -> Response<Full<Bytes>> {
    let Some((_, kind, _, _)) = RESOURCES
        .iter()
        .find(|(g, _, p, _)| *g == gv && *p == plural)
    else {
        return respond(404, &status_body(404, "NotFound", "no such resource"));
    };
    let mut s = st.lock().unwrap();
    let not_found = |n: &str| {
        respond(
            404,
            &status_body(404, "NotFound", &format!("{plural} \"{n}\" not found")),
        )
    };
    match (method.as_str(), name) {
        ("GET", None) => {
            let namespaced = RESOURCES
                .iter()
                .any(|(g, _, p, n)| *g == gv && *p == plural && *n);
            let prefix = collection.strip_suffix(&format!("/{plural}")).unwrap_or("");
            let items: Vec<Value> = s
                .objects
                .iter()
                .filter(|(k, v)| {
                    let in_collection = if ns.is_some() || !namespaced {
                        k.strip_prefix(&format!("{collection}/"))
                            .is_some_and(|rest| !rest.contains('/'))
                    } else {
                        // Every namespace: {prefix}/namespaces/{ns}/{plural}/{name}.
                        let rest = k
                            .strip_prefix(&format!("{prefix}/namespaces/"))
                            .unwrap_or("");
                        let parts: Vec<&str> = rest.split('/').collect();
                        parts.len() == 3 && parts[1] == plural
                    };
                    in_collection
                        && query
                            .get("labelSelector")
                            .is_none_or(|sel| labels_match(v, sel))
                })
                .map(|(_, v)| {
                    let mut item = v.clone();
                    // Like a real server, list items carry no apiVersion/kind.
                    if let Some(m) = item.as_object_mut() {
                        m.remove("apiVersion");
                        m.remove("kind");
                    }
                    item
                })
                .collect();
            respond(
                200,
                &json!({"kind": format!("{kind}List"), "apiVersion": gv,
                        "metadata": {"resourceVersion": "1"}, "items": items}),
            )
        }
        ("POST", None) => {
            let n = body["metadata"]["name"].as_str().unwrap_or("").to_string();
            let key = format!("{collection}/{n}");
            if s.objects.contains_key(&key) {
                return respond(
                    409,
                    &status_body(
                        409,
                        "AlreadyExists",
                        &format!("{plural} \"{n}\" already exists"),
                    ),
                );
            }
            let mut obj = body.clone();
            obj["metadata"]["resourceVersion"] = json!("1");
            if *kind == "Namespace" {
                obj["status"] = json!({"phase": "Active"});
            }
            s.objects.insert(key, obj.clone());
            respond(201, &obj)
        }
        ("GET", Some(n)) => match s.objects.get(&format!("{collection}/{n}")) {
            Some(o) => respond(200, o),
            None => not_found(n),
        },
        ("PATCH", Some(n)) => match s.objects.get_mut(&format!("{collection}/{n}")) {
            Some(o) => {
                merge_patch(o, body);
                respond(200, o)
            }
            None => not_found(n),
        },
        ("DELETE", Some(n)) => match s.objects.remove(&format!("{collection}/{n}")) {
            Some(o) => respond(200, &o),
            None => not_found(n),
        },
        _ => respond(405, &status_body(405, "MethodNotAllowed", "not supported")),
    }
}

/// The learn-layer5 sample app of one pod, as seen through the pod proxy.
async fn sample_app(
    st: &Arc<Mutex<State>>,
    mesh: &Arc<Mutex<Arc<Mesh>>>,
    ns: &str,
    pod: &str,
    method: &Method,
    path: &str,
    body: &Value,
) -> Response<Full<Bytes>> {
    let key = format!("{ns}/{pod}");
    let Some(me) = st
        .lock()
        .unwrap()
        .objects
        .get(&format!("/api/v1/namespaces/{ns}/pods/{pod}"))
        .cloned()
    else {
        return respond(
            404,
            &status_body(404, "NotFound", &format!("pods \"{pod}\" not found")),
        );
    };
    let service = me["spec"]["containers"][1]["env"][0]["value"]
        .as_str()
        .unwrap_or("Default")
        .to_string();
    match (method.as_str(), path) {
        ("GET", "metrics") => {
            let got = st
                .lock()
                .unwrap()
                .received
                .get(&key)
                .cloned()
                .unwrap_or_default();
            respond(
                200,
                &json!({"ReqReceived": got, "RespSucceeded": [], "RespFailed": []}),
            )
        }
        ("POST", "call") => {
            st.lock()
                .unwrap()
                .received
                .entry(key.clone())
                .or_default()
                .push("Unidentified".into());
            // The Go app type-asserts every field to a string and panics otherwise; the API
            // server then sees the connection close.
            let (Some(url), Some(m), Some(_)) = (
                body["url"].as_str(),
                body["method"].as_str(),
                body["body"].as_str(),
            ) else {
                return respond(
                    502,
                    &status_body(502, "BadGateway", "error trying to reach service: EOF"),
                );
            };
            let route = (mesh.lock().unwrap().clone())(&service, url, m);
            let log = |line: String| {
                st.lock()
                    .unwrap()
                    .logs
                    .entry(key.clone())
                    .or_default()
                    .push(line);
            };
            if !matches!(route, Route::Unlogged) {
                log(logrus("debug", &format!("request body: {body}")));
            }
            let serve = |backend: &str, status: u16| {
                let mut s = st.lock().unwrap();
                let target = s
                    .objects
                    .iter()
                    .find(|(k, v)| {
                        k.contains("/pods/")
                            && v["spec"]["containers"][1]["env"][0]["value"] == backend
                    })
                    .map(|(k, _)| {
                        let parts: Vec<&str> = k.split('/').collect();
                        format!("{}/{}", parts[4], parts[6])
                    });
                if let Some(t) = target
                    && (url.ends_with("/echo") || url.ends_with("/call"))
                    && status < 400
                {
                    s.received.entry(t).or_default().push(service.clone());
                }
            };
            match route {
                Route::Serve { backend, status } => {
                    serve(&backend, status);
                    log(logrus(
                        "debug",
                        &format!(
                            "Call response: &{{{status} X {status} HTTP/1.1 1 1 map[] 0xc0 -1 [] false false map[] 0xc1 <nil>}}"
                        ),
                    ));
                    // Like the real app: the target's body (here an /echo of the request, with
                    // its x-request-id) is logged and passed through.
                    let echoed = format!(
                        "{m} /echo HTTP/1.1\r\nServicename: {service}\r\nX-Request-Id: {}\r\n\r\n",
                        body["headers"]["x-request-id"].as_str().unwrap_or("")
                    );
                    log(logrus("debug", &format!("Response body: {echoed}")));
                    text(200, "text/plain", echoed)
                }
                Route::Hang(d, backend) => {
                    tokio::time::sleep(d).await;
                    serve(&backend, 200);
                    log(logrus("debug", "Call response: &{200 OK 200 HTTP/1.1}"));
                    text(200, "text/plain", String::new())
                }
                Route::Transport(err) => {
                    log(logrus(
                        "error",
                        &format!("Error completing the request {m} \"{url}\": {err}"),
                    ));
                    text(
                        500,
                        "text/plain; charset=utf-8",
                        "Error completing the request\n".into(),
                    )
                }
                Route::Unlogged => text(200, "text/plain", "hello".into()),
            }
        }
        _ => text(404, "text/plain", "404 page not found\n".into()),
    }
}

// ------------------------------------------------------------------------------------------------
// KubeCluster

fn tt(name: &str) -> Value {
    json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
           "metadata": {"name": name},
           "spec": {"destination": {"kind": "ServiceAccount", "name": "service-b"},
                    "sources": [{"kind": "ServiceAccount", "name": "service-a"}],
                    "rules": [{"kind": "TCPRoute", "name": "all"}]}})
}

fn tt_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new(
        "access.smi-spec.io/v1alpha3",
        "TrafficTarget",
        Some(ns.into()),
        name,
    )
}

#[tokio::test]
async fn apply_creates_namespaced_objects_with_the_smi_assert_field_manager() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let stored = cluster.apply(&tt("t1"), "test-ns").await.unwrap();
    assert_eq!(stored["metadata"]["namespace"], "test-ns");
    assert_eq!(stored["apiVersion"], "access.smi-spec.io/v1alpha3");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("GET", "/apis/access.smi-spec.io/v1alpha3")
    );
    let post = &reqs[1];
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/test-ns/traffictargets"
    );
    assert_eq!(
        post.query.get("fieldManager").map(String::as_str),
        Some(FIELD_MANAGER)
    );
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(post.body["metadata"]["namespace"], "test-ns");
    assert_eq!(post.body["spec"]["destination"]["name"], "service-b");
    assert!(
        fake.object("/apis/access.smi-spec.io/v1alpha3/namespaces/test-ns/traffictargets/t1")
            .is_some()
    );
}

#[tokio::test]
async fn applying_an_existing_object_sends_a_json_merge_patch_and_discovery_is_cached() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    fake.clear_requests();
    let mut changed = tt("t1");
    changed["spec"]["sources"] = json!([{"kind": "ServiceAccount", "name": "service-c"}]);
    let stored = cluster.apply(&changed, "ns").await.unwrap();
    assert_eq!(stored["spec"]["sources"][0]["name"], "service-c");
    let reqs = fake.requests();
    let shape: Vec<(&str, &str)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (
                "POST",
                "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets"
            ),
            (
                "PATCH",
                "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1"
            ),
        ]
    );
    let patch = &reqs[1];
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        patch.query.get("fieldManager").map(String::as_str),
        Some(FIELD_MANAGER)
    );
    assert_eq!(patch.body["spec"]["sources"][0]["name"], "service-c");
    // Still one object (idempotent apply).
    assert_eq!(
        cluster
            .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("ns"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn kinds_the_server_does_not_serve_are_not_found_and_cannot_be_applied() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let old_crd = ObjectRef::new(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        None,
        "traffictargets.access.smi-spec.io",
    );
    assert_eq!(cluster.get(&old_crd).await.unwrap(), None);
    assert!(!cluster.delete(&old_crd).await.unwrap());
    let unknown_kind = ObjectRef::new("v1", "Gadget", Some("ns".into()), "g");
    assert_eq!(cluster.get(&unknown_kind).await.unwrap(), None);
    assert!(
        cluster
            .list("udp.example.io/v1", "Thing", None)
            .await
            .unwrap()
            .is_empty()
    );
    let err = cluster
        .apply(
            &json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "UDPRoute",
                    "metadata": {"name": "u"}}),
            "ns",
        )
        .await
        .unwrap_err();
    let Error::Apply {
        object,
        reason,
        source: None,
    } = &err
    else {
        panic!("{err:?}")
    };
    // The scope of an unserved kind is unknown, so the namespace is not named.
    assert_eq!(object, "UDPRoute u");
    assert!(reason.contains("does not serve kind UDPRoute"), "{reason}");
    // Only discovery requests were made.
    assert!(fake.requests().iter().all(|r| r.method == "GET"
        && (r.path.starts_with("/apis/") || r.path == "/api/v1")
        && r.path.matches('/').count() <= 3));
}

#[tokio::test]
async fn missing_objects_are_none_on_get_and_false_on_delete() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    assert_eq!(cluster.get(&tt_ref("ns", "nope")).await.unwrap(), None);
    assert!(!cluster.delete(&tt_ref("ns", "nope")).await.unwrap());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    let got = cluster.get(&tt_ref("ns", "t1")).await.unwrap().unwrap();
    assert_eq!(got["metadata"]["name"], "t1");
    fake.clear_requests();
    assert!(cluster.delete(&tt_ref("ns", "t1")).await.unwrap());
    let del = &fake.requests()[0];
    assert_eq!(del.method, "DELETE");
    assert_eq!(
        del.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1"
    );
    assert_eq!(del.body["propagationPolicy"], "Background");
    assert_eq!(cluster.get(&tt_ref("ns", "t1")).await.unwrap(), None);
}

#[tokio::test]
async fn list_items_get_their_api_version_and_kind_back() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "a").await.unwrap();
    cluster.apply(&tt("t2"), "b").await.unwrap();
    let in_a = cluster
        .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("a"))
        .await
        .unwrap();
    assert_eq!(in_a.len(), 1);
    assert_eq!(in_a[0]["kind"], "TrafficTarget");
    assert_eq!(in_a[0]["apiVersion"], "access.smi-spec.io/v1alpha3");
    assert_eq!(in_a[0]["metadata"]["name"], "t1");
    let last = fake.requests().pop().unwrap();
    assert_eq!(
        last.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/a/traffictargets"
    );
}

#[tokio::test]
async fn cluster_scoped_objects_are_applied_without_a_namespace() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                     "metadata": {"name": "things.example.io", "namespace": "ignored"},
                     "spec": {"group": "example.io"}});
    let stored = cluster.apply(&crd, "ns").await.unwrap();
    assert!(stored["metadata"].get("namespace").is_none(), "{stored}");
    let post = fake.requests().pop().unwrap();
    assert_eq!(
        post.path,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    );
    let got = cluster
        .get(&ObjectRef::new(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            Some("ns".into()),
            "things.example.io",
        ))
        .await
        .unwrap();
    assert_eq!(got.unwrap()["spec"]["group"], "example.io");
}

#[tokio::test]
async fn server_errors_name_the_object_and_the_servers_answer() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    let obj = "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1";
    let boom = status_body(500, "InternalError", "etcd is on fire");
    fake.set_override("GET", obj, 500, boom.clone(), Duration::ZERO);
    fake.set_override("DELETE", obj, 500, boom.clone(), Duration::ZERO);
    let err = cluster.get(&tt_ref("ns", "t1")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::ReadObject {
            object: "TrafficTarget ns/t1".into(),
            reason: "HTTP 500 InternalError: etcd is on fire".into(),
            source: None,
        }
        .to_string()
    );
    let err = cluster.delete(&tt_ref("ns", "t1")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Delete { object, reason, source: None } if object == "TrafficTarget ns/t1" && reason.contains("etcd is on fire")),
        "{err:?}"
    );
    // A conflict other than AlreadyExists is an error, not a patch.
    let coll = "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets";
    fake.set_override(
        "POST",
        coll,
        409,
        status_body(409, "Conflict", "the object has been modified"),
        Duration::ZERO,
    );
    let err = cluster.apply(&tt("t2"), "ns").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Apply {
            object: "TrafficTarget ns/t2".into(),
            reason: "create: HTTP 409 Conflict: the object has been modified".into(),
            source: None,
        }
        .to_string()
    );
    fake.set_override("GET", coll, 500, boom.clone(), Duration::ZERO);
    let err = cluster
        .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("ns"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReadObject { object, .. } if object == "TrafficTarget list in ns"),
        "{err:?}"
    );
    // Discovery failing is an error too (not "not found").
    fake.set_override("GET", "/apis/apps/v1", 500, boom, Duration::ZERO);
    let err = cluster
        .get(&ObjectRef::new(
            "apps/v1",
            "Deployment",
            Some("ns".into()),
            "d",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReadObject { reason, .. } if reason.contains("cannot discover Deployment in apps/v1: HTTP 500")),
        "{err:?}"
    );
}

#[tokio::test]
async fn traffic_metrics_are_read_from_the_metrics_api_paths_and_never_written() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let tm = json!({"kind": "TrafficMetrics", "apiVersion": "metrics.smi-spec.io/v1alpha1",
                    "resource": {"kind": "Deployment", "namespace": "t", "name": "app-b"},
                    "edge": {"direction": "from", "resource": {}},
                    "metrics": [{"name": "success_count", "value": "3"}]});
    let edges = json!({"kind": "TrafficMetricsList", "apiVersion": "metrics.smi-spec.io/v1alpha1",
                       "items": [tm.clone()]});
    let base = "/apis/metrics.smi-spec.io/v1alpha1";
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/deployments/app-b"),
        200,
        tm.clone(),
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/deployments/app-b/edges"),
        200,
        edges.clone(),
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/pods"),
        200,
        edges,
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t"),
        200,
        tm.clone(),
        Duration::ZERO,
    );
    let m = |kind: &str, ns: Option<&str>, name: &str| {
        ObjectRef::new(
            "metrics.smi-spec.io/v1alpha1",
            kind,
            ns.map(String::from),
            name,
        )
    };
    assert_eq!(
        cluster
            .get(&m("Deployment", Some("t"), "app-b"))
            .await
            .unwrap(),
        Some(tm.clone())
    );
    let e = cluster
        .get(&m("Deployment", Some("t"), "app-b/edges"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e["kind"], "TrafficMetricsList");
    // Namespaces are cluster-scoped: the namespace of the reference is not in the path.
    assert_eq!(
        cluster.get(&m("Namespace", Some("x"), "t")).await.unwrap(),
        Some(tm.clone())
    );
    assert_eq!(
        cluster.get(&m("Pod", Some("t"), "gone")).await.unwrap(),
        None
    );
    let items = cluster
        .list("metrics.smi-spec.io/v1alpha1", "Pod", Some("t"))
        .await
        .unwrap();
    assert_eq!(items, vec![tm]);
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            format!("{base}/namespaces/t/deployments/app-b"),
            format!("{base}/namespaces/t/deployments/app-b/edges"),
            format!("{base}/namespaces/t"),
            format!("{base}/namespaces/t/pods/gone"),
            format!("{base}/namespaces/t/pods"),
        ]
    );
    let err = cluster
        .apply(
            &json!({"apiVersion": "metrics.smi-spec.io/v1alpha1", "kind": "TrafficMetrics",
                                    "metadata": {"name": "x"}}),
            "t",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Apply { reason, .. } if reason.contains("read-only")),
        "{err:?}"
    );
    let err = cluster.delete(&m("Pod", Some("t"), "p")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Delete { reason, .. } if reason.contains("read-only")),
        "{err:?}"
    );
    assert_eq!(
        fake.requests().len(),
        5,
        "nothing was sent for apply or delete"
    );
}

#[tokio::test]
async fn namespaces_are_created_with_labels_and_annotations_idempotently() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let labels = BTreeMap::from([("istio-injection".to_string(), "enabled".to_string())]);
    let annotations = BTreeMap::from([("linkerd.io/inject".to_string(), "enabled".to_string())]);
    cluster
        .create_namespace("smi-x", &labels, &annotations)
        .await
        .unwrap();
    let post = fake.requests().pop().unwrap();
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/api/v1/namespaces")
    );
    assert_eq!(
        post.body["metadata"]["labels"]["istio-injection"],
        "enabled"
    );
    assert_eq!(
        post.body["metadata"]["annotations"]["linkerd.io/inject"],
        "enabled"
    );
    // Again with the same labels: nothing to patch.
    fake.clear_requests();
    cluster
        .create_namespace("smi-x", &labels, &annotations)
        .await
        .unwrap();
    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET"]);
    // An existing namespace without the injection label gets it merged in.
    fake.put(
        "/api/v1/namespaces/old",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "old", "labels": {"team": "a"}},
               "status": {"phase": "Active"}}),
    );
    fake.clear_requests();
    cluster
        .create_namespace("old", &labels, &BTreeMap::new())
        .await
        .unwrap();
    let patch = fake.requests().pop().unwrap();
    assert_eq!(
        (patch.method.as_str(), patch.path.as_str()),
        ("PATCH", "/api/v1/namespaces/old")
    );
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    let stored = fake.object("/api/v1/namespaces/old").unwrap();
    assert_eq!(
        stored["metadata"]["labels"],
        json!({"team": "a", "istio-injection": "enabled"})
    );
    let mut names = cluster.namespaces().await.unwrap();
    names.sort();
    assert_eq!(names, ["old", "smi-x"]);
}

#[tokio::test]
async fn a_namespace_still_terminating_cannot_be_created_again() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    fake.put(
        "/api/v1/namespaces/smi-old",
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "smi-old", "deletionTimestamp": "2024-05-01T10:00:00Z"},
               "status": {"phase": "Terminating"}}),
    );
    let err = cluster
        .create_namespace("smi-old", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Namespace { namespace, reason, source: None } if namespace == "smi-old" && reason.contains("being deleted")),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_namespace_reports_whether_it_existed() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster
        .create_namespace("gone", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    assert!(cluster.delete_namespace("gone").await.unwrap());
    let del = fake.requests().pop().unwrap();
    assert_eq!(
        (del.method.as_str(), del.path.as_str()),
        ("DELETE", "/api/v1/namespaces/gone")
    );
    assert!(!cluster.delete_namespace("gone").await.unwrap());
    fake.set_override(
        "DELETE",
        "/api/v1/namespaces/kube-system",
        403,
        status_body(403, "Forbidden", "namespaces \"kube-system\" is forbidden"),
        Duration::ZERO,
    );
    let err = cluster.delete_namespace("kube-system").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Namespace {
            namespace: "kube-system".into(),
            reason: "delete: HTTP 403 Forbidden: namespaces \"kube-system\" is forbidden".into(),
            source: None,
        }
        .to_string()
    );
}

#[tokio::test]
async fn an_unreachable_api_server_is_an_error_not_a_missing_object() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let cluster = KubeCluster::new(Client::try_from(config).unwrap());
    let err = cluster.get(&tt_ref("ns", "t1")).await.unwrap_err();
    let Error::ReadObject {
        object,
        reason,
        source: None,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(object, "TrafficTarget ns/t1");
    assert!(reason.contains("cannot talk to the API server"), "{reason}");
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
}

// ------------------------------------------------------------------------------------------------
// KubeTraffic

/// Namespace `t` with app-a (source, Deployment app-a-deployment), app-b, and a split root
/// `app-svc` over app-b and app-c, like the bundled suite's fixtures.
async fn mesh_fixture() -> (Fake, KubeTraffic) {
    let fake = Fake::start().await;
    fake.app_pod("t", "app-a-7d9-x1", "app-a", json!({"app": "app-a"}));
    fake.app_pod(
        "t",
        "app-b-5c4-y2",
        "app-b",
        json!({"app": "app", "version": "b"}),
    );
    fake.app_pod(
        "t",
        "app-c-6f8-z3",
        "app-c",
        json!({"app": "app", "version": "c"}),
    );
    fake.app_pod("other", "app-z-1", "app-z", json!({"app": "app-z"}));
    fake.deployment("t", "app-a-deployment", json!({"app": "app-a"}));
    fake.service("t", "app-a", json!({"app": "app-a"}));
    fake.service("t", "app-svc", json!({"app": "app"}));
    let traffic = KubeTraffic::new(fake.client());
    (fake, traffic)
}

fn echo_from_a(url: &str) -> TrafficRequest {
    TrafficRequest::get("t", "app-a-deployment", url)
}

#[tokio::test]
async fn an_allowed_request_reports_the_status_and_the_backend_that_served_it() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|caller, url, method| {
        assert_eq!(
            (caller, url, method),
            ("app-a", "http://app-b:9091/echo", "GET")
        );
        Route::Serve {
            backend: "app-b".into(),
            status: 200,
        }
    });
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.headers.push(("x-user".into(), "alice".into()));
    let rec = traffic.send(&req).await.unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 200 });
    assert_eq!(rec.served_by.as_deref(), Some("app-b"));
    assert_eq!(rec.url, "http://app-b:9091/echo");
    let reqs = fake.requests();
    let call: Vec<&Recorded> = reqs
        .iter()
        .filter(|r| r.path.ends_with("/proxy/call"))
        .collect();
    assert_eq!(call.len(), 1, "{reqs:#?}");
    let call = call[0];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.path,
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call"
    );
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
    let token = call.body["headers"]["x-request-id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.starts_with("smi-assert-"), "{token}");
    assert_eq!(
        call.body,
        json!({"url": "http://app-b:9091/echo", "method": "GET", "body": "",
               "headers": {"x-user": "alice", "x-request-id": token}})
    );
    let log = reqs.iter().find(|r| r.path.ends_with("/log")).unwrap();
    assert_eq!(log.path, "/api/v1/namespaces/t/pods/app-a-7d9-x1/log");
    assert_eq!(log.query.get("container").map(String::as_str), Some("app"));
    assert_eq!(log.query.get("tailLines").map(String::as_str), Some("400"));
    // The source was found through its Deployment's selector.
    assert!(reqs.iter().any(|r| r.path == "/api/v1/namespaces/t/pods"
        && r.query.get("labelSelector").map(String::as_str) == Some("app=app-a")));
    // Counters of the apps in the target namespace only.
    assert!(reqs.iter().all(|r| !r.path.contains("app-z-1")));
    // A second request gets a new id.
    let rec2 = traffic.send(&req).await.unwrap();
    assert_eq!(rec2.id, rec.id + 1);
}

#[tokio::test]
async fn a_denial_by_http_status_is_an_http_outcome_without_a_backend() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Serve {
        backend: "app-b".into(),
        status: 403,
    });
    let rec = traffic
        .send(&echo_from_a("http://app-b.t.svc.cluster.local:9091/echo"))
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 403 });
    assert_eq!(rec.served_by, None);
}

#[tokio::test]
async fn transport_errors_are_classified_from_the_sample_apps_log() {
    let (fake, traffic) = mesh_fixture().await;
    let cases = [
        ("EOF", Outcome::Eof),
        (
            "read tcp 10.244.0.5:40312->10.96.12.1:9091: read: connection reset by peer",
            Outcome::Reset,
        ),
        (
            "dial tcp 10.96.12.1:9091: connect: connection refused",
            Outcome::Refused,
        ),
        (
            "dial tcp: lookup app-q on 10.96.0.10:53: no such host",
            Outcome::Other {
                message: "GET \"http://app-b:9091/echo\": dial tcp: lookup app-q on \
                          10.96.0.10:53: no such host"
                    .into(),
            },
        ),
    ];
    for (err, want) in cases {
        let err = err.to_string();
        fake.set_mesh(move |_, _, _| Route::Transport(err.clone()));
        let rec = traffic
            .send(&echo_from_a("http://app-b:9091/echo"))
            .await
            .unwrap();
        assert_eq!(rec.outcome, want);
        assert_eq!(rec.served_by, None);
    }
}

#[tokio::test]
async fn split_traffic_names_the_backend_that_answered() {
    let (fake, traffic) = mesh_fixture().await;
    let n = Arc::new(Mutex::new(0u32));
    fake.set_mesh(move |_, _, _| {
        let mut n = n.lock().unwrap();
        *n += 1;
        Route::Serve {
            backend: if *n % 3 == 0 { "app-b" } else { "app-c" }.into(),
            status: 200,
        }
    });
    let mut served = Vec::new();
    for _ in 0..6 {
        let rec = traffic
            .send(&echo_from_a("http://app-svc.t.svc.cluster.local:9091/echo"))
            .await
            .unwrap();
        served.push(rec.served_by.unwrap());
    }
    assert_eq!(
        served,
        ["app-c", "app-c", "app-b", "app-c", "app-c", "app-b"]
    );
}

#[tokio::test]
async fn a_source_named_by_its_service_uses_that_services_pods() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|caller, _, _| {
        assert_eq!(caller, "app-a");
        Route::Serve {
            backend: "app-b".into(),
            status: 200,
        }
    });
    let rec = traffic
        .send(&TrafficRequest::get("t", "app-a", "http://app-b:9091/echo"))
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 200 });
}

#[tokio::test]
async fn a_missing_or_unready_source_is_a_send_error() {
    let (fake, traffic) = mesh_fixture().await;
    let err = traffic
        .send(&TrafficRequest::get(
            "t",
            "nobody",
            "http://app-b:9091/echo",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Send {
            source_workload: "t/nobody".into(),
            reason: "no Deployment or Service named nobody".into(),
            source: None,
        }
        .to_string()
    );
    let mut pod = fake
        .object("/api/v1/namespaces/t/pods/app-a-7d9-x1")
        .unwrap();
    pod["status"]["conditions"][0]["status"] = json!("False");
    fake.put("/api/v1/namespaces/t/pods/app-a-7d9-x1", pod);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason == "app-a-deployment has no running and ready pod"),
        "{err:?}"
    );
    assert!(fake.requests().iter().all(|r| !r.path.ends_with("/call")));
}

#[tokio::test]
async fn udp_traffic_is_a_send_error_because_the_sample_app_speaks_http_only() {
    let (fake, traffic) = mesh_fixture().await;
    let err = traffic
        .send(&echo_from_a("udp://app-b:9092"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Send {
            source_workload: "t/app-a-deployment".into(),
            reason: "cannot send udp://app-b:9092: the learn-layer5 sample app makes HTTP \
                     requests only"
                .into(),
            source: None,
        }
        .to_string()
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn an_api_server_that_cannot_proxy_is_a_send_error_not_a_denial() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_override(
        "POST",
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call",
        502,
        status_body(
            502,
            "BadGateway",
            "error trying to reach service: read: connection reset by peer",
        ),
        Duration::ZERO,
    );
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    let Error::Send { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        reason,
        "the API server cannot proxy to pod app-a-7d9-x1 port 9091: HTTP 502 BadGateway: error \
         trying to reach service: read: connection reset by peer"
    );
}

#[tokio::test]
async fn a_source_that_does_not_log_its_calls_is_a_send_error() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Unlogged);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason.contains("has no record of request smi-assert-") && reason.contains("learn-layer5")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_request_the_mesh_holds_past_the_timeout_is_a_timeout() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Hang(Duration::from_secs(2), "app-b".into()));
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.timeout = Duration::from_millis(300);
    let rec = traffic.send(&req).await.unwrap();
    assert_eq!(rec.outcome, Outcome::Timeout);
    assert!(rec.latency_us >= 300_000, "{}", rec.latency_us);
    assert_eq!(rec.served_by, None);
}

#[tokio::test]
async fn a_call_the_api_server_never_delivers_is_a_send_error_not_a_timeout() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_override(
        "POST",
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call",
        200,
        json!({}),
        Duration::from_secs(10),
    );
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.timeout = Duration::from_millis(200);
    let err = traffic.send(&req).await.unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason.contains("did not reach the sample app of pod app-a-7d9-x1")),
        "{err:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Against a real cluster (KUBECONFIG with an SMI mesh installed); see the README.

#[tokio::test]
#[ignore = "needs a cluster"]
async fn cluster_objects_round_trip_through_a_real_api_server() {
    let client = super::connect(None).await.unwrap();
    let cluster = KubeCluster::new(client);
    let ns = format!(
        "smi-assert-it-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    let labels = BTreeMap::from([("smi-assert/test".to_string(), "roundtrip".to_string())]);
    cluster
        .create_namespace(&ns, &labels, &BTreeMap::new())
        .await
        .unwrap();
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "service-a", "labels": {"v": "1"}}});
    cluster.apply(&sa, &ns).await.unwrap();
    let mut sa2 = sa.clone();
    sa2["metadata"]["labels"] = json!({"w": "2"});
    let stored = cluster.apply(&sa2, &ns).await.unwrap();
    // Merge patch: both labels.
    assert_eq!(stored["metadata"]["labels"], json!({"v": "1", "w": "2"}));
    let r = ObjectRef::new("v1", "ServiceAccount", Some(ns.clone()), "service-a");
    assert!(cluster.get(&r).await.unwrap().is_some());
    assert!(cluster.delete(&r).await.unwrap());
    assert!(cluster.namespaces().await.unwrap().contains(&ns));
    assert!(cluster.delete_namespace(&ns).await.unwrap());
}

#[tokio::test]
#[ignore = "needs a cluster"]
async fn the_bundled_suite_runs_on_a_real_cluster_without_infrastructure_errors() {
    let client = super::connect(None).await.unwrap();
    let mut builder = crate::runner::Runner::with_backends(
        Arc::new(KubeCluster::new(client.clone())),
        Arc::new(KubeTraffic::new(client)),
    )
    .namespace_prefix("smi-assert-it-")
    // Deployments pull images; every request costs several API calls.
    .timeouts(crate::suite::Timeouts {
        assert: Some(crate::GoDuration::from_std(Duration::from_secs(180)).unwrap()),
        distribution: Some(crate::GoDuration::from_std(Duration::from_secs(600)).unwrap()),
        ..crate::suite::Timeouts::default()
    });
    // Sidecar injection of the mesh under test, e.g. `istio-injection=enabled`.
    for (var, label) in [
        ("SMI_ASSERT_NAMESPACE_LABELS", true),
        ("SMI_ASSERT_NAMESPACE_ANNOTATIONS", false),
    ] {
        let value = std::env::var(var).unwrap_or_default();
        for (k, v) in value.split(',').filter_map(|kv| kv.split_once('=')) {
            builder = if label {
                builder.namespace_label(k, v)
            } else {
                builder.namespace_annotation(k, v)
            };
        }
    }
    let runner = builder.build().unwrap();
    let suite = crate::conformance::suite().unwrap();
    let report = runner.run(&suite).await.unwrap();
    let stats = report.statistics();
    assert_eq!(stats.errors, 0, "{}", report.summary());
}
