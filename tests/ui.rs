//! Compile-fail tests: each `tests/ui/<mistake>.rs` must fail with the errors in its `.stderr`.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "UI output is pinned to rustc 1.95; regenerate with TRYBUILD=overwrite"
)]
#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
