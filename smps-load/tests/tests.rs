//! Public-behaviour tests of `smps-load`, on loopback only (one test binary).

mod config;
mod deadline;
mod distributed;
mod engine;
mod errors;
mod faults;
#[cfg(feature = "http2")]
mod h2_wire;
mod pacing;
mod protocols;
mod results;
mod search;

/// Serializes the tests that measure time: run side by side on a 2-core machine, they would
/// measure each other's CPU use instead of the engine.
pub(crate) async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// The `PerformanceTestConfig` of an SMP YAML document.
pub(crate) fn config(yaml: &str) -> smps_model::PerformanceTestConfig {
    let doc = smps_model::read(yaml, &smps_model::ReadOptions::default()).unwrap();
    doc.as_test_config().unwrap().config.clone()
}

/// Runs the engine and checks it ended within `bound`; a run that overruns fails the test at
/// the bound instead of hanging it.
pub(crate) async fn run_within(
    builder: smps_load::EngineBuilder,
    bound: std::time::Duration,
) -> smps_load::Report {
    let engine = builder.build().expect("valid settings");
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(bound, engine.run())
        .await
        .unwrap_or_else(|_| panic!("the run did not end within {bound:?}"))
        .expect("the run ends with a report");
    let took = started.elapsed();
    assert!(took <= bound, "took {took:?}, bound {bound:?}");
    report
}

/// Runs an engine built from valid settings to its end.
pub(crate) trait RunToEnd {
    /// `self.build().unwrap().run().await.unwrap()`.
    async fn run_to_end(self) -> smps_load::Report;
}

impl RunToEnd for smps_load::EngineBuilder {
    async fn run_to_end(self) -> smps_load::Report {
        self.build().unwrap().run().await.unwrap()
    }
}

/// A reference server on 127.0.0.1 that answers every request after a fixed delay.
pub(crate) async fn server_with_delay(
    delay: std::time::Duration,
) -> smps_load::reference::ReferenceServer {
    smps_load::reference::ReferenceServer::builder()
        .delay(smps_load::reference::Delay::Fixed(delay))
        .start()
        .await
        .expect("start the reference server")
}

/// A loopback URL with nothing listening behind it (a port that was bound, then released).
pub(crate) async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

/// A server on 127.0.0.1 that misbehaves on purpose; it stops when dropped.
pub(crate) struct BadServer {
    pub(crate) addr: std::net::SocketAddr,
    /// `http://<addr>/`.
    pub(crate) url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BadServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BadServer {
    /// Accepts connections, reads what comes, and never answers.
    pub(crate) async fn silent() -> BadServer {
        Self::start(|mut s| async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await
    }

    /// Reads the request, then aborts the connection with an RST.
    pub(crate) async fn resetting() -> BadServer {
        Self::start(|mut s| async move {
            let mut buf = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
            #[allow(deprecated)]
            let _ = s.set_linger(Some(std::time::Duration::ZERO));
            drop(s);
        })
        .await
    }

    /// Serves each connection it accepts with `serve`, in a task of its own.
    pub(crate) async fn start<F, Fut>(serve: F) -> BadServer
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}/");
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s));
            }
        });
        BadServer { addr, url, task }
    }
}
