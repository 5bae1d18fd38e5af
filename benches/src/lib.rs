//! Holder crate for the criterion benchmarks in this folder; see `README.md`.
