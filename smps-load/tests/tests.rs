//! Public-behaviour tests of `smps-load`, on loopback only (one test binary).

mod config;
mod deadline;
mod engine;
mod errors;
mod pacing;
mod results;

/// Serializes the tests that measure time: run side by side on a 2-core machine, they would
/// measure each other's CPU use instead of the engine.
pub(crate) async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
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
