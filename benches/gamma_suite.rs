//! Wall time of the bundled Gateway API mesh conformance (GAMMA) suite against the loopback mesh,
//! per profile and whole, with the timeouts `smps conformance --suite gamma` uses (traffic
//! convergence 2 s, asserts 5 s). Issue 14 asks for the whole suite in under 15 s.
//!
//! Run with `cargo bench -p benches --bench gamma_suite` on an idle machine (each iteration runs
//! the whole suite: a few seconds; criterion takes 10 samples).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use smi_assert::GoDuration;
use smi_assert::backend::loopback::{AccessDefault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::report::Status;
use smi_assert::runner::Runner;
use smi_assert::suite::Timeouts;

fn run(runtime: &tokio::runtime::Runtime, profiles: &[Profile]) {
    runtime.block_on(async {
        let config = LoopbackConfig::builder()
            .seed(1)
            .access_default(AccessDefault::Allow)
            .build();
        let mesh = Arc::new(LoopbackMesh::start(config).await.expect("mesh starts"));
        let mut timeouts = Timeouts::default();
        timeouts.traffic = Some(GoDuration::from_nanos(2_000_000_000));
        timeouts.assert = Some(GoDuration::from_nanos(5_000_000_000));
        let suite = smi_assert::gamma_suite::suite().expect("bundled suite parses");
        let runner = Runner::builder(mesh.clone())
            .implementation(
                Implementation::new("bench", "loopback", "0")
                    .supports_all_extended(&Profile::GAMMA),
            )
            .timeouts(timeouts)
            .profiles(profiles.iter().copied())
            .build()
            .expect("runner builds");
        let report = runner.run(&suite).await.expect("suite runs");
        mesh.shutdown();
        assert!(
            report.tests.iter().all(|t| t.status == Status::Passed),
            "every test passes on the loopback mesh"
        );
    });
}

fn gamma_suite(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("gamma_suite");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.bench_function("loopback/all", |b| {
        b.iter(|| run(&runtime, &Profile::GAMMA));
    });
    g.bench_function("loopback/MESH-HTTP", |b| {
        b.iter(|| run(&runtime, &[Profile::MeshHttp]));
    });
    g.bench_function("loopback/MESH-GRPC", |b| {
        b.iter(|| run(&runtime, &[Profile::MeshGrpc]));
    });
    g.finish();
}

criterion_group!(benches, gamma_suite);
criterion_main!(benches);
