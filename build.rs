//! Build metadata for `gwb --version`: the commit the binary was built from (from git, or
//! GWB_BUILD_COMMIT for builds from a source archive; "unknown" without either) and the
//! enabled cargo features. And `cfg(gwb_lab)` when the build is told a Samba lab DC is there
//! (GWB_SAMBA_ENV or GWB_REQUIRE_SAMBA=1, as scripts/test.sh sets them; for a Windows target
//! also GWB_WINDOWS_LAB=1), so the integration tests that need the DC run then and are reported
//! as ignored otherwise.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// `cfg(gwb_lab)`: see the module comment.
fn lab_cfg() {
    println!("cargo::rustc-check-cfg=cfg(gwb_lab)");
    for k in ["GWB_SAMBA_ENV", "GWB_REQUIRE_SAMBA", "GWB_WINDOWS_LAB"] {
        println!("cargo::rerun-if-env-changed={k}");
    }
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    let told = set("GWB_SAMBA_ENV") || std::env::var("GWB_REQUIRE_SAMBA").is_ok_and(|v| v == "1");
    // Under Wine the lab tests (which seed the DC with Linux's ldap-utils) run only when asked:
    // scripts/windows/smoke.sh writes to the DC from gwb.exe instead.
    let windows = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "windows");
    if told && (!windows || std::env::var("GWB_WINDOWS_LAB").is_ok_and(|v| v == "1")) {
        println!("cargo::rustc-cfg=gwb_lab");
    }
}

fn main() {
    lab_cfg();
    println!("cargo:rerun-if-env-changed=GWB_BUILD_COMMIT");
    let commit = match std::env::var("GWB_BUILD_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs.
            for p in ["HEAD", "packed-refs"] {
                if let Some(path) = git(&["rev-parse", "--git-path", p]) {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
                && let Some(path) = git(&["rev-parse", "--git-path", &r])
            {
                println!("cargo:rerun-if-changed={path}");
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(|f| f.to_lowercase()))
        .filter(|f| f != "default")
        .map(|f| f.replace('_', "-"))
        .collect();
    features.sort();
    let features = if features.is_empty() {
        "none".to_string()
    } else {
        features.join(",")
    };
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=GWB_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=GWB_BUILD_FEATURES={features}");
    println!("cargo:rustc-env=GWB_BUILD_TARGET={target}");
}
