//! `smps_validate`: part of smps-rs (work in progress; see the workspace README).
