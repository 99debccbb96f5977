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
        } => {
            let config = ApiConfig {
                dev,
                update_delay: Duration::from_millis(update_delay_ms),
                account_concurrency,
            };
            serve(&listen, &store, config)
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

fn serve(listen: &str, store_args: &StoreArgs, config: ApiConfig) -> anyhow::Result<()> {
    let store = Arc::new(store_args.open()?);
    ensure_admin_key(&store, &store_args.data_dir)?;
    let state = AppState::new(Arc::clone(&store), config)?;
    let finished = lamina_api::complete_pending(&state)?;
    if finished > 0 {
        tracing::info!(
            count = finished,
            "completed updates interrupted by the last shutdown"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        println!("lamina listening on http://{addr}");
        std::io::stdout().flush()?;
        let app = lamina_api::app(state);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        anyhow::Ok(())
    })
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
