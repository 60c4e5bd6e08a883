//! The config file of `warroom serve` and `warroom up` (`--config FILE`): every table
//! optional, unknown fields refused naming the field. `warroom up` reads the same file
//! with two more keys, `tps` and `[sim]` (the simulator beside the room).

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `--approve` / `approve = "…"`: who lets plans act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Approve {
    /// Every plan runs at once.
    Auto,
    /// Every plan waits for a commander (dashboard or API).
    Commander,
    /// Each plan keeps its own approval mode.
    #[default]
    Plan,
}

impl Approve {
    /// The healer's override (`None`: each plan's own mode).
    pub fn mode(self) -> Option<healer::ApprovalMode> {
        match self {
            Approve::Auto => Some(healer::ApprovalMode::Auto),
            Approve::Commander => Some(healer::ApprovalMode::Commander),
            Approve::Plan => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Approve::Auto => "auto",
            Approve::Commander => "commander",
            Approve::Plan => "plan",
        }
    }
}

/// The room's config (what `serve` and `up` share).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    /// Who lets plans act: "plan" (default), "commander" or "auto" (`--approve` wins).
    pub approve: Option<Approve>,
    /// Store records in ClickHouse at this URL (default: the embedded store).
    pub clickhouse: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// Dashboard users (`[dashboard]`); absent: a first admin is made.
    pub dashboard: Option<toml::Value>,
    pub analyzer: Option<analyzer::AnalyzerConfig>,
    /// Incident lifetimes (`recover_after_s`, `supersede_after_s`, `refine_s`, …).
    pub incidents: Option<command::BookConfig>,
    /// The rules between a diagnosis and a plan run (`localize_ms`, `shed_codes`).
    pub rules: Option<command::RulesConfig>,
    pub alerts: Option<alerts::ManagerConfig>,
    /// SLA objectives file (default: `serve` 99.9 % for every service that shows up; `up`
    /// payments-sim's built-in objectives).
    pub objectives: Option<PathBuf>,
    /// Contingency plans and the levers they act through (`serve`).
    pub healer: Option<HealerConfig>,
    /// The collector's edge: ingest tokens per source, TLS, the loopback rule.
    pub collector: Option<CollectorConfig>,
}

/// `[collector]`: who may send, and over what (docs/collector.md, "Authenticated ingest").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    /// One entry per source: `{name, token}`, `{name, token_env}` or `{name, token_file}`.
    /// When any is set, ingest and record reads need `Authorization: Bearer <token>`.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// PEM certificate chain: the collector speaks HTTPS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Listen beyond loopback without tokens (as `--allow-unauthenticated-ingest`).
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// How long records are kept, by arrival (`30m`, `6h`, `7d`; default `7d`); records
    /// whose own time is older are acknowledged, counted as `outside_retention`, not stored.
    pub retention: Option<String>,
    /// Bytes of the embedded store's files, at most (`500MiB`, `20GiB`; default `20GiB`).
    pub retention_bytes: Option<String>,
}

/// `--retention` and `--retention-bytes` (`serve`, `up`, `collect`); they win over the config.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RetentionArgs {
    /// How long records are kept, by arrival: `30m`, `6h`, `7d` (default: the config's
    /// `[collector] retention`, else 7d). Older records (by their own time) are counted, not stored.
    #[arg(long)]
    pub retention: Option<String>,
    /// Most bytes the embedded store's files take, oldest segments deleted first: `500MiB`,
    /// `20GiB` (default: the config's `[collector] retention_bytes`, else 20GiB).
    #[arg(long)]
    pub retention_bytes: Option<String>,
}

impl RetentionArgs {
    /// The retention from the flags, else the config's `[collector]`, else the defaults;
    /// a bad value is an error naming the flag or the key.
    pub fn resolve(&self, room: &RoomConfig) -> anyhow::Result<collector::retention::Retention> {
        use collector::retention::{parse_age_s, parse_bytes, Retention};
        let c = room.collector.as_ref();
        let mut r = Retention::default();
        if let Some(v) = &self.retention {
            r.max_age_s = Some(parse_age_s("--retention", v)?);
        } else if let Some(v) = c.and_then(|c| c.retention.as_ref()) {
            r.max_age_s = Some(parse_age_s("[collector] retention", v)?);
        }
        if let Some(v) = &self.retention_bytes {
            r.max_bytes = Some(parse_bytes("--retention-bytes", v)?);
        } else if let Some(v) = c.and_then(|c| c.retention_bytes.as_ref()) {
            r.max_bytes = Some(parse_bytes("[collector] retention_bytes", v)?);
        }
        Ok(r)
    }
}

/// A source's token, given in the file, by an environment variable or in a file of its own.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    pub token: Option<String>,
    /// The environment variable holding the token.
    pub token_env: Option<String>,
    /// A file holding the token (surrounding whitespace trimmed); relative to the config.
    pub token_file: Option<PathBuf>,
}

impl std::fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEntry")
            .field("name", &self.name)
            .field("token_env", &self.token_env)
            .field("token_file", &self.token_file)
            .finish_non_exhaustive()
    }
}

impl TokenEntry {
    /// The token itself; an error names the entry and where it looked, never the token.
    fn resolve(&self, i: usize) -> anyhow::Result<String> {
        let at = format!("[collector] tokens[{i}] (`{}`)", self.name);
        match (&self.token, &self.token_env, &self.token_file) {
            (Some(t), None, None) => Ok(t.clone()),
            (None, Some(var), None) => {
                std::env::var(var).map_err(|e| anyhow::anyhow!("{at}: token_env {var}: {e}"))
            }
            (None, None, Some(f)) => std::fs::read_to_string(f)
                .map(|t| t.trim().to_string())
                .with_context(|| format!("{at}: token_file {}", f.display())),
            _ => anyhow::bail!("{at}: give exactly one of `token`, `token_env`, `token_file`"),
        }
    }
}

impl CollectorConfig {
    /// The collector's edge: tokens resolved and checked, TLS files read;
    /// `allow_unauthenticated` also when the flag says so.
    pub fn edge(&self, allow_unauthenticated: bool) -> anyhow::Result<collector::Edge> {
        let tokens = self
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let secret = t.resolve(i)?;
                collector::SourceToken::new(&t.name, &secret)
                    .with_context(|| format!("[collector] tokens[{i}]"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(collector::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (Some(_), None) => anyhow::bail!("[collector] tls_cert: needs tls_key too"),
            (None, Some(_)) => anyhow::bail!("[collector] tls_key: needs tls_cert too"),
        };
        collector::Edge::new(collector::EdgeConfig {
            tokens,
            tls,
            allow_unauthenticated: allow_unauthenticated || self.allow_unauthenticated,
        })
        .context("[collector]")
    }
}

/// `[healer]`: where plans come from and the real services' own levers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealerConfig {
    /// A folder of plan files (`*.toml`, one plan each); relative to the config file.
    pub plans: Option<PathBuf>,
    /// Sentinel's command API (flow, hot-parameter and degrade rules).
    pub sentinel: Option<Endpoint>,
    /// A webhook plans' `call` steps post to.
    pub webhook: Option<Endpoint>,
}

/// An HTTP endpoint with an optional bearer token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub url: String,
    #[serde(default)]
    pub token: Option<String>,
}

/// `warroom up`'s config: the room's, plus the simulator's.
#[derive(Debug, Default)]
pub struct UpConfig {
    pub room: RoomConfig,
    /// Simulated payments per second (default 200; 0 turns traffic off).
    pub tps: Option<f64>,
    /// payments-sim config (`[sim]`, as `warroom sim --config`).
    pub sim: Option<toml::Value>,
}

fn read(path: &Path) -> anyhow::Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {}", path.display(), e.message()))
}

fn room(path: &Path, t: toml::Table) -> anyhow::Result<RoomConfig> {
    let mut c: RoomConfig = toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| {
            anyhow::anyhow!("config {}: {}", path.display(), e.message())
        })?;
    // Paths in the file are relative to it.
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(o) = &mut c.objectives {
        *o = base.join(&*o);
    }
    if let Some(p) = c.healer.as_mut().and_then(|h| h.plans.as_mut()) {
        *p = base.join(&*p);
    }
    if let Some(col) = &mut c.collector {
        for p in [&mut col.tls_cert, &mut col.tls_key]
            .into_iter()
            .flatten()
            .chain(col.tokens.iter_mut().filter_map(|t| t.token_file.as_mut()))
        {
            *p = base.join(&*p);
        }
    }
    Ok(c)
}

/// `serve`'s config (`None`: every default).
pub fn load_room(path: Option<&Path>) -> anyhow::Result<RoomConfig> {
    match path {
        None => Ok(RoomConfig::default()),
        Some(p) => room(p, read(p)?),
    }
}

/// `up`'s config: `tps` and `[sim]` taken out, the rest read as the room's.
pub fn load_up(path: Option<&Path>) -> anyhow::Result<UpConfig> {
    let Some(p) = path else {
        return Ok(UpConfig::default());
    };
    let mut t = read(p)?;
    let tps = match t.remove("tps") {
        None => None,
        Some(toml::Value::Float(f)) => Some(f),
        Some(toml::Value::Integer(i)) => Some(i as f64),
        Some(_) => anyhow::bail!("config {}: tps: must be a number", p.display()),
    };
    let sim = t.remove("sim");
    Ok(UpConfig {
        room: room(p, t)?,
        tps,
        sim,
    })
}

impl RoomConfig {
    /// The collector's edge from `[collector]` (open, loopback-only when absent).
    pub fn edge(&self, allow_unauthenticated: bool) -> anyhow::Result<collector::Edge> {
        self.collector
            .as_ref()
            .unwrap_or(&CollectorConfig::default())
            .edge(allow_unauthenticated)
    }

    /// `[dashboard]` checked (`origin` names the file in errors).
    pub fn dashboard(&self, origin: &str) -> anyhow::Result<Option<dashboard::DashboardConfig>> {
        self.dashboard
            .as_ref()
            .map(|v| {
                dashboard::DashboardConfig::from_toml_str(&toml::to_string(v)?, origin)
                    .context("[dashboard]")
            })
            .transpose()
    }

    /// The objectives file, if one is named.
    pub fn objectives(&self) -> anyhow::Result<Option<sla::Objectives>> {
        self.objectives
            .as_ref()
            .map(|p| {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                sla::Objectives::from_toml(&text)
                    .with_context(|| format!("objectives {}", p.display()))
            })
            .transpose()
    }

    /// The plan files of `[healer] plans` (none when absent), each checked, sorted by file
    /// name; an error names the file.
    pub fn plans(&self) -> anyhow::Result<Vec<healer::Plan>> {
        match self.healer.as_ref().and_then(|h| h.plans.as_ref()) {
            Some(dir) => plans_in(dir).context("[healer] plans"),
            None => Ok(Vec::new()),
        }
    }

    /// The executors `[healer]` configures (Sentinel, webhook).
    pub fn executors(&self) -> healer::Executors {
        use healer::executor::{sentinel::SentinelExecutor, webhook::WebhookExecutor};
        let mut ex = healer::Executors::default();
        if let Some(h) = &self.healer {
            if let Some(s) = &h.sentinel {
                ex = ex.with(
                    healer::ExecutorKind::Sentinel,
                    std::sync::Arc::new(SentinelExecutor::new(&s.url, s.token.as_deref())),
                );
            }
            if let Some(w) = &h.webhook {
                ex = ex.with(
                    healer::ExecutorKind::Webhook,
                    std::sync::Arc::new(WebhookExecutor::new(&w.url, w.token.as_deref())),
                );
            }
        }
        ex
    }

    /// Copies the tables every room takes into its options.
    pub fn apply(
        &self,
        analyzer: &mut analyzer::AnalyzerConfig,
        command: &mut command::CommandConfig,
        alerts: &mut alerts::ManagerConfig,
    ) -> anyhow::Result<()> {
        if let Some(x) = &self.analyzer {
            x.validate().context("[analyzer]")?;
            *analyzer = x.clone();
        }
        if let Some(x) = &self.incidents {
            command.incidents = x.clone();
        }
        if let Some(x) = &self.rules {
            command.rules = x.clone();
        }
        if let Some(x) = &self.alerts {
            *alerts = x.clone();
        }
        Ok(())
    }
}

/// The plan files (`*.toml`) of `dir`, each checked, sorted by file name; an error names
/// the file.
pub fn plans_in(dir: &Path) -> anyhow::Result<Vec<healer::Plan>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the plans directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            healer::parse_plan(&text).with_context(|| format!("plan file {}", f.display()))
        })
        .collect()
}
