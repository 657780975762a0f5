//! Compile-time boundaries: for each module, code in another crate that reaches for its pool, its
//! repository or its rows does not compile. The expected compiler errors are committed beside
//! each case (`compile-fail/*.stderr`); regenerate them with `TRYBUILD=overwrite` after a
//! toolchain upgrade changes the wording.

#[test]
fn another_crate_cannot_reach_any_module_storage() {
    trybuild::TestCases::new().compile_fail("compile-fail/*.rs");
}
