//! Build settings: `cfg(gwb_lab)` when the build is told a Samba lab DC is there
//! (GWB_SAMBA_ENV or GWB_REQUIRE_SAMBA=1, as scripts/test.sh sets them), so the integration
//! tests that need the DC run then and are reported as ignored otherwise.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gwb_lab)");
    println!("cargo::rerun-if-env-changed=GWB_SAMBA_ENV");
    println!("cargo::rerun-if-env-changed=GWB_REQUIRE_SAMBA");
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    if set("GWB_SAMBA_ENV") || std::env::var("GWB_REQUIRE_SAMBA").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=gwb_lab");
    }
}
