//! Regression tests, one module per issue (STYLE.md §9).

mod issue_12;
mod issue_13;
