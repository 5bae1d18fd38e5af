//! Holder crate for the runnable examples in this folder; see `README.md`.
