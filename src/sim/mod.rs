//! gwb's Graph simulator: serves a bundle or a generated tenant over HTTP on loopback with
//! Graph's documented semantics, for tests, benchmarks and trying gwb without a tenant.

pub mod args;

pub fn run(_args: &args::SimArgs) -> anyhow::Result<()> {
    anyhow::bail!("the Graph simulator is not available in this build yet")
}
