//! `conformance`: a suite of your own with a custom check, run against smi-assert's loopback mesh.
//!
//! ```text
//! cargo run -p examples --example conformance
//! ```
//!
//! The suite reuses two fixtures of the bundled SMI suite (the learn-layer5 sample apps and a
//! TrafficTarget that lets `app-a` call `app-b`), checks with a built-in `traffic` operation
//! that the call is allowed, then runs a **custom check**, `latency-budget`: it sends requests
//! through the traffic backend from inside `app-a` and fails if their p99 latency is over a
//! budget. The check is an ordinary type implementing [`smi_assert::CustomCheck`], registered on
//! the runner under the name the suite's `custom` operation uses; its arguments come from the
//! suite. The program prints the report's summary and exits 1 if a test failed.
//!
//! The whole-suite command line (bundled suite, faults, a cluster, your YAML or kuttl suite) is
//! `smps conformance`; see `smps/conformance.rs`.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use smi_assert::suite::{Expect, TrafficOp};
use smi_assert::{
    CheckContext, CheckOutcome, CustomCheck, Implementation, LoopbackConfig, LoopbackMesh,
    Operation, Runner, Status, Suite, Test, TrafficRequest,
};

/// Fails when the p99 latency of `requests` calls from `from` to `to` is over `budgetMs`.
#[derive(Debug)]
struct LatencyBudget;

#[async_trait]
impl CustomCheck for LatencyBudget {
    async fn check(&self, ctx: &CheckContext<'_>, args: &Value) -> CheckOutcome {
        let (Some(from), Some(to)) = (args["from"].as_str(), args["to"].as_str()) else {
            return CheckOutcome::error("latency-budget needs `from` and `to`");
        };
        let requests = args["requests"].as_u64().unwrap_or(50);
        let budget_ms = args["budgetMs"].as_u64().unwrap_or(100);
        let request = TrafficRequest::get(ctx.namespace(), from, to);
        let mut latencies_us = Vec::new();
        for _ in 0..requests {
            match ctx.traffic().send(&request).await {
                Ok(record) if record.outcome.is_served() => latencies_us.push(record.latency_us),
                Ok(record) => {
                    return CheckOutcome::failed(
                        format!("{to} was not served: {}", record.outcome),
                        json!({ "outcome": record.outcome }),
                    );
                }
                Err(e) => return CheckOutcome::error(format!("cannot send: {e}")),
            }
        }
        latencies_us.sort_unstable();
        let p99_us = latencies_us[(latencies_us.len() * 99 / 100).min(latencies_us.len() - 1)];
        let evidence = json!({ "requests": requests, "p99Us": p99_us, "budgetMs": budget_ms });
        if p99_us <= budget_ms * 1000 {
            CheckOutcome::passed(format!("p99 {p99_us} µs within {budget_ms} ms"), evidence)
        } else {
            CheckOutcome::failed(format!("p99 {p99_us} µs over {budget_ms} ms"), evidence)
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Two fixtures of the bundled suite: the sample apps, and a TrafficTarget a → b.
    let bundled = smi_assert::conformance::suite()?;
    let suite = Suite::builder("my-mesh-checks")
        .fixture("apps", bundled.fixtures["access-app"].clone())
        .fixture("a-to-b", bundled.fixtures["tcp-target-a-to-b"].clone())
        .test(
            Test::builder("a-to-b-is-allowed-and-fast")
                .feature("access.tcp-route")
                .precondition(
                    "install",
                    vec![
                        Operation::apply_fixture("apps"),
                        Operation::apply_fixture("a-to-b"),
                    ],
                )
                .step(
                    "allowed",
                    vec![Operation::Traffic(TrafficOp::new(
                        "app-a",
                        "http://app-b:9091/echo",
                        Expect::Allowed,
                    ))],
                )
                .step(
                    "fast",
                    vec![Operation::custom(
                        "latency-budget",
                        json!({"from": "app-a", "to": "http://app-b:9091/echo",
                               "requests": 50, "budgetMs": 250}),
                    )],
                )
                .build(),
        )
        .build()?;

    let mesh = Arc::new(LoopbackMesh::start(LoopbackConfig::default()).await?);
    let report = Runner::builder(mesh.clone())
        .implementation(Implementation::new(
            "smps-rs",
            "smi-assert loopback mesh",
            env!("CARGO_PKG_VERSION"),
        ))
        .custom("latency-budget", Arc::new(LatencyBudget))
        .build()?
        .run(&suite)
        .await?;
    mesh.shutdown();

    print!("{}", report.summary());
    // Every operation's verdict is in the report, the custom check's too.
    for step in report.tests.iter().flat_map(|t| &t.steps) {
        for op in &step.operations {
            println!(
                "{} / {}: {} ({})",
                step.name,
                op.kind,
                op.status.as_str(),
                op.message
            );
        }
    }
    if report.tests.iter().any(|t| t.status != Status::Passed) {
        std::process::exit(1);
    }
    Ok(())
}
