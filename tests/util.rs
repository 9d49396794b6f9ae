//! Shared helpers for integration tests: the gwb binary, fixture paths, temp dirs.

#![allow(dead_code)]

use std::path::PathBuf;

pub fn gwb() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("gwb").expect("gwb binary");
    c.env_remove("RUST_LOG");
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}
