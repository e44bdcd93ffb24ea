//! The `chamado` command: serve, migrate, demo, and user/organization admin.

use std::{fmt::Write as _, io::Read, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use chamado::{
    AppState,
    blob::BlobStore,
    clock::Clock,
    config::{Config, ConfigError, DatabaseUrl},
    domain::Role,
    service::{
        self,
        accounts::{AccountError, UserInput},
    },
    store::Db,
};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

/// mimalloc instead of the system allocator: a page allocates many small
/// strings and rows on several threads (the runtime's and each SQLite
/// connection's), where glibc's arenas contend and consolidate.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Chamado: a self-hosted help desk with a customer ticket portal.
///
/// Configuration comes from defaults, then `chamado.toml` (or --config), then
/// CHAMADO_* environment variables (see README.md).
#[derive(Debug, Parser)]
#[command(name = "chamado", version, about, long_about)]
struct Cli {
    /// Configuration file (TOML). Default: ./chamado.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Start the server on a fresh database filled with invented demo data.
    Demo(DemoArgs),
    /// Fill an empty database with a large, deterministic data set for
    /// benchmarks (see BENCHMARKS.md).
    BenchData(BenchDataArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Keep the demo database and files in this folder (default: a new
    /// temporary folder, deleted on exit). The folder must be empty or new.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Number of demo tickets.
    #[arg(long, default_value_t = 200)]
    tickets: usize,
}

#[derive(Debug, Args)]
struct BenchDataArgs {
    /// Number of tickets.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: usize,
    /// Number of organizations (sizes skewed: a few hold most tickets).
    #[arg(long, default_value_t = 10_000)]
    orgs: usize,
    /// Number of customers, each in one to three organizations.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Comments each ticket gets at least (tickets abandoned in triage have none).
    #[arg(long, default_value_t = 5)]
    comments_per_ticket: usize,
    /// The database to fill (default: `CHAMADO_DATABASE_URL`); a missing
    /// SQLite file is created. Files go to `CHAMADO_DATA_DIR/files`.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Seed of the generator: the same seed gives the same data set.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. Agents and admins get a local password: from
    /// --password-stdin, or generated and printed once.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
struct UserCreateArgs {
    /// E-mail address (unique).
    #[arg(long)]
    email: String,
    /// Full name.
    #[arg(long)]
    name: String,
    /// customer, agent or admin.
    #[arg(long, value_parser = ["customer", "agent", "admin"])]
    role: String,
    /// External id of an organization to join (repeatable).
    #[arg(long = "org", value_name = "EXTERNAL_ID")]
    orgs: Vec<String>,
    /// Agent group to join, such as Suporte or Tech (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    groups: Vec<String>,
    /// The user's id on the host platform (matches the SSO `external_id`).
    #[arg(long)]
    external_id: Option<String>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    password_stdin: bool,
    /// Create the user without a local password (SSO only).
    #[arg(long, conflicts_with = "password_stdin")]
    no_password: bool,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organization.
    Create(OrgCreateArgs),
}

#[derive(Debug, Args)]
struct OrgCreateArgs {
    /// Name shown to people.
    #[arg(long)]
    name: String,
    /// The organization's id on the host platform (matches SSO tokens).
    #[arg(long)]
    external_id: Option<String>,
    /// Members see only their own tickets by default, not the organization's.
    #[arg(long)]
    members_see_own_tickets_only: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => return config_error(&error),
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chamado: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("chamado: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(error: &ConfigError) -> ExitCode {
    eprintln!("chamado: configuration error: {error}");
    ExitCode::from(2)
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            let state = open(config).await?;
            serve(state, None).await?;
        }
        Command::Migrate => {
            let db = Db::connect(&config).await?;
            db.migrate().await?;
            println!("migrations applied to {}", config.database_url.redacted());
        }
        Command::Demo(args) => demo(config, args).await?,
        Command::BenchData(args) => return bench_data(config, args).await,
        Command::User(UserCommand::Create(args)) => return create_user(config, args).await,
        Command::Org(OrgCommand::Create(args)) => {
            let state = open(config).await?;
            match service::accounts::create_org(
                &state,
                &args.name,
                args.external_id.as_deref(),
                !args.members_see_own_tickets_only,
            )
            .await
            {
                Ok(id) => println!("organization {id} created: {}", args.name.trim()),
                Err(error) => return Ok(account_error(error)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn bench_data(mut config: Config, args: BenchDataArgs) -> anyhow::Result<ExitCode> {
    use chamado::service::bench_data::{self, BenchError, BenchSpec};
    use std::io::Write as _;

    if let Some(url) = args.database_url {
        config.database_url = DatabaseUrl(url);
    }
    let url = config.database_url.0.clone();
    let db = if url.starts_with("sqlite:") {
        let path = chamado::store::sqlite_path(&url);
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Db::connect_sqlite_bulk(path, 64).await?
    } else {
        Db::connect(&config).await?
    };
    db.migrate().await.context("applying migrations")?;
    let blobs = BlobStore::local(&config.data_dir.join("files"))?;
    let state = AppState::new(config, db, blobs, Clock::system())?;
    let spec = BenchSpec {
        tickets: args.tickets,
        orgs: args.orgs,
        users: args.users,
        comments_per_ticket: args.comments_per_ticket,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let mut stderr = std::io::stderr();
    let outcome = bench_data::generate(&state, spec, |done, total| {
        let elapsed = started.elapsed().as_secs_f64().max(0.001);
        #[expect(clippy::cast_precision_loss, reason = "a progress display")]
        let (rate, percent) = (
            done as f64 / elapsed,
            100.0 * done as f64 / (total.max(1) as f64),
        );
        #[expect(clippy::cast_precision_loss, reason = "a progress display")]
        let eta = (total - done) as f64 / rate.max(1.0);
        let filled = (done * 20 / total.max(1)).min(20);
        let _ = write!(
            stderr,
            "\r[{}{}] {done}/{total} tickets {percent:5.1}%  {rate:8.0}/s  ETA {eta:4.0} s ",
            "#".repeat(filled),
            " ".repeat(20 - filled),
        );
        if done == total {
            let _ = write!(stderr, "— building indexes…");
        }
        let _ = stderr.flush();
    })
    .await;
    eprintln!();
    match outcome {
        Ok(summary) => {
            println!(
                "bench data set ready in {:.1} s: {} tickets, {} organizations, {} customers, \
                 {} memberships, {} attachments, {} Help Center articles",
                summary.seconds,
                summary.tickets,
                summary.orgs,
                summary.customers,
                summary.memberships,
                summary.attachments,
                summary.articles
            );
            println!(
                "largest organization: #{} {}",
                summary.largest_org.0, summary.largest_org.1
            );
            println!(
                "sign in as {} (customer of the largest organization), {} (agent) or {} (admin); \
                 password {}",
                bench_data::BENCH_CUSTOMER,
                bench_data::BENCH_AGENT,
                bench_data::BENCH_ADMIN,
                bench_data::BENCH_PASSWORD
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ (BenchError::NotEmpty | BenchError::Invalid(_))) => {
            eprintln!("chamado: bench-data: {error}");
            Ok(ExitCode::from(2))
        }
        Err(error) => Err(anyhow::anyhow!(error)),
    }
}

fn account_error(error: AccountError) -> ExitCode {
    match error {
        AccountError::Invalid { field, message } => {
            eprintln!("chamado: --{field}: {message}");
            ExitCode::from(2)
        }
        other => {
            eprintln!("chamado: {other:#}");
            ExitCode::FAILURE
        }
    }
}

/// Connects, migrates, and builds the state with the local blob store.
async fn open(config: Config) -> anyhow::Result<AppState> {
    let db = Db::connect(&config).await?;
    db.migrate().await.context("applying migrations")?;
    let blobs = BlobStore::local(&config.data_dir.join("files"))?;
    let state = AppState::new(config, db, blobs, Clock::system())?;
    // Branding saved by an admin overrides the configuration.
    service::admin::refresh_branding(&state).await?;
    Ok(state)
}

async fn serve(state: AppState, after_start: Option<String>) -> anyhow::Result<()> {
    let addr: SocketAddr = state.config.bind.parse().context("CHAMADO_BIND")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (CHAMADO_BIND)"))?;
    tracing::info!(%addr, database = %state.config.database_url, "Chamado is listening");
    if let Some(message) = after_start {
        println!("{message}");
    }
    let db = state.db.clone();
    let hub = state.hub.clone();
    tokio::spawn(housekeeping(state.clone()));
    chamado::jobs::spawn(&state);
    chamado::realtime::spawn(&state);
    service::admin::spawn_branding_refresh(&state);
    chamado::mail::spawn(&state);
    let limits = chamado::server::ServerLimits::from_config(&state.config);
    let router = chamado::app(state);
    chamado::server::serve(listener, router, limits, async move {
        shutdown_signal().await;
        // Live streams end at once instead of holding the shutdown.
        hub.close();
    })
    .await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Every ten minutes, removes expired sessions and spent SSO token ids.
async fn housekeeping(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_mins(10));
    loop {
        every.tick().await;
        if let Err(error) = service::sessions::prune(&state).await {
            tracing::warn!(%error, "housekeeping failed; will retry");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn demo(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    // A temporary folder lives as long as this function, i.e. until the
    // server stops.
    let temp;
    let data_dir = if let Some(dir) = args.data_dir {
        if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
            anyhow::bail!(
                "--data-dir {} is not empty; the demo needs a fresh folder",
                dir.display()
            );
        }
        std::fs::create_dir_all(&dir)?;
        dir
    } else {
        temp = tempfile::Builder::new().prefix("chamado-demo-").tempdir()?;
        temp.path().to_path_buf()
    };
    let db_path = data_dir.join("chamado.db");
    config.database_url = DatabaseUrl(format!("sqlite://{}", db_path.display()));
    config.data_dir.clone_from(&data_dir);
    let base = config.base().to_owned();
    // The demo plays its own host platform: it signs SSO tokens with a
    // secret made for this run, and its host page is the SSO login/logout.
    config.sso_secret = Some(SecretString::from(service::random_hex(32)));
    config.sso_login_url = Some(format!("{base}/demo/host"));
    config.sso_logout_url = Some(format!("{base}/demo/host/logout"));
    let state = open(config).await?.in_demo_mode();
    let started = std::time::Instant::now();
    let summary = service::demo::seed(&state, args.tickets).await?;
    tracing::info!(
        tickets = summary.tickets,
        attachments = summary.attachments,
        elapsed_ms = started.elapsed().as_millis(),
        "demo data created"
    );
    let mut message = format!(
        "\nChamado demo is running.\n\n  Host platform (single sign-on): {base}/demo/host\n  Ticket portal:                  {base}/portal/tickets\n  Local login:                    {base}/login\n\n  Demo logins (password: {}):\n",
        service::demo::DEMO_PASSWORD
    );
    for (name, email, role) in &summary.logins {
        let _ = writeln!(message, "    {email:<28} {name} ({})", role.key());
    }
    let _ = writeln!(
        message,
        "\n  Data: {} ({} tickets). Stop with Ctrl+C.",
        data_dir.display(),
        summary.tickets
    );
    serve(state, Some(message)).await
}

async fn create_user(config: Config, args: UserCreateArgs) -> anyhow::Result<ExitCode> {
    let role = Role::from_key(&args.role).context("--role")?;
    let generated;
    let password = if args.no_password {
        None
    } else if args.password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        generated = input.trim_end_matches(['\n', '\r']).to_owned();
        Some(generated.as_str())
    } else if role.is_staff() {
        generated = service::random_hex(10);
        Some(generated.as_str())
    } else {
        None
    };
    let state = open(config).await?;
    let input = UserInput {
        email: &args.email,
        name: &args.name,
        role,
        password,
        external_id: args.external_id.as_deref(),
        organizations: &args.orgs,
        groups: &args.groups,
    };
    match service::accounts::create_user(&state, &input).await {
        Ok(id) => {
            println!(
                "user {id} created: {} <{}> ({})",
                args.name.trim(),
                args.email.trim(),
                role.key()
            );
            if password.is_some() && !args.password_stdin {
                println!("password (shown once): {}", password.unwrap_or_default());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(account_error(error)),
    }
}
