//! Sets up linking of the Node addon (napi's build script).

fn main() {
    napi_build::setup();
}
