//! The library half of `cargo xtask`: the parts with rules worth unit testing (the Zendesk package
//! validator, the deterministic zip writer, size and test-count parsing). The binary (`main.rs`)
//! holds the commands that drive external tools.
pub mod appliance_host;
pub mod archive;
pub mod lockfile;
pub mod sizes;
pub mod test_counts;
pub mod validate;
