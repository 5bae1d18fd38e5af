//! `smps_load`: part of smps-rs (work in progress; see the workspace README).
