//! The configuration file (`gwb.toml`): its template (`gwb init`), strict parsing with errors
//! that name the file, line and key, secrets by reference only, and the merge rule: flags and
//! environment variables override the file, the file overrides built-in defaults. Per-group
//! overrides (exclude, CN, protected) and the sAMAccountName template are handed to the core as
//! [`crate::core::overrides::Overrides`].

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::core::overrides::Overrides;
use crate::core::{CnFormat, DeletionBehavior, FeatureState, MemberLimitBehavior};
use crate::error::InputError;
use crate::graph::args::Cloud;

/// The file read when `--config` is not given and it exists in the working directory.
pub const DEFAULT_FILE: &str = "gwb.toml";
/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "GWB_CONFIG";

/// `--config FILE`, flattened into every command that reads the configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Configuration file (default: ./gwb.toml when it exists). Flags and environment variables
    /// override its values. `gwb init` writes a commented template.
    #[arg(long, value_name = "FILE", env = CONFIG_ENV, global = false)]
    pub config: Option<PathBuf>,
}

/// `gwb init`: write the commented template.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Where to write the template (`-` for stdout).
    #[arg(long, short = 'o', value_name = "FILE", default_value = DEFAULT_FILE)]
    pub out: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub const INIT_LONG: &str = "\
Writes gwb.toml, a configuration template in which every key is commented with its meaning and
default. Keys with a built-in default are set to it; site-specific keys (the target OU, the DC,
the tenant) are commented out with an example. Secrets are never written into the file: it names
an environment variable or a file that holds them.

Examples:
  gwb init                       # ./gwb.toml, refuses to overwrite
  gwb init --out /etc/gwb/gwb.toml --force
  gwb init --out - | less        # just read it

Then: gwb audit (reads ./gwb.toml), gwb plan, gwb apply, gwb sync --config FILE.";

/// The template `gwb init` writes. docs/config.md documents every key in it (checked by a test).
pub const TEMPLATE: &str = include_str!("config_template.toml");

// ---------------------------------------------------------------------------------------------
// The file's shape.

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub target_ou: Option<String>,
    #[serde(default)]
    pub ldap: LdapSection,
    #[serde(default)]
    pub graph: GraphSection,
    #[serde(default)]
    pub policy: PolicySection,
    #[serde(default)]
    pub journal: JournalSection,
    #[serde(default)]
    pub apply: ApplySection,
    #[serde(default)]
    pub sync: SyncSection,
    /// Per-group overrides keyed by the cloud group's object id.
    #[serde(default)]
    pub group: BTreeMap<String, GroupSection>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LdapSection {
    pub url: Option<String>,
    pub bind_dn: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub starttls: Option<bool>,
    pub timeout: Option<u64>,
    /// Rejected: only references to secrets are allowed.
    pub password: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GraphSection {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_certificate: Option<PathBuf>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "de_enum")]
    pub cloud: Option<Cloud>,
    pub url: Option<String>,
    /// Rejected: only references to secrets are allowed.
    pub client_secret: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicySection {
    #[serde(default, deserialize_with = "de_enum")]
    pub deletion: Option<DeletionBehavior>,
    #[serde(default, deserialize_with = "de_enum")]
    pub member_limit: Option<MemberLimitBehavior>,
    #[serde(default, deserialize_with = "de_enum")]
    pub cn_format: Option<CnFormat>,
    #[serde(default, deserialize_with = "de_enum")]
    pub feature_state: Option<FeatureState>,
    pub max_deletes: Option<u64>,
    pub sam_account_name: Option<String>,
    pub protected: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JournalSection {
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApplySection {
    /// The SHA-256 of the one plan `gwb apply` accepts (the change record's approval).
    pub expect_sha256: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SyncSection {
    #[serde(default, deserialize_with = "de_duration")]
    pub interval: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "de_duration")]
    pub full_every: Option<std::time::Duration>,
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GroupSection {
    pub exclude: Option<bool>,
    pub cn: Option<String>,
    pub protected: Option<bool>,
}

/// A policy value in the command line's vocabulary (`display-name`, `modified`, …).
fn de_enum<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: clap::ValueEnum,
{
    let s = String::deserialize(d)?;
    let found = T::value_variants()
        .iter()
        .find(|v| v.to_possible_value().is_some_and(|p| p.matches(&s, false)));
    match found {
        Some(v) => Ok(Some(v.clone())),
        None => {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
                .collect();
            Err(serde::de::Error::custom(format!(
                "unknown value {s:?}; expected one of: {}",
                names.join(", ")
            )))
        }
    }
}

/// A duration: an integer number of seconds, or a string such as "10s", "5m", "24h", "1d".
fn de_duration<'de, D>(d: D) -> Result<Option<std::time::Duration>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    let raw = Raw::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "expected a duration: seconds as an integer, or \"10s\", \"5m\", \"24h\", \"1d\"",
        )
    })?;
    match raw {
        Raw::Secs(s) => Ok(Some(std::time::Duration::from_secs(s))),
        Raw::Text(t) => parse_duration(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Parse "10", "10s", "5m", "24h", "1d", "1h30m".
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let bad = || format!("{text:?} is not a duration (examples: 10s, 5m, 24h, 1d, 1h30m)");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(n));
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

// ---------------------------------------------------------------------------------------------
// Loading.

/// A loaded configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from (`None`: no file, built-in defaults only).
    pub path: Option<PathBuf>,
    pub file: ConfigFile,
    /// Per-group overrides, validated.
    pub overrides: Overrides,
    /// Warnings for the operator (secret files readable by others, …).
    pub warnings: Vec<String>,
}

impl Config {
    /// The file named by `--config` (or `GWB_CONFIG`), else ./gwb.toml when present, else none.
    pub fn load(args: &ConfigArgs) -> anyhow::Result<Config> {
        let path = match &args.config {
            Some(p) => Some(p.clone()),
            None => {
                let p = PathBuf::from(DEFAULT_FILE);
                p.is_file().then_some(p)
            }
        };
        match path {
            None => Ok(Config::default()),
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    InputError::new(&p, "", format!("cannot read the configuration file: {e}"))
                })?;
                let mut cfg = parse(&p, &text)?;
                cfg.warnings.extend(permission_warnings(&p, &cfg.file));
                Ok(cfg)
            }
        }
    }

    pub fn max_deletes(&self) -> Option<u64> {
        self.file.policy.max_deletes
    }

    pub fn sam_account_name(&self) -> Option<&str> {
        self.overrides.sam_account_name.as_deref()
    }

    /// Journal directory: from the file, else `./gwb-journal`.
    pub fn journal_dir(&self) -> PathBuf {
        self.file
            .journal
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("gwb-journal"))
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Find the line where `key` is set inside `[table]` (best effort, for errors found after parsing).
fn key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            current = line
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .replace(['"', '\''], "");
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches(['"', '\'']);
        if current.eq_ignore_ascii_case(table) && k == key {
            return Some(i + 1);
        }
        // Dotted keys at the top level: `ldap.url = …`.
        if current.is_empty() && !table.is_empty() && k == format!("{table}.{key}") {
            return Some(i + 1);
        }
    }
    None
}

/// Line of a table header such as `[group."…"]`.
fn table_line(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim().starts_with('[') && l.contains(needle))
        .map(|i| i + 1)
}

fn place(line: Option<usize>, key: &str) -> String {
    match line {
        Some(l) => format!("line {l}, key `{key}`"),
        None => format!("key `{key}`"),
    }
}

/// Parse a configuration file's text. Errors name the file, the line and the key.
pub fn parse(path: &Path, text: &str) -> Result<Config, InputError> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        InputError::new(
            path,
            line.map(|l| format!("line {l}")).unwrap_or_default(),
            format!("not valid TOML: {}", e.message().trim()),
        )
    })?;
    let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let mut message = inner.message().trim().to_string();
        // An unknown key: name it (the path points at its table).
        let mut key = if key == "." { String::new() } else { key };
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((name, _)) = rest.split_once('`')
        {
            if key.is_empty() {
                key = name.to_string();
            } else if key.rsplit('.').next() != Some(name) {
                key = format!("{key}.{name}");
            }
            message = format!("unknown key `{name}` ({message})");
        }
        let line = inner.span().map(|s| line_of(text, s.start));
        InputError::new(path, place(line, &key), message)
    })?;
    // Literal secrets: refused, with the reference keys to use instead.
    if file.ldap.password.is_some() {
        return Err(InputError::new(
            path,
            place(key_line(text, "ldap", "password"), "ldap.password"),
            "passwords are never stored in the configuration: use password-env = \"GWB_LDAP_PASSWORD\" or password-file = \"/path\" (and rotate this password if the file was shared)",
        ));
    }
    if file.graph.client_secret.is_some() {
        return Err(InputError::new(
            path,
            place(
                key_line(text, "graph", "client-secret"),
                "graph.client-secret",
            ),
            "client secrets are never stored in the configuration: use client-secret-env = \"AZURE_CLIENT_SECRET\" or client-secret-file = \"/path\" (and rotate this secret if the file was shared)",
        ));
    }
    for (table, key, value) in [
        ("ldap", "password-env", &file.ldap.password_env),
        ("graph", "client-secret-env", &file.graph.client_secret_env),
    ] {
        if let Some(v) = value
            && (v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(InputError::new(
                path,
                place(key_line(text, table, key), &format!("{table}.{key}")),
                format!("{v:?} is not an environment variable name (letters, digits and _)"),
            ));
        }
    }
    if let Some(t) = &file.policy.sam_account_name {
        crate::core::overrides::check_sam_template(t).map_err(|m| {
            InputError::new(
                path,
                place(
                    key_line(text, "policy", "sam-account-name"),
                    "policy.sam-account-name",
                ),
                m,
            )
        })?;
    }
    if let Some(ou) = &file.target_ou
        && crate::ad::Dn::parse(ou).is_err()
    {
        return Err(InputError::new(
            path,
            place(key_line(text, "", "target-ou"), "target-ou"),
            format!("{ou:?} is not a distinguished name"),
        ));
    }
    let mut overrides = Overrides {
        sam_account_name: file.policy.sam_account_name.clone(),
        ..Overrides::default()
    };
    for (i, id) in file.policy.protected.iter().flatten().enumerate() {
        let Some(u) = crate::ad::ids::parse_guid(id) else {
            return Err(InputError::new(
                path,
                place(
                    key_line(text, "policy", "protected"),
                    &format!("policy.protected[{i}]"),
                ),
                format!("{id:?} is not a group object id (a GUID)"),
            ));
        };
        overrides.protected.insert(u);
    }
    for (id, g) in &file.group {
        let line = table_line(text, id);
        let Some(u) = crate::ad::ids::parse_guid(id) else {
            return Err(InputError::new(
                path,
                place(line, &format!("group.{id}")),
                format!(
                    "{id:?} is not a group object id (a GUID): per-group overrides are keyed by object id"
                ),
            ));
        };
        if g.exclude == Some(true) {
            overrides.exclude.insert(u);
        }
        if g.protected == Some(true) {
            overrides.protected.insert(u);
        }
        if let Some(cn) = &g.cn {
            crate::core::overrides::check_cn(cn)
                .map_err(|m| InputError::new(path, place(line, &format!("group.{id}.cn")), m))?;
            overrides.cn.insert(u, cn.trim().to_string());
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    for (id, cn) in &overrides.cn {
        if !seen.insert(cn.to_lowercase()) {
            return Err(InputError::new(
                path,
                place(table_line(text, &id.to_string()), &format!("group.{id}.cn")),
                format!("the CN {cn:?} is given to two groups"),
            ));
        }
    }
    Ok(Config {
        path: Some(path.to_path_buf()),
        file,
        overrides,
        warnings: Vec::new(),
    })
}

/// Warnings for secrets that other local users can read.
fn permission_warnings(config: &Path, file: &ConfigFile) -> Vec<String> {
    let mut out = Vec::new();
    let secrets = [
        ("ldap.password-file", file.ldap.password_file.as_ref()),
        (
            "graph.client-secret-file",
            file.graph.client_secret_file.as_ref(),
        ),
        (
            "graph.client-certificate",
            file.graph.client_certificate.as_ref(),
        ),
    ];
    let base = config.parent().unwrap_or(Path::new("."));
    for (key, p) in secrets {
        let Some(p) = p else { continue };
        let p = if p.is_relative() {
            base.join(p)
        } else {
            p.clone()
        };
        if readable_by_others(&p) {
            out.push(format!(
                "{}: {key}: {} holds a secret and is readable by other users (chmod 600 it)",
                config.display(),
                p.display()
            ));
        }
    }
    out
}

#[cfg(unix)]
fn readable_by_others(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

/// Windows: not checked. Who may read a file there is an ACL (inherited from the folder, often
/// granting read to Users or Administrators by design), not mode bits, so no test of a few bits
/// says "only you"; docs/windows.md tells how to keep secret files under the profile folder and
/// lock them with icacls instead.
#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> bool {
    false
}

// ---------------------------------------------------------------------------------------------
// Merging into the command's arguments: flags and environment win, then the file.

/// Which arguments the user gave on the command line or through an environment variable.
#[derive(Debug, Clone, Default)]
pub struct Explicit(HashSet<String>);

impl Explicit {
    /// Read from the process's own command line (the subcommand's matches).
    pub fn from_process() -> Explicit {
        use clap::CommandFactory;
        let cmd = crate::cli::Cli::command();
        let Ok(m) = cmd.try_get_matches_from(std::env::args_os()) else {
            return Explicit::default();
        };
        let mut m = &m;
        while let Some((_, sub)) = m.subcommand() {
            m = sub;
        }
        Explicit::from_matches(m)
    }

    pub fn from_matches(m: &clap::ArgMatches) -> Explicit {
        use clap::parser::ValueSource;
        Explicit(
            m.ids()
                .filter(|id| {
                    matches!(
                        m.value_source(id.as_str()),
                        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                    )
                })
                .map(|id| id.as_str().to_string())
                .collect(),
        )
    }

    /// Everything explicit (for library callers that build arguments in code).
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    pub fn insert(&mut self, id: &str) {
        self.0.insert(id.to_string());
    }
}

fn set<T: Clone>(explicit: &Explicit, id: &str, slot: &mut T, value: &Option<T>) {
    if !explicit.has(id)
        && let Some(v) = value
    {
        *slot = v.clone();
    }
}

fn set_opt<T: Clone>(explicit: &Explicit, id: &str, slot: &mut Option<T>, value: &Option<T>) {
    if !explicit.has(id) && slot.is_none() && value.is_some() {
        slot.clone_from(value);
    }
}

impl Config {
    /// Policy flags the file sets, unless given on the command line.
    pub fn apply_policy(&self, explicit: &Explicit, p: &mut crate::cli::PolicyArgs) {
        let f = &self.file.policy;
        set_opt(
            explicit,
            "target_ou",
            &mut p.target_ou,
            &self.file.target_ou,
        );
        set(explicit, "deletion", &mut p.deletion, &f.deletion);
        set(
            explicit,
            "member_limit",
            &mut p.member_limit,
            &f.member_limit,
        );
        set(explicit, "cn_format", &mut p.cn_format, &f.cn_format);
        set(
            explicit,
            "feature_state",
            &mut p.feature_state,
            &f.feature_state,
        );
    }

    /// Graph connection settings the file sets, unless given on the command line or in the environment.
    pub fn apply_graph(&self, explicit: &Explicit, g: &mut crate::graph::args::GraphArgs) {
        let f = &self.file.graph;
        set_opt(explicit, "tenant", &mut g.tenant, &f.tenant);
        set_opt(explicit, "client_id", &mut g.client_id, &f.client_id);
        set_opt(
            explicit,
            "client_certificate",
            &mut g.client_certificate,
            &f.client_certificate,
        );
        set_opt(
            explicit,
            "client_secret_file",
            &mut g.client_secret_file,
            &f.client_secret_file,
        );
        set(explicit, "cloud", &mut g.cloud, &f.cloud);
        set_opt(explicit, "graph_url", &mut g.graph_url, &f.url);
    }

    /// LDAP connection settings the file sets, unless given on the command line or in the environment.
    pub fn apply_ldap(&self, explicit: &Explicit, l: &mut crate::ldap::args::LdapArgs) {
        let f = &self.file.ldap;
        set_opt(explicit, "ldap_url", &mut l.ldap_url, &f.url);
        set_opt(explicit, "bind_dn", &mut l.bind_dn, &f.bind_dn);
        set_opt(
            explicit,
            "password_file",
            &mut l.password_file,
            &f.password_file,
        );
        set_opt(explicit, "ca_file", &mut l.ca_file, &f.ca_file);
        set(explicit, "starttls", &mut l.starttls, &f.starttls);
        set(explicit, "ldap_timeout", &mut l.ldap_timeout, &f.timeout);
    }

    /// Secrets named by environment variable in the file, moved to the variables gwb reads
    /// (`GWB_LDAP_PASSWORD`, `AZURE_CLIENT_SECRET`) when those are unset. Call before any
    /// thread is started.
    pub fn export_secret_references(&self) -> anyhow::Result<()> {
        for (from, to) in [
            (
                self.file.ldap.password_env.as_deref(),
                crate::ldap::args::PASSWORD_ENV,
            ),
            (
                self.file.graph.client_secret_env.as_deref(),
                crate::graph::args::CLIENT_SECRET_ENV,
            ),
        ] {
            let Some(from) = from else { continue };
            if from == to || std::env::var_os(to).is_some_and(|v| !v.is_empty()) {
                continue;
            }
            match std::env::var(from) {
                Ok(v) if !v.is_empty() => {
                    // SAFETY: called from `app::run` before any runtime or thread is started,
                    // so no other thread reads the environment concurrently.
                    unsafe { std::env::set_var(to, v) };
                }
                _ => anyhow::bail!(
                    "{}: the secret reference {from} is not set in the environment",
                    self.path
                        .as_deref()
                        .unwrap_or(Path::new(DEFAULT_FILE))
                        .display()
                ),
            }
        }
        Ok(())
    }
}

/// Load the configuration for a command and merge it into the command's arguments: the
/// policy, Graph and LDAP flag groups. Warnings go to the log; secret references are exported.
pub fn load_and_merge(
    cfg_args: &ConfigArgs,
    policy: Option<&mut crate::cli::PolicyArgs>,
    graph: Option<&mut crate::graph::args::GraphArgs>,
    ldap: Option<&mut crate::ldap::args::LdapArgs>,
) -> anyhow::Result<Config> {
    let cfg = Config::load(cfg_args)?;
    if cfg.path.is_none() {
        return Ok(cfg);
    }
    let explicit = Explicit::from_process();
    if let Some(p) = policy {
        cfg.apply_policy(&explicit, p);
    }
    if let Some(g) = graph {
        cfg.apply_graph(&explicit, g);
    }
    if let Some(l) = ldap {
        cfg.apply_ldap(&explicit, l);
    }
    // Once per process: a command that plans and applies merges the file twice.
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
    }
    cfg.export_secret_references()?;
    if let Some(p) = &cfg.path {
        tracing::info!("configuration: {}", p.display());
    }
    Ok(cfg)
}

/// `gwb audit`: the configuration merged into its arguments. With `--snapshot` the tenant
/// comes from the snapshot, so the file's `[graph]` section is not used.
pub fn load_into_audit(args: &mut crate::cli::AuditArgs) -> anyhow::Result<Config> {
    let graph = args.snapshot.is_none().then_some(&mut args.graph);
    load_and_merge(
        &args.config.clone(),
        Some(&mut args.policy),
        graph,
        Some(&mut args.ldap),
    )
}

/// `gwb collect`: `[graph]`, `[ldap]` and the target OU from the file.
pub fn load_into_collect(args: &mut crate::cli::CollectArgs) -> anyhow::Result<Config> {
    let cfg = load_and_merge(
        &args.config.clone(),
        None,
        Some(&mut args.graph),
        Some(&mut args.ldap),
    )?;
    if cfg.path.is_some() && !Explicit::from_process().has("target_ou") && args.target_ou.is_none()
    {
        args.target_ou.clone_from(&cfg.file.target_ou);
    }
    Ok(cfg)
}

/// `gwb tenant plan` and `gwb tenant apply`: the file's `[graph]` section (not with
/// `--snapshot`, which gives the tenant).
pub fn load_into_tenant(args: &mut crate::tenant::args::TenantArgs) -> anyhow::Result<Config> {
    use crate::tenant::args::TenantCommand;
    match &mut args.command {
        TenantCommand::Plan(a) => {
            let graph = a.snapshot.is_none().then_some(&mut a.graph);
            load_and_merge(&a.config.clone(), None, graph, None)
        }
        TenantCommand::Apply(a) => {
            load_and_merge(&a.config.clone(), None, Some(&mut a.graph), None)
        }
    }
}

/// `gwb plan` (and everything that plans): the configuration merged into the plan inputs.
pub fn load_into_plan(args: &mut crate::plan::args::PlanInputArgs) -> anyhow::Result<Config> {
    // With --snapshot the tenant comes from the snapshot: the file's [graph] is not used.
    let graph = args.snapshot.is_none().then_some(&mut args.graph);
    let cfg = load_and_merge(
        &args.config.clone(),
        Some(&mut args.policy),
        graph,
        Some(&mut args.ldap),
    )?;
    if cfg.path.is_some()
        && !Explicit::from_process().has("max_deletes")
        && let Some(n) = cfg.max_deletes()
    {
        args.max_deletes = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(cfg)
}

/// `gwb apply`: the configuration merged into the plan flags, and the journal directory.
pub fn load_into_apply(args: &mut crate::apply::args::ApplyArgs) -> anyhow::Result<Config> {
    let cfg = load_into_plan(&mut args.input)?;
    if cfg.file.journal.dir.is_some() && !Explicit::from_process().has("journal_dir") {
        args.journal_dir = cfg.journal_dir();
    }
    if args.expect_sha256.is_none() {
        args.expect_sha256 = cfg.file.apply.expect_sha256.clone();
    }
    Ok(cfg)
}

/// Write the template for `gwb init`.
pub fn init(args: &InitArgs) -> anyhow::Result<String> {
    if args.out.as_os_str() == "-" {
        return Ok(TEMPLATE.to_string());
    }
    if args.out.exists() && !args.force {
        anyhow::bail!(
            "{} exists: pass --force to overwrite it",
            args.out.display()
        );
    }
    crate::collect::write_atomic_with(&args.out, |w| {
        w.write_all(TEMPLATE.as_bytes())?;
        Ok(())
    })?;
    Ok(format!("wrote {}", args.out.display()))
}

/// Every key of the template, active or commented out, as `table.key` (for the docs test).
pub fn template_keys() -> Vec<String> {
    let mut out = Vec::new();
    let mut table = String::new();
    for raw in TEMPLATE.lines() {
        let line = raw.trim_start_matches('#').trim();
        if line.starts_with('[') && line.ends_with(']') && !raw.trim_start().starts_with("# ") {
            table = line
                .trim_matches(['[', ']'])
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string();
            continue;
        }
        if let Some((k, _)) = line.split_once(" = ") {
            let k = k.trim();
            if !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                out.push(if table.is_empty() {
                    k.to_string()
                } else {
                    format!("{table}.{k}")
                });
            }
        }
    }
    out.dedup();
    out
}

/// The template with every commented-out `key = value` line enabled.
pub fn template_all_keys_set() -> String {
    TEMPLATE
        .lines()
        .map(|l| {
            let t = l.trim_start();
            match t.strip_prefix("#") {
                Some(rest)
                    if !rest.starts_with(' ') && !rest.starts_with('#') && !rest.is_empty() =>
                {
                    rest.to_string()
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, InputError> {
        parse(Path::new("gwb.toml"), text)
    }

    #[test]
    fn template_parses_and_sets_defaults() {
        let c = p(TEMPLATE).unwrap();
        assert_eq!(c.file.policy.deletion, Some(DeletionBehavior::Default));
        assert_eq!(c.file.policy.max_deletes, Some(500));
        assert!(c.file.target_ou.is_none());
        assert!(c.overrides.is_empty());
    }

    #[test]
    fn every_template_key_is_real() {
        let all = template_all_keys_set();
        let c = p(&all).unwrap_or_else(|e| panic!("{e}\n{all}"));
        let f = &c.file;
        assert!(f.target_ou.is_some());
        assert!(f.ldap.url.is_some() && f.ldap.bind_dn.is_some() && f.ldap.ca_file.is_some());
        assert!(f.ldap.password_env.is_some() && f.ldap.password_file.is_some());
        assert!(f.graph.tenant.is_some() && f.graph.client_id.is_some());
        assert!(f.graph.client_certificate.is_some() && f.graph.client_secret_env.is_some());
        assert!(f.graph.client_secret_file.is_some() && f.graph.url.is_some());
        assert!(f.policy.sam_account_name.is_some());
        assert_eq!(c.overrides.sam_account_name.as_deref(), Some("gwb-{id12}"));
        assert!(f.sync.state_dir.is_some());
        assert_eq!(c.overrides.exclude.len(), 1);
        assert_eq!(c.overrides.cn.len(), 1);
        assert_eq!(c.overrides.protected.len(), 2);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = p("[policy]\ndeletion = \"modified\"\nmax-delete = 3\n").unwrap_err();
        assert_eq!(e.place, "line 3, key `policy.max-delete`", "{e}");
        assert!(e.message.contains("unknown key `max-delete`"), "{e}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let e = p("target-ou = \"OU=G,DC=x\"\n\n[ldap]\ntimeout = \"soon\"\n").unwrap_err();
        assert_eq!(e.place, "line 4, key `ldap.timeout`", "{e}");
        let e = p("[policy]\ncn-format = \"guid\"\n").unwrap_err();
        assert_eq!(e.place, "line 2, key `policy.cn-format`", "{e}");
        assert!(e.message.contains("object-id, display-name"), "{e}");
    }

    #[test]
    fn syntax_error_names_line() {
        let e = p("[ldap]\nurl = \"ldaps://x\n").unwrap_err();
        assert_eq!(e.place, "line 2", "{e}");
    }

    #[test]
    fn literal_secrets_are_refused() {
        let e = p("[ldap]\nurl = \"ldaps://dc\"\npassword = \"hunter2\"\n").unwrap_err();
        assert_eq!(e.place, "line 3, key `ldap.password`");
        assert!(!e.to_string().contains("hunter2"));
        let e = p("[graph]\nclient-secret = \"s3cr3t\"\n").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn group_overrides_are_validated() {
        let e = p("[group.\"not-a-guid\"]\nexclude = true\n").unwrap_err();
        assert_eq!(e.place, "line 1, key `group.not-a-guid`", "{e}");
        let e = p("[group.\"0b7d8d0e-0000-4000-8000-000000000001\"]\ncn = \"\"\n").unwrap_err();
        assert!(e.place.contains("cn"), "{e}");
        let e =
            p("[group.\"0b7d8d0e-0000-4000-8000-000000000001\"]\nexcluded = true\n").unwrap_err();
        assert!(e.place.starts_with("line 2"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h").unwrap().as_secs(), 86_400);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5_400);
        assert_eq!(parse_duration("10").unwrap().as_secs(), 10);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5x").is_err());
        let c = p("[sync]\ninterval = 2\nfull-every = \"1d\"\n").unwrap();
        assert_eq!(c.file.sync.interval.unwrap().as_secs(), 2);
        assert_eq!(c.file.sync.full_every.unwrap().as_secs(), 86_400);
    }

    #[test]
    fn flags_win_over_the_file() {
        let c = p("target-ou = \"OU=F,DC=x\"\n[policy]\ncn-format = \"display-name\"\ndeletion = \"modified\"\n").unwrap();
        let mut pol = crate::cli::PolicyArgs {
            target_ou: None,
            deletion: DeletionBehavior::Default,
            member_limit: MemberLimitBehavior::Default,
            cn_format: CnFormat::ObjectId,
            feature_state: FeatureState::AsIfEnabled,
        };
        let mut ex = Explicit::default();
        ex.insert("deletion");
        c.apply_policy(&ex, &mut pol);
        assert_eq!(pol.cn_format, CnFormat::DisplayName);
        assert_eq!(pol.deletion, DeletionBehavior::Default);
        assert_eq!(pol.target_ou.as_deref(), Some("OU=F,DC=x"));
    }

    /// The connection keys reach the flags gwb connects with (graph.cloud picks the national
    /// cloud's endpoints; graph.client-certificate is the certificate credential; the LDAP
    /// keys are the connection settings). Behavioural tests against the lab DC and the
    /// simulator: tests/config_keys.rs.
    #[test]
    fn connection_keys_reach_the_flags() {
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            g: crate::graph::args::GraphArgs,
            #[command(flatten)]
            l: crate::ldap::args::LdapArgs,
        }
        use clap::Parser;
        let c = p(concat!(
            "[ldap]\nurl = \"ldap://dc1\"\nbind-dn = \"CORP\\\\svc\"\npassword-file = \"/etc/pw\"\n",
            "ca-file = \"/etc/ca.pem\"\nstarttls = true\ntimeout = 7\n",
            "[graph]\ntenant = \"t.example\"\nclient-id = \"00000000-0000-0000-0000-000000000001\"\n",
            "client-certificate = \"/etc/app.pem\"\ncloud = \"china\"\n",
        ))
        .unwrap();
        let mut t = T::parse_from(["gwb"]);
        assert_eq!(t.g.cloud, crate::graph::args::Cloud::Global);
        c.apply_graph(&Explicit::default(), &mut t.g);
        c.apply_ldap(&Explicit::default(), &mut t.l);
        assert_eq!(t.g.cloud, crate::graph::args::Cloud::China);
        assert_eq!(t.g.cloud.endpoints().0, "https://login.chinacloudapi.cn");
        assert_eq!(
            t.g.client_certificate.as_deref(),
            Some(Path::new("/etc/app.pem"))
        );
        assert_eq!(t.g.tenant.as_deref(), Some("t.example"));
        assert_eq!(t.l.ldap_url.as_deref(), Some("ldap://dc1"));
        assert_eq!(t.l.bind_dn.as_deref(), Some("CORP\\svc"));
        assert!(t.l.starttls);
        assert_eq!(t.l.ldap_timeout, 7);
        assert_eq!(t.l.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        // A flag wins over the file.
        let mut t = T::parse_from(["gwb", "--cloud", "usgov"]);
        let mut ex = Explicit::default();
        ex.insert("cloud");
        c.apply_graph(&ex, &mut t.g);
        assert_eq!(t.g.cloud, crate::graph::args::Cloud::Usgov);
    }
}
