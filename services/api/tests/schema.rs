//! The checked-in SDL is the code's schema, and it holds every name of the contract.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

#[test]
fn the_checked_in_sdl_is_the_schema_of_the_code() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/caseledger.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap();
    assert!(
        checked_in == caseledger_api::graphql::sdl(),
        "schema/caseledger.graphql has drifted from the code: run `cargo run -p caseledger -- schema > schema/caseledger.graphql`"
    );
}

#[test]
fn the_sdl_names_the_contracts_roots_and_subscription() {
    let sdl = caseledger_api::graphql::sdl();
    for needle in [
        "type Query {",
        "type Mutation {",
        "type Subscription {",
        "caseEvents(caseId: ID): CaseEvent!",
        "scalar Date",
    ] {
        assert!(sdl.contains(needle), "missing {needle}");
    }
}
