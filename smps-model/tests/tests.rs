//! Public-behaviour tests of `smps-model`: the upstream corpus, the dialect cases of
//! smps-formats.md §9, round trips and schema drift.

mod corpus;
mod dialects;
mod roundtrip;
#[cfg(feature = "schema")]
mod schema;

/// Reads a fixture shipped in `tests/fixtures/` (never from outside the crate).
pub(crate) fn fixture(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

/// Asserts two floats agree to 1e-9 relative.
pub(crate) fn close(a: f64, b: f64) {
    let tol = 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!((a - b).abs() <= tol, "{a} != {b}");
}
