//! Build script: gives `libsyscollector.so` its SONAME (the name the Wazuh agent's C++ module
//! has and the agent loads), so the linker records it in whatever links the library.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsyscollector.so");
    println!("cargo:rerun-if-changed=build.rs");
}
