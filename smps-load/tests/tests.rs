//! Public-behaviour tests of `smps-load`, on loopback only (one test binary).

mod config;
mod engine;
mod errors;
mod results;

/// Serializes the tests that measure time: run side by side on a 2-core machine, they would
/// measure each other's CPU use instead of the engine.
pub(crate) async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}
