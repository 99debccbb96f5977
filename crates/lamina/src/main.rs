//! `lamina`: a self-hosted AWS Lambda. This binary parses the command line, opens the store and wires the
//! API server; the behaviour lives in the library crates.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lamina_api::{ApiConfig, AppState};
use lamina_store::keyring::MasterKeySource;
use lamina_store::{records, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "lamina", version, about = "A self-hosted AWS Lambda")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct StoreArgs {
    /// Where Lamina keeps its database, code and keys.
    #[arg(long, env = "LAMINA_DATA_DIR", default_value = ".lamina")]
    data_dir: PathBuf,
    /// Read the master key from this file (32 bytes, raw or base64) instead of DATA_DIR/keys/master.key.
    #[arg(long, env = "LAMINA_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
}

impl StoreArgs {
    fn open(&self) -> anyhow::Result<Store> {
        let source = match (&self.master_key_file, std::env::var("LAMINA_MASTER_KEY")) {
            (Some(p), _) => MasterKeySource::File(p.clone()),
            (None, Ok(b64)) if !b64.is_empty() => MasterKeySource::Base64(b64),
            _ => MasterKeySource::DataDir,
        };
        Store::open(&self.data_dir, source)
            .with_context(|| format!("opening the data directory {}", self.data_dir.display()))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the server.
    Serve {
        /// Address to listen on (port 0 picks a free port; the chosen address is printed).
        #[arg(long, env = "LAMINA_LISTEN", default_value = "127.0.0.1:9000")]
        listen: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Also accept the well-known access key `test`/`test` for account 000000000000. Never in production.
        #[arg(long, env = "LAMINA_DEV")]
        dev: bool,
        /// Milliseconds a create or update stays Pending/InProgress before completing (testing the waiters).
        #[arg(long, env = "LAMINA_UPDATE_DELAY_MS", default_value_t = 0)]
        update_delay_ms: u64,
        /// The account concurrency limit.
        #[arg(long, env = "LAMINA_ACCOUNT_CONCURRENCY", default_value_t = 1000)]
        account_concurrency: i64,
        /// Seconds an idle execution environment is kept warm.
        #[arg(long, env = "LAMINA_IDLE_TIMEOUT_SECS", default_value_t = 600)]
        idle_timeout_secs: u64,
        /// Longest life of an execution environment, seconds.
        #[arg(long, env = "LAMINA_MAX_LIFETIME_SECS", default_value_t = 14400)]
        max_lifetime_secs: u64,
        /// Interpreter overrides for runtimes, e.g. python3.12=/opt/py312/bin/python3 (repeatable).
        #[arg(long = "interpreter", value_parser = parse_interpreter)]
        interpreters: Vec<(String, PathBuf)>,
        /// Freeze an idle environment after this many milliseconds waiting for an event (0 = at once, as
        /// Lambda does). Omitted with --no-freeze.
        #[arg(
            long,
            env = "LAMINA_FREEZE_AFTER_MS",
            default_value_t = 50,
            conflicts_with = "no_freeze"
        )]
        freeze_after_ms: u64,
        /// Never freeze idle environments (measurements only).
        #[arg(long, env = "LAMINA_NO_FREEZE")]
        no_freeze: bool,
    },
    /// Manage access keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage customer keys for KMSKeyArn.
    Kms {
        #[command(subcommand)]
        command: KmsCommand,
    },
    /// Show a function's logs (START/END/REPORT and everything it printed).
    Logs {
        /// Function name (log group /aws/lambda/NAME unless --log-group is given).
        function: String,
        /// Keep printing new events.
        #[arg(long, short)]
        follow: bool,
        /// Log group to read instead of /aws/lambda/FUNCTION.
        #[arg(long)]
        log_group: Option<String>,
        /// Account (needed only when several accounts have this function).
        #[arg(long)]
        account: Option<String>,
        /// Region (needed only when several regions have this function).
        #[arg(long)]
        region: Option<String>,
        /// Where Lamina keeps its data.
        #[arg(long, env = "LAMINA_DATA_DIR", default_value = ".lamina")]
        data_dir: PathBuf,
    },
    /// Runtimes: which can run here, and installing their official runtime interface clients.
    Runtimes {
        #[command(subcommand)]
        command: RuntimesCommand,
    },
}

#[derive(Subcommand, Debug)]
enum RuntimesCommand {
    /// List runtimes and whether this host can run them.
    List {
        /// Where Lamina keeps its data.
        #[arg(long, env = "LAMINA_DATA_DIR", default_value = ".lamina")]
        data_dir: PathBuf,
        /// Interpreter overrides, e.g. python3.12=/opt/py312/bin/python3.
        #[arg(long = "interpreter", value_parser = parse_interpreter)]
        interpreters: Vec<(String, PathBuf)>,
    },
    /// Install the official runtime interface client of a runtime (e.g. python3.11, nodejs20.x).
    Install {
        /// Runtime name.
        runtime: String,
        /// Where Lamina keeps its data.
        #[arg(long, env = "LAMINA_DATA_DIR", default_value = ".lamina")]
        data_dir: PathBuf,
        /// Interpreter overrides, e.g. python3.12=/opt/py312/bin/python3.
        #[arg(long = "interpreter", value_parser = parse_interpreter)]
        interpreters: Vec<(String, PathBuf)>,
    },
}

fn parse_interpreter(s: &str) -> Result<(String, PathBuf), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| "expected RUNTIME=PATH".to_string())?;
    Ok((k.to_string(), PathBuf::from(v)))
}

/// Runtime clients live in `LAMINA_RUNTIME_CACHE` when set (shared by several data directories, e.g. in
/// tests), else in `DATA_DIR/runtimes`.
fn runtime_config(
    data_dir: &Path,
    interpreters: &[(String, PathBuf)],
) -> lamina_engine::runtimes::RuntimeConfig {
    let cache_dir = std::env::var_os("LAMINA_RUNTIME_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("runtimes"));
    lamina_engine::runtimes::RuntimeConfig {
        cache_dir,
        interpreters: interpreters.iter().cloned().collect(),
    }
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Create an access key (printed once, stored sealed).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The 12-digit account the key acts in (default: a new random account).
        #[arg(long)]
        account: Option<String>,
        /// Use this access key id instead of a generated one.
        #[arg(long, requires = "secret_access_key")]
        access_key_id: Option<String>,
        /// Use this secret instead of a generated one.
        #[arg(long, requires = "access_key_id")]
        secret_access_key: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum KmsCommand {
    /// Create a customer key; prints its ARN for KMSKeyArn.
    CreateKey {
        #[command(flatten)]
        store: StoreArgs,
        /// Region in the ARN.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Account in the ARN.
        #[arg(long)]
        account: String,
    },
    /// List customer key ARNs.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAMINA_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            store,
            dev,
            update_delay_ms,
            account_concurrency,
            idle_timeout_secs,
            max_lifetime_secs,
            interpreters,
            freeze_after_ms,
            no_freeze,
        } => {
            let config = ApiConfig {
                dev,
                update_delay: Duration::from_millis(update_delay_ms),
                account_concurrency,
            };
            let mut engine = lamina_engine::EngineConfig::new(store.data_dir.clone());
            engine.runtimes = runtime_config(&store.data_dir, &interpreters);
            engine.account_concurrency = account_concurrency;
            engine.idle_timeout = Duration::from_secs(idle_timeout_secs);
            engine.max_lifetime = Duration::from_secs(max_lifetime_secs);
            engine.freeze_after = (!no_freeze).then(|| Duration::from_millis(freeze_after_ms));
            serve(&listen, &store, config, engine)
        }
        Command::Logs {
            function,
            follow,
            log_group,
            account,
            region,
            data_dir,
        } => logs(&data_dir, &function, log_group, account, region, follow),
        Command::Runtimes {
            command:
                RuntimesCommand::List {
                    data_dir,
                    interpreters,
                },
        } => {
            let cfg = runtime_config(&data_dir, &interpreters);
            for s in lamina_engine::runtimes::list(&cfg) {
                let state = if s.ready { "ready" } else { "not ready" };
                println!(
                    "{:<16} {state:<10} interpreter: {:?}; client: {:?}",
                    s.name, s.interpreter, s.client
                );
                for w in &s.warnings {
                    println!("{:<16} warning: {w}", "");
                }
            }
            Ok(())
        }
        Command::Runtimes {
            command:
                RuntimesCommand::Install {
                    runtime,
                    data_dir,
                    interpreters,
                },
        } => {
            let cfg = runtime_config(&data_dir, &interpreters);
            let report = lamina_engine::runtimes::install(&runtime, &cfg)?;
            println!("{report:#?}");
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Create {
                    store,
                    account,
                    access_key_id,
                    secret_access_key,
                },
        } => {
            let s = store.open()?;
            let given = access_key_id.zip(secret_access_key);
            let (id, secret, account) = create_key(&s, account, given)?;
            println!("AccessKeyId: {id}\nSecretAccessKey: {secret}\nAccount: {account}");
            Ok(())
        }
        Command::Kms {
            command:
                KmsCommand::CreateKey {
                    store,
                    region,
                    account,
                },
        } => {
            let s = store.open()?;
            println!("{}", s.keyring.create_key(&region, &account)?);
            Ok(())
        }
        Command::Kms {
            command: KmsCommand::List { store },
        } => {
            let s = store.open()?;
            for k in s.keyring.list_keys()? {
                println!("{k}");
            }
            Ok(())
        }
    }
}

fn random_account() -> String {
    let (id, _) = lamina_auth::generate_access_key();
    // Derive 12 digits from fresh randomness; the leading digit is never 0.
    let digits: String = id.bytes().map(|b| char::from(b'0' + b % 10)).collect();
    let tail = &digits[digits.len() - 11..];
    format!("{}{}", 1 + (id.as_bytes()[4] % 9), tail)
}

/// Store an access key, sealed. Returns (id, secret, account).
fn create_key(
    store: &Store,
    account: Option<String>,
    given: Option<(String, String)>,
) -> anyhow::Result<(String, String, String)> {
    let account = account.unwrap_or_else(random_account);
    anyhow::ensure!(
        account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
        "--account must be 12 digits"
    );
    let (id, secret) = given.unwrap_or_else(lamina_auth::generate_access_key);
    anyhow::ensure!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "access key ids are letters and digits"
    );
    let sealed = store.keyring.seal(
        None,
        secret.as_bytes(),
        lamina_api::access_key_aad(&id).as_bytes(),
    )?;
    let row = records::AccessKeyRow {
        access_key_id: id.clone(),
        secret_sealed: sealed,
        account_id: account.clone(),
        principal_arn: format!("arn:aws:iam::{account}:root"),
    };
    let now = lamina_model::time::lambda_timestamp(chrono_now());
    store.tx(|db| records::insert_access_key(db, &row, &now))?;
    Ok((id, secret, account))
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// On first start, create an admin key and write it where only the operator can read it.
fn ensure_admin_key(store: &Store, data_dir: &Path) -> anyhow::Result<()> {
    if store.tx(records::count_access_keys)? > 0 {
        return Ok(());
    }
    let (id, secret, account) = create_key(store, None, None)?;
    let path = data_dir.join("admin-credentials");
    let text = format!("[lamina]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n# account {account}\n");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode_0600()
        .open(&path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    tracing::info!(path = %path.display(), account = %account, "created the admin access key (AWS credentials-file format, profile 'lamina')");
    Ok(())
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

fn serve(
    listen: &str,
    store_args: &StoreArgs,
    config: ApiConfig,
    engine_cfg: lamina_engine::EngineConfig,
) -> anyhow::Result<()> {
    let store = Arc::new(store_args.open()?);
    ensure_admin_key(&store, &store_args.data_dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let engine = lamina_engine::Engine::start(engine_cfg);
        let state = AppState::new(Arc::clone(&store), Arc::clone(&engine), config)?;
        let finished = tokio::task::block_in_place(|| lamina_api::complete_pending(&state))?;
        if finished > 0 {
            tracing::info!(
                count = finished,
                "completed updates interrupted by the last shutdown"
            );
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        println!("lamina listening on http://{addr}");
        std::io::stdout().flush()?;
        let app = lamina_api::app(state);
        let on_signal = {
            let engine = Arc::clone(&engine);
            async move {
                shutdown_signal().await;
                // Environments go first: open client connections may keep the HTTP server draining.
                engine.shutdown_all();
            }
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(on_signal)
            .await?;
        engine.shutdown_all();
        anyhow::Ok(())
    })
}

/// Find the (account, region) directories holding a log group.
fn log_locations(
    root: &Path,
    group: &str,
    account: Option<&str>,
    region: Option<&str>,
) -> Vec<(String, String)> {
    use lamina_engine::logs::{decode_component, group_dir};
    let mut out = Vec::new();
    let Ok(accounts) = std::fs::read_dir(root) else {
        return out;
    };
    for a in accounts.flatten() {
        let acct = decode_component(&a.file_name().to_string_lossy());
        if account.is_some_and(|x| x != acct) {
            continue;
        }
        let Ok(regions) = std::fs::read_dir(a.path()) else {
            continue;
        };
        for r in regions.flatten() {
            let reg = decode_component(&r.file_name().to_string_lossy());
            if region.is_some_and(|x| x != reg) {
                continue;
            }
            if group_dir(root, &acct, &reg, group).is_dir() {
                out.push((acct.clone(), reg));
            }
        }
    }
    out
}

fn logs(
    data_dir: &Path,
    function: &str,
    group: Option<String>,
    account: Option<String>,
    region: Option<String>,
    follow: bool,
) -> anyhow::Result<()> {
    let root = data_dir.join("logs");
    let group = group.unwrap_or_else(|| format!("/aws/lambda/{function}"));
    let found = log_locations(&root, &group, account.as_deref(), region.as_deref());
    let (acct, reg) = match found.as_slice() {
        [one] => one.clone(),
        [] => anyhow::bail!("no logs for log group {group} under {}", root.display()),
        many => anyhow::bail!(
            "log group {group} exists in several places ({}); pass --account and --region",
            many.iter()
                .map(|(a, r)| format!("{a}/{r}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut last = None;
    let mut out = std::io::stdout().lock();
    loop {
        let events = lamina_engine::logs::read_group(&root, &acct, &reg, &group, last)?;
        for e in &events {
            let ts = chrono::DateTime::from_timestamp_millis(e.timestamp)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default();
            writeln!(out, "{ts} {} {}", e.stream, e.message)?;
            last = Some(e.timestamp);
        }
        out.flush()?;
        if !follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
