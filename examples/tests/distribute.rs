//! `smps distribute` against a fake Kubernetes API server on 127.0.0.1 (no cluster): the
//! ConfigMap and Indexed Job it creates, following the Job, collecting each pod's result from
//! its log, merging, and cleaning up after success, failure and Ctrl-C; `--emit`. The fake
//! plays the Job controller: creating the Job creates its pods, whose logs are results of real
//! parts run in this process against a loopback reference server.
//!
//! The real-cluster test is `#[ignore = "needs a cluster"]`; run it on kind with:
//!
//! ```text
//! kind create cluster --name smps
//! docker build -t smps:dev -f examples/Dockerfile .   # an image whose entrypoint is `smps`
//! kind load docker-image smps:dev --name smps
//! SMPS_IMAGE=smps:dev SMPS_TARGET=http://echo.default.svc:8080/ \
//!   cargo test -p examples --features kube --test distribute -- --ignored
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

mod common;

use common::{text, wait_within};

/// How the fake's Job ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// Every pod succeeds (after one poll that sees them active).
    Success,
    /// The pod of this index fails.
    Fail(usize),
    /// The Job never ends.
    Never,
    /// The pod of this index is missing (as if deleted by hand).
    Missing(usize),
}

struct State {
    requests: Vec<(String, String)>,
    objects: BTreeMap<String, Value>,
    logs: BTreeMap<String, String>,
    parts: Vec<String>,
    ending: Ending,
    job_reads: u32,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

fn status(code: u16, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": if code < 300 {"Success"} else {"Failure"},
           "message": message, "code": code})
}

impl Fake {
    fn start(rt: &tokio::runtime::Runtime, parts: Vec<String>, ending: Ending) -> Fake {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            objects: BTreeMap::new(),
            logs: BTreeMap::new(),
            parts,
            ending,
            job_reads: 0,
        }));
        let st = state.clone();
        rt.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let st = st.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(&st, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        Fake { state, addr }
    }

    fn kubeconfig(&self) -> PathBuf {
        let path = scratch(&format!("kubeconfig-{}", self.addr.port()));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: fake\n\
                 clusters:\n- name: fake\n  cluster:\n    server: http://{}\n\
                 contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: nobody\n\
                 users:\n- name: nobody\n  user: {{}}\n",
                self.addr
            ),
        )
        .unwrap();
        path
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().requests.clone()
    }

    fn job(&self) -> Option<Value> {
        let s = self.state.lock().unwrap();
        s.objects
            .iter()
            .find(|(k, _)| k.contains("/jobs/"))
            .map(|(_, v)| v.clone())
    }
}

fn reply(code: u16, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

async fn handle(state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    s.requests.push((method.clone(), format!("{path}?{query}")));
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["version"]) => reply(
            200,
            json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"}),
        ),
        ("POST", ["api", "v1", "namespaces", ns, "configmaps"]) => {
            let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
            s.objects.insert(
                format!("/api/v1/namespaces/{ns}/configmaps/{name}"),
                body.clone(),
            );
            reply(201, body)
        }
        ("POST", ["apis", "batch", "v1", "namespaces", ns, "jobs"]) => {
            let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
            let n = body["spec"]["completions"].as_u64().unwrap_or(0) as usize;
            for k in 0..n {
                if s.ending == Ending::Missing(k) {
                    continue;
                }
                let pod = format!("{name}-{k}-x7k2p");
                let phase = match s.ending {
                    Ending::Fail(f) if f == k => "Failed",
                    Ending::Never => "Running",
                    _ => "Succeeded",
                };
                let log = match s.ending {
                    Ending::Fail(f) if f == k => {
                        "error: cannot start the test: could not resolve `target:80`\n".to_string()
                    }
                    _ => format!(
                        "warning: dispatch lag p99 is 250 µs\n{}\n",
                        s.parts.get(k).cloned().unwrap_or_default()
                    ),
                };
                s.logs.insert(pod.clone(), log);
                s.objects.insert(
                    format!("/api/v1/namespaces/{ns}/pods/{pod}"),
                    json!({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": pod, "namespace": ns,
                                        "labels": {"job-name": name, "batch.kubernetes.io/job-name": name},
                                        "annotations": {"batch.kubernetes.io/job-completion-index": k.to_string()}},
                           "spec": {"containers": [{"name": "smps", "image": "smps"}]},
                           "status": {"phase": phase}}),
                );
            }
            s.objects.insert(
                format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}"),
                body.clone(),
            );
            reply(201, body)
        }
        ("GET", ["apis", "batch", "v1", "namespaces", _, "jobs", _]) => {
            let Some(job) = s.objects.get(&path).cloned() else {
                return reply(404, status(404, "not found"));
            };
            reply(200, job_now(&mut s, job))
        }
        // A watch of the Job: the next state as one event, then the stream ends.
        ("GET", ["apis", "batch", "v1", "namespaces", _, "jobs"])
            if query.contains("watch=true") =>
        {
            let Some(job) = s
                .objects
                .iter()
                .find(|(k, _)| k.starts_with(&path))
                .map(|(_, v)| v.clone())
            else {
                return reply(200, Value::Null);
            };
            let event = json!({"type": "MODIFIED", "object": job_now(&mut s, job)});
            let mut r = Response::new(Full::new(Bytes::from(format!("{event}\n"))));
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            r
        }
        ("GET", ["api", "v1", "namespaces", ns, "pods"]) => {
            let selector = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("labelSelector="))
                .unwrap_or("")
                .replace("%3D", "=");
            let (key, value) = selector.split_once('=').unwrap_or(("", ""));
            let prefix = format!("/api/v1/namespaces/{ns}/pods/");
            let items: Vec<Value> = s
                .objects
                .iter()
                .filter(|(k, v)| k.starts_with(&prefix) && v["metadata"]["labels"][key] == value)
                .map(|(_, v)| v.clone())
                .collect();
            reply(
                200,
                json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}),
            )
        }
        ("GET", ["api", "v1", "namespaces", _, "pods", pod, "log"]) => match s.logs.get(*pod) {
            Some(log) => {
                let mut r = Response::new(Full::new(Bytes::from(log.clone())));
                r.headers_mut()
                    .insert("content-type", "text/plain".parse().unwrap());
                r
            }
            None => reply(404, status(404, "no such pod")),
        },
        ("DELETE", _) => match s.objects.remove(&path) {
            Some(_) => reply(200, status(200, "deleted")),
            None => reply(404, status(404, "not found")),
        },
        _ => reply(
            404,
            status(404, &format!("the fake does not serve {method} {path}")),
        ),
    }
}

/// The Job as the controller has it at this read (or watch event): its pods active at the
/// first look, then the ending.
fn job_now(s: &mut State, mut job: Value) -> Value {
    s.job_reads += 1;
    let n = job["spec"]["completions"].as_u64().unwrap_or(0);
    job["metadata"]["resourceVersion"] = json!(s.job_reads.to_string());
    job["status"] = match (s.ending, s.job_reads) {
        (_, 1) | (Ending::Never, _) => json!({"active": n}),
        (Ending::Fail(_), _) => json!({"failed": 1, "succeeded": n - 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                            "message": "Job has reached the specified backoff limit"}]}),
        _ => json!({"succeeded": n}),
    };
    job
}

fn smps() -> Command {
    let mut cmd = common::smps_piped();
    let home = scratch("home");
    std::fs::create_dir_all(&home).unwrap();
    cmd.env("HOME", home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT");
    cmd
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("distribute", name)
}

const CONFIG: &str = "name: Mesh Baseline\nclients:\n- protocol: http\n  connections: 3\n  rps: 30\n  endpoint_urls: [http://echo.loadtest.svc:8080/]\nduration: 1s\n";

/// A config file of its own for each caller: the tests run in parallel, and a file they shared
/// could be read half-written by one while another writes it.
fn config() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = scratch(&format!("config-{n}.yaml"));
    std::fs::write(&path, CONFIG).unwrap();
    path
}

/// The portable results (one JSON line each) of the `n` parts of a 30-request run, run here.
fn real_parts(rt: &tokio::runtime::Runtime, n: u64) -> Vec<String> {
    rt.block_on(async {
        let server = smps_load::reference::ReferenceServer::builder()
            .start()
            .await
            .unwrap();
        let mut out = Vec::new();
        for k in 0..n {
            let r = smps_load::Engine::builder()
                .url(server.url("/"))
                .connections(3)
                .max_requests(30)
                .segment(smps_load::ExecutionPart::nth(k, n).unwrap())
                .build()
                .unwrap()
                .run()
                .await
                .unwrap();
            out.push(serde_json::to_string(&r.to_portable().unwrap()).unwrap());
        }
        server.shutdown().await;
        out
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn distribute(fake: &Fake, extra: &[&str]) -> Child {
    smps()
        .arg("distribute")
        .arg(config())
        .args([
            "--parallelism",
            "3",
            "--image",
            "smps:test",
            "--namespace",
            "loadtest",
        ])
        .args([
            "--poll",
            "100ms",
            "--start-delay",
            "1s",
            "--name",
            "smps-baseline",
        ])
        .args(extra)
        .env("KUBECONFIG", fake.kubeconfig())
        .spawn()
        .unwrap()
}

/// `smps distribute <config> <args>` that needs no cluster (`--emit`, or a refusal), within 30 s.
fn distribute_offline(config: &Path, args: &[&str]) -> Output {
    wait_within(
        smps()
            .arg("distribute")
            .arg(config)
            .args(args)
            .spawn()
            .unwrap(),
        30,
    )
}

fn deleted(fake: &Fake) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, p)| p.split('?').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_distributed_run_creates_an_indexed_job_merges_its_parts_and_cleans_up() {
    let rt = runtime();
    let fake = Fake::start(&rt, real_parts(&rt, 3), Ending::Success);
    let o = wait_within(distribute(&fake, &["--separate"]), 60);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{err}");
    // The merged result: every request of the three parts, every segment once.
    let result: smps_model::PerformanceTestResult =
        smps_model::read_as(&out, &Default::default()).unwrap();
    assert_eq!(result.labels["smps.io/requests"], "30", "{out}");
    assert_eq!(result.labels["smps-load/segment"], "0:1/3,1/3:2/3,2/3:1");
    assert!(err.contains("3 of 3 succeeded"), "{err}");
    // The Job: Indexed, three pods, the part from JOB_COMPLETION_INDEX, one per node, no
    // sidecar injection.
    let job = fake.job();
    assert!(job.is_none(), "the job was deleted");
    let reqs = fake.requests();
    let created: Vec<&String> = reqs
        .iter()
        .filter(|(m, _)| m == "POST")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(created.len(), 2, "{reqs:?}");
    assert!(created[0].starts_with("/api/v1/namespaces/loadtest/configmaps"));
    assert!(created[1].starts_with("/apis/batch/v1/namespaces/loadtest/jobs"));
    // Read once, then watched (from the version read) until it succeeded.
    let watches: Vec<&String> = reqs
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.contains("watch=true"))
        .collect();
    assert_eq!(watches.len(), 1, "{reqs:?}");
    assert!(
        watches[0].contains("resourceVersion=1")
            && watches[0].contains("fieldSelector=metadata.name%3Dsmps-baseline"),
        "{watches:?}"
    );
    let logs: Vec<&String> = reqs
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.contains("/log?"))
        .collect();
    assert_eq!(logs.len(), 3);
    assert!(
        logs.iter()
            .all(|p| p.contains("container=smps") && p.contains("limitBytes=")),
        "{logs:?}"
    );
    assert_eq!(
        deleted(&fake),
        [
            "/apis/batch/v1/namespaces/loadtest/jobs/smps-baseline",
            "/api/v1/namespaces/loadtest/configmaps/smps-baseline"
        ]
    );
}

#[test]
fn the_emitted_manifests_are_an_indexed_job_and_its_configmap() {
    let o = distribute_offline(
        &config(),
        &[
            "--parallelism",
            "3",
            "--image",
            "ghcr.io/example/smps:1",
            "--emit",
            "--separate",
        ],
    );
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.contains("# Merge:   smps merge part-*.json"), "{out}");
    let docs: Vec<Value> = out
        .split("\n---\n")
        .skip(1)
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    let (cm, job) = (&docs[0], &docs[1]);
    assert_eq!(cm["kind"], "ConfigMap");
    assert!(
        cm["data"]["config.yaml"]
            .as_str()
            .unwrap()
            .contains("echo.loadtest.svc")
    );
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["apiVersion"], "batch/v1");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 3);
    assert_eq!(spec["parallelism"], 3);
    assert_eq!(spec["backoffLimit"], 0);
    assert!(spec["activeDeadlineSeconds"].as_i64().unwrap() >= 60 + 1 + 10);
    let pod = &spec["template"];
    assert_eq!(
        pod["metadata"]["annotations"]["sidecar.istio.io/inject"],
        "false"
    );
    assert_eq!(
        pod["metadata"]["annotations"]["linkerd.io/inject"],
        "disabled"
    );
    let c = &pod["spec"]["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let at = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!(at("--segment"), "$(JOB_COMPLETION_INDEX)/3");
    assert_eq!(at("--portable"), "-");
    assert!(smps_model::Timestamp::parse(at("--start-at")).is_ok());
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    let anti = &pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(anti["topologyKey"], "kubernetes.io/hostname");

    // Native sidecars instead.
    let o = distribute_offline(
        &config(),
        &[
            "--parallelism",
            "2",
            "--image",
            "i",
            "--emit",
            "--sidecars",
            "native",
        ],
    );
    let out = text(&o.stdout);
    assert!(
        out.contains("sidecar.istio.io/nativeSidecar: 'true'"),
        "{out}"
    );
    assert!(
        out.contains("config.beta.linkerd.io/proxy-enable-native-sidecar: 'true'"),
        "{out}"
    );
    assert!(!out.contains("inject"), "{out}");
}

#[test]
fn a_failed_part_fails_the_run_with_its_log_and_everything_is_deleted() {
    let rt = runtime();
    let fake = Fake::start(&rt, real_parts(&rt, 3), Ending::Fail(1));
    let o = wait_within(distribute(&fake, &[]), 60);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("job smps-baseline failed: BackoffLimitExceeded"),
        "{err}"
    );
    assert!(
        err.contains("part 1 (smps-baseline-1-x7k2p): error: cannot start the test"),
        "{err}"
    );
    assert_eq!(deleted(&fake).len(), 2);
}

#[test]
fn a_missing_part_or_a_log_without_a_result_is_refused_naming_it() {
    let rt = runtime();
    let fake = Fake::start(&rt, real_parts(&rt, 3), Ending::Missing(2));
    let o = wait_within(distribute(&fake, &[]), 60);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("segment 2/3:1 is missing"), "{err}");
    assert_eq!(deleted(&fake).len(), 2);

    let mut parts = real_parts(&rt, 3);
    parts[0] = "Segmentation fault".into();
    let fake = Fake::start(&rt, parts, Ending::Success);
    let o = wait_within(distribute(&fake, &[]), 60);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pod smps-baseline-0-x7k2p (part 0) printed no result"),
        "{err}"
    );
    assert!(err.contains("Segmentation fault"), "{err}");
    assert_eq!(deleted(&fake).len(), 2);
}

#[test]
fn ctrl_c_deletes_the_job_and_exits_130() {
    let rt = runtime();
    let fake = Fake::start(&rt, Vec::new(), Ending::Never);
    let child = distribute(&fake, &[]);
    // Wait until the Job exists, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.job().is_none() {
        assert!(Instant::now() < deadline, "the job was never created");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let o = wait_within(child, 30);
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    assert_eq!(deleted(&fake).len(), 2, "{:?}", fake.requests());
    assert!(fake.job().is_none());
}

#[test]
fn configs_the_pods_cannot_run_are_refused_before_anything_is_created() {
    for (config, says) in [
        (
            "name: x\nclients:\n- protocol: http\n  connections: 2\n  rps: 10\n  endpoint_urls: [http://echo/]\nduration: 1s\n",
            "part 2/3: invalid setting `segment`: segment 2/3:1 gets none of the 2 connections",
        ),
        (
            "name: x\nclients:\n- protocol: http\n  connections: 3\n  rps: 10\n  endpoint_urls: [http://reference-server/]\nduration: 1s\n",
            "which the pods cannot reach",
        ),
    ] {
        let path = scratch("bad-config.yaml");
        std::fs::write(&path, config).unwrap();
        let o = distribute_offline(&path, &["--parallelism", "3", "--image", "i", "--emit"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o.stderr).contains(says), "{}", text(&o.stderr));
    }
}

/// The same on a real cluster (see the module docs for kind). `SMPS_TARGET` must answer HTTP
/// inside the cluster; `SMPS_IMAGE` must run `smps`.
#[test]
#[ignore = "needs a cluster"]
fn a_distributed_run_on_a_real_cluster() {
    let image = std::env::var("SMPS_IMAGE").expect("SMPS_IMAGE");
    let target = std::env::var("SMPS_TARGET").expect("SMPS_TARGET");
    let path = scratch("cluster.yaml");
    std::fs::write(
        &path,
        format!("name: cluster\nclients:\n- protocol: http\n  connections: 4\n  rps: 200\n  endpoint_urls: [{target}]\nduration: 10s\n"),
    )
    .unwrap();
    let o = smps()
        .arg("distribute")
        .arg(&path)
        .args([
            "--parallelism",
            "4",
            "--image",
            &image,
            "--start-delay",
            "30s",
        ])
        .env_remove("HOME")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let result: smps_model::PerformanceTestResult =
        smps_model::read_as(&text(&o.stdout), &Default::default()).unwrap();
    assert_eq!(result.labels["smps.io/requests"], "2000");
}
