//! Registers the API's schema (`schema/caseledger.graphql`, exported from the code and kept in
//! step by a test) with cynic: every page's operation is checked against it at compile time.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sdl = "../../schema/caseledger.graphql";
    println!("cargo:rerun-if-changed={sdl}");
    cynic_codegen::register_schema("caseledger")
        .from_sdl_file(sdl)?
        .as_default()?;
    Ok(())
}
