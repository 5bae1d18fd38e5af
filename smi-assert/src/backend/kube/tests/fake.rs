//! The fake API server: discovery, CRUD, the pod proxy and log endpoints for the few
//! resources used, learn-layer5 sample apps behind the proxy, and a record of every request.

use super::*;

/// `(group/version, kind, plural, namespaced)` of the resources the fake serves.
pub(super) const RESOURCES: &[(&str, &str, &str, bool)] = &[
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
pub(super) struct Recorded {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: BTreeMap<String, String>,
    pub(super) content_type: Option<String>,
    /// The `Authorization` header, to check what credential the client sent.
    pub(super) authorization: Option<String>,
    pub(super) body: Value,
}

/// What the mesh does with one request a sample app makes.
#[derive(Debug, Clone)]
pub(super) enum Route {
    /// The app whose `SERVICE_NAME` is `backend` answers with `status`.
    Serve { backend: String, status: u16 },
    /// The request fails with this Go transport error.
    Transport(String),
    /// No answer for this long, then `Serve`.
    Hang(Duration, String),
    /// The app answers but writes no log (not the learn-layer5 app).
    Unlogged,
}

pub(super) type Mesh = dyn Fn(&str, &str, &str) -> Route + Send + Sync; // (caller, url, method)

#[derive(Default)]
pub(super) struct State {
    pub(super) requests: Vec<Recorded>,
    pub(super) objects: BTreeMap<String, Value>,
    /// `(method, path)` → answer `(status, body, delay)`.
    pub(super) overrides: BTreeMap<(String, String), (u16, Value, Duration)>,
    pub(super) received: BTreeMap<String, Vec<String>>,
    pub(super) logs: BTreeMap<String, Vec<String>>,
    /// What `exec` in a pod prints: `(pod, command)` → `(stdout, stderr)`; a non-empty stderr
    /// ends the command with exit code 1. Unset: [`echo_client`].
    pub(super) exec: Option<Arc<ExecFn>>,
}

/// A simulated command: `(pod, command)` → `(stdout, stderr)`.
pub(super) type ExecFn = dyn Fn(&str, &[String]) -> (String, String) + Send + Sync;

/// A stand-in for the echo image's `client URL [--method=M] [-H k:v]...`: the pod `echo-v1-*`
/// of the URL's host answers 200 and reports the method, path and headers it saw.
pub(super) fn echo_client(_pod: &str, command: &[String]) -> (String, String) {
    if command.first().map(String::as_str) != Some("client") || command.len() < 2 {
        return (String::new(), "unknown command".into());
    }
    let url = &command[1];
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let svc = host.split(['.', ':']).next().unwrap_or("");
    let mut out = format!(
        "[0] Url={url}\n[0 body] StatusCode=200\n[0 body] Hostname={svc}-5d8f9c7b4-x2x7q\n\
         [0 body] URL={path}\n"
    );
    let mut i = 2;
    while i < command.len() {
        if let Some(m) = command[i].strip_prefix("--method=") {
            out.push_str(&format!("[0 body] Method={m}\n"));
        } else if command[i] == "-H" && i + 1 < command.len() {
            i += 1;
            out.push_str(&format!("[0 body] RequestHeader={}\n", command[i]));
        }
        i += 1;
    }
    out.push_str("[0] ResponseHeader=X-Echo:yes\n");
    (out, String::new())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST .../pods/{name}/exec`: a WebSocket (`v4.channel.k8s.io`) that sends the simulated
/// command's stdout (channel 1), stderr (2) and status (3), then closes.
async fn exec(st: &Arc<Mutex<State>>, mut req: Request<Incoming>) -> Response<Full<Bytes>> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::Role;

    let path = req.uri().path().to_string();
    let params: Vec<(String, String)> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let command: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let query: BTreeMap<String, String> = params
        .iter()
        .filter(|(k, _)| k != "command")
        .cloned()
        .collect();
    let pod = path
        .trim_end_matches("/exec")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let run = {
        let mut s = st.lock().unwrap();
        s.requests.push(Recorded {
            method: req.method().to_string(),
            path: path.clone(),
            query,
            content_type: None,
            authorization: req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            body: json!({"command": command}),
        });
        s.exec.clone()
    };
    let (stdout, stderr) = match run {
        Some(f) => f(&pod, &command),
        None => echo_client(&pod, &command),
    };
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return respond(
            400,
            &status_body(400, "BadRequest", "exec needs a WebSocket upgrade"),
        );
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        let frame = |channel: u8, data: &[u8]| {
            let mut v = vec![channel];
            v.extend_from_slice(data);
            Message::Binary(v.into())
        };
        let status = if stderr.is_empty() {
            json!({"metadata": {}, "status": "Success"})
        } else {
            json!({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                   "message": "command terminated with non-zero exit code: exit status 1",
                   "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}})
        };
        let _ = ws.send(frame(1, stdout.as_bytes())).await;
        if !stderr.is_empty() {
            let _ = ws.send(frame(2, stderr.as_bytes())).await;
        }
        let _ = ws.send(frame(3, status.to_string().as_bytes())).await;
        let _ = ws.close(None).await;
    });
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert("upgrade", http::HeaderValue::from_static("websocket"));
    h.insert("connection", http::HeaderValue::from_static("Upgrade"));
    h.insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("v4.channel.k8s.io"),
    );
    if let Ok(v) = http::HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    r
}

#[derive(Clone)]
pub(super) struct Fake {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) mesh: Arc<Mutex<Arc<Mesh>>>,
    pub(super) addr: SocketAddr,
    pub(super) _task: Arc<AbortOnDrop>,
}

pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

pub(super) fn logrus(level: &str, msg: &str) -> String {
    let quoted = serde_json::to_string(msg).unwrap_or_default();
    format!(r#"time="2024-05-01T10:00:00Z" level={level} msg={quoted}"#)
}

pub(super) fn labels_match(obj: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        obj["metadata"]["labels"][k].as_str() == Some(v)
    })
}

impl Fake {
    pub(super) async fn start() -> Self {
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
                        .with_upgrades()
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

    pub(super) fn client(&self) -> Client {
        let config = Config::new(format!("http://{}", self.addr).parse().unwrap());
        Client::try_from(config).unwrap()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub(super) fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub(super) fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    pub(super) fn set_override(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Value,
        delay: Duration,
    ) {
        self.lock()
            .overrides
            .insert((method.into(), path.into()), (status, body, delay));
    }

    pub(super) fn set_mesh(
        &self,
        mesh: impl Fn(&str, &str, &str) -> Route + Send + Sync + 'static,
    ) {
        *self.mesh.lock().unwrap() = Arc::new(mesh);
    }

    pub(super) fn put(&self, path: &str, obj: Value) {
        self.lock().objects.insert(path.into(), obj);
    }

    pub(super) fn object(&self, path: &str) -> Option<Value> {
        self.lock().objects.get(path).cloned()
    }

    /// A running, ready sample-app pod with labels, `SERVICE_NAME` and port 9091.
    pub(super) fn app_pod(&self, ns: &str, name: &str, service: &str, labels: Value) {
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

    pub(super) fn deployment(&self, ns: &str, name: &str, labels: Value) {
        self.put(
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}}),
        );
    }

    pub(super) fn service(&self, ns: &str, name: &str, selector: Value) {
        self.put(
            &format!("/api/v1/namespaces/{ns}/services/{name}"),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": selector, "ports": [{"port": 9091}]}}),
        );
    }
}

pub(super) fn respond(status: u16, body: &Value) -> Response<Full<Bytes>> {
    text(status, "application/json", body.to_string())
}

pub(super) fn text(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut()
        .insert("content-type", content_type.parse().unwrap());
    r
}

pub(super) fn discovery(gv: &str) -> Option<Value> {
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

pub(super) async fn handle(
    st: &Arc<Mutex<State>>,
    mesh: &Arc<Mutex<Arc<Mesh>>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if req.uri().path().ends_with("/exec") {
        return exec(st, req).await;
    }
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
    let authorization = req
        .headers()
        .get("authorization")
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
            authorization,
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
pub(super) fn crud(
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
pub(super) async fn sample_app(
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
