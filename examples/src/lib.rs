//! Support code shared by the runnable examples in this folder (see `README.md`): output
//! rendering that more than one example prints, and bounded input reading. It is not a
//! published library.

pub mod input;
pub mod run_support;
pub mod validate_output;
