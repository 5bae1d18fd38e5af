//! Support code shared by the runnable examples in this folder (see `README.md`): output
//! rendering that more than one example prints. It is not a published library.

pub mod run_support;
pub mod validate_output;
