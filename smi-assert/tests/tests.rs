//! Public-behaviour tests of `smi-assert`, one binary with modules.

#[test]
fn bundled_conformance_suite_parses() {
    let suite = smi_assert::conformance::suite().expect("bundled suite parses");
    assert_eq!(suite.tests.len(), 14);
}
