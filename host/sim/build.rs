//! Compiles the simulator's own protobuf schema (`proto/tws.proto`) with prost-build.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/tws.proto");
    prost_build::compile_protos(&["proto/tws.proto"], &["proto"])?;
    Ok(())
}
