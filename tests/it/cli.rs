//! Tests: cli. The built `chamado` binary, run as an operator would: in an
//! empty folder, configured only through `CHAMADO_*` variables.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use chamado::{
    AppState,
    blob::BlobStore,
    clock::Clock,
    config::{Config, DatabaseUrl},
    service,
    store::Db,
};
use tempfile::TempDir;

use crate::{
    storage::{create_empty_postgres_database, drop_postgres_database, with_database},
    support::postgres_url,
};

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chamado"));
    command.args(args).env_clear().current_dir(dir);
    for key in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.envs(env.iter().copied());
    command
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

/// Runs `chamado migrate` with one bad setting and checks the operator gets
/// exit status 2 and a single line naming `key`.
fn assert_config_error(env: &[(&str, &str)], key: &str) {
    let dir = TempDir::new().unwrap();
    let output = run(dir.path(), &["migrate"], env);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = stderr(&output);
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.contains(key), "{key} not named: {stderr:?}");
    let lower = stderr.to_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("backtrace"),
        "{stderr:?}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "a refused configuration created data/"
    );
}

/// Where the commands of one test keep their data: the default SQLite file in
/// the test's folder, or a fresh PostgreSQL database when testing on it.
struct CliDatabase {
    dir: TempDir,
    postgres: Option<(String, String)>,
    url: String,
}

impl CliDatabase {
    async fn new() -> Self {
        let dir = TempDir::new().unwrap();
        if let Some(admin_url) = postgres_url() {
            let name = create_empty_postgres_database(&admin_url, "cli").await;
            let url = with_database(&admin_url, &name);
            Self {
                dir,
                postgres: Some((admin_url, name)),
                url,
            }
        } else {
            let url = format!(
                "sqlite://{}",
                dir.path().join("data").join("chamado.db").display()
            );
            Self {
                dir,
                postgres: None,
                url,
            }
        }
    }

    /// Only PostgreSQL needs naming: SQLite is the default path.
    fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![
            ("CHAMADO_ARGON2_MEMORY_KIB", "64"),
            ("CHAMADO_ARGON2_ITERATIONS", "1"),
        ];
        if self.postgres.is_some() {
            env.push(("CHAMADO_DATABASE_URL", self.url.as_str()));
        }
        env
    }

    fn run(&self, args: &[&str]) -> Output {
        run(self.dir.path(), args, &self.env())
    }

    /// The state the commands wrote, opened as the server would.
    async fn state(&self) -> AppState {
        let db = match &self.postgres {
            Some(_) => Db::connect_postgres(&self.url, 2).await.unwrap(),
            None => Db::connect_sqlite(
                &self
                    .dir
                    .path()
                    .join("data")
                    .join("chamado.db")
                    .to_string_lossy(),
                false,
                sqlx::sqlite::SqliteSynchronous::Full,
                2,
            )
            .await
            .unwrap(),
        };
        let config = Config {
            database_url: DatabaseUrl(self.url.clone()),
            data_dir: self.dir.path().join("data"),
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..Config::default()
        };
        AppState::new(config, db, BlobStore::memory(), Clock::system()).unwrap()
    }

    async fn cleanup(self) {
        if let Some((admin_url, name)) = &self.postgres {
            drop_postgres_database(admin_url, name).await;
        }
    }
}

#[tokio::test]
async fn help_lists_every_command() {
    let dir = TempDir::new().unwrap();
    let output = run(dir.path(), &["--help"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let commands: Vec<String> = stdout(&output)
        .lines()
        .filter_map(|line| {
            line.strip_prefix("  ")?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .collect();
    for expected in ["serve", "migrate", "demo", "user", "org"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} missing from {commands:?}"
        );
    }
}

#[tokio::test]
async fn a_bad_bind_address_is_one_line_naming_chamado_bind() {
    assert_config_error(&[("CHAMADO_BIND", "not-an-address")], "CHAMADO_BIND");
}

#[tokio::test]
async fn a_non_numeric_idle_timeout_is_one_line_naming_its_variable() {
    assert_config_error(
        &[("CHAMADO_SESSION_IDLE_MINUTES", "soon")],
        "CHAMADO_SESSION_IDLE_MINUTES",
    );
}

#[tokio::test]
async fn an_unsupported_database_url_is_one_line_naming_its_variable() {
    assert_config_error(
        &[("CHAMADO_DATABASE_URL", "mysql://x")],
        "CHAMADO_DATABASE_URL",
    );
}

#[tokio::test]
async fn an_unknown_time_zone_is_one_line_naming_its_variable() {
    assert_config_error(
        &[("CHAMADO_DEFAULT_TIME_ZONE", "Mars/Olympus")],
        "CHAMADO_DEFAULT_TIME_ZONE",
    );
}

#[tokio::test]
async fn an_sso_login_url_without_a_secret_is_one_line_naming_the_secret() {
    assert_config_error(
        &[("CHAMADO_SSO_LOGIN_URL", "https://x.example/login")],
        "CHAMADO_SSO_SECRET",
    );
}

#[tokio::test]
async fn migrate_without_configuration_creates_the_default_database_and_says_so() {
    let dir = TempDir::new().unwrap();
    let output = run(dir.path(), &["migrate"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(dir.path().join("data").join("chamado.db").is_file());
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(all.contains("creating a new SQLite database"), "{all}");
    assert!(
        stdout(&output).contains("data/chamado.db"),
        "{}",
        describe(&output)
    );

    // A second run finds the database and changes nothing.
    let again = run(dir.path(), &["migrate"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        !format!("{}{}", stdout(&again), stderr(&again)).contains("creating a new SQLite database")
    );
}

#[tokio::test]
async fn migrate_refuses_a_sqlite_file_that_does_not_exist_elsewhere() {
    let dir = TempDir::new().unwrap();
    let output = run(
        dir.path(),
        &["migrate"],
        &[("CHAMADO_DATABASE_URL", "sqlite://elsewhere/missing.db")],
    );
    assert_ne!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        output.status.code().is_some(),
        "killed by a signal: {}",
        describe(&output)
    );
    assert!(
        stderr(&output).contains("elsewhere/missing.db"),
        "{}",
        describe(&output)
    );
    assert!(
        !stderr(&output).to_lowercase().contains("panicked"),
        "{}",
        describe(&output)
    );
    assert!(!dir.path().join("elsewhere").join("missing.db").exists());
    assert!(!dir.path().join("elsewhere").exists());
    assert!(!dir.path().join("data").exists());
}

#[tokio::test]
async fn org_and_user_create_write_an_organization_and_its_member() {
    let db = CliDatabase::new().await;
    let org = db.run(&[
        "org",
        "create",
        "--name",
        "Padaria",
        "--external-id",
        "org-1",
    ]);
    assert_eq!(org.status.code(), Some(0), "{}", describe(&org));
    assert!(stdout(&org).contains("Padaria"), "{}", describe(&org));

    let user = db.run(&[
        "user",
        "create",
        "--email",
        "a@b.example",
        "--name",
        "Ana",
        "--role",
        "customer",
        "--org",
        "org-1",
    ]);
    assert_eq!(user.status.code(), Some(0), "{}", describe(&user));
    assert!(stdout(&user).contains("a@b.example"), "{}", describe(&user));
    assert!(
        !stdout(&user).contains("password"),
        "a customer got a password: {}",
        describe(&user)
    );

    let state = db.state().await;
    let ana = chamado::store::users::find_by_email(&state.db, "a@b.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ana.name, "Ana");
    assert_eq!(ana.password_hash, None);
    let memberships = chamado::store::users::memberships(&state.db, ana.id)
        .await
        .unwrap();
    let orgs: Vec<(&str, Option<&str>)> = memberships
        .iter()
        .map(|m| {
            (
                m.organization_name.as_str(),
                m.organization_external_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(orgs, [("Padaria", Some("org-1"))]);
    state.db.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn user_create_with_an_unknown_org_names_it_and_writes_nothing() {
    let db = CliDatabase::new().await;
    assert!(
        db.run(&[
            "org",
            "create",
            "--name",
            "Padaria",
            "--external-id",
            "org-1"
        ])
        .status
        .success()
    );

    let refused = db.run(&[
        "user",
        "create",
        "--email",
        "a@b.example",
        "--name",
        "Ana",
        "--role",
        "customer",
        "--org",
        "nope",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(
        stderr(&refused).contains("\"nope\""),
        "{}",
        describe(&refused)
    );
    assert!(stderr(&refused).contains("--org"), "{}", describe(&refused));

    // Had the refused command written the user, the e-mail would now be taken.
    let created = db.run(&[
        "user",
        "create",
        "--email",
        "a@b.example",
        "--name",
        "Ana",
        "--role",
        "customer",
        "--org",
        "org-1",
    ]);
    assert_eq!(created.status.code(), Some(0), "{}", describe(&created));
    db.cleanup().await;
}

#[tokio::test]
async fn user_create_refuses_an_email_that_is_taken() {
    let db = CliDatabase::new().await;
    assert!(
        db.run(&[
            "org",
            "create",
            "--name",
            "Padaria",
            "--external-id",
            "org-1"
        ])
        .status
        .success()
    );
    let args = [
        "user",
        "create",
        "--email",
        "a@b.example",
        "--name",
        "Ana",
        "--role",
        "customer",
        "--org",
        "org-1",
    ];
    assert_eq!(db.run(&args).status.code(), Some(0));

    let again = db.run(&[
        "user",
        "create",
        "--email",
        "A@B.example",
        "--name",
        "Outra Ana",
        "--role",
        "customer",
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", describe(&again));
    assert!(stderr(&again).contains("--email"), "{}", describe(&again));
    let state = db.state().await;
    let ana = chamado::store::users::find_by_email(&state.db, "a@b.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ana.name, "Ana");
    state.db.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_agent_gets_a_generated_password_printed_once_that_logs_in() {
    let db = CliDatabase::new().await;
    let output = db.run(&[
        "user",
        "create",
        "--email",
        "fernanda@suporte.example",
        "--name",
        "Fernanda",
        "--role",
        "agent",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("password")).collect();
    assert_eq!(lines.len(), 1, "{out}");
    let password = lines[0].rsplit(' ').next().unwrap().trim();
    assert!(password.len() >= 10, "{password:?}");
    assert_eq!(
        out.matches(password).count(),
        1,
        "the password is printed more than once: {out}"
    );
    assert!(
        !stderr(&output).contains(password),
        "the password went to the log"
    );

    let state = db.state().await;
    let id = service::accounts::login(&state, "fernanda@suporte.example", password, "127.0.0.1")
        .await
        .unwrap();
    let user = chamado::store::users::find(&state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "agent");
    state.db.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_agent_password_from_stdin_is_used_and_not_printed() {
    let db = CliDatabase::new().await;
    let mut child = command(
        db.dir.path(),
        &[
            "user",
            "create",
            "--email",
            "gustavo@suporte.example",
            "--name",
            "Gustavo",
            "--role",
            "agent",
            "--password-stdin",
        ],
        &db.env(),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"senha-do-gustavo-123\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        !stdout(&output).contains("senha-do-gustavo-123"),
        "{}",
        describe(&output)
    );
    assert!(
        !stdout(&output).contains("password"),
        "{}",
        describe(&output)
    );

    let state = db.state().await;
    service::accounts::login(
        &state,
        "gustavo@suporte.example",
        "senha-do-gustavo-123",
        "127.0.0.1",
    )
    .await
    .unwrap();
    state.db.close().await;
    db.cleanup().await;
}

/// `url` with `password` set in its user information (trust authentication
/// accepts any password).
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (
            userinfo.split_once(':').map_or(userinfo, |(user, _)| user),
            host,
        ),
        None => ("postgres", authority),
    };
    format!("{scheme}://{user}:{password}@{host}{path}")
}

#[tokio::test]
async fn migrate_on_a_fresh_postgres_database_never_prints_its_password() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let name = create_empty_postgres_database(&admin_url, "cli").await;
    let url = with_password(&with_database(&admin_url, &name), "hunter2-do-not-print");
    let dir = TempDir::new().unwrap();

    let output = run(
        dir.path(),
        &["migrate"],
        &[("CHAMADO_DATABASE_URL", url.as_str())],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!all.contains("hunter2"), "the password was printed: {all}");
    assert!(stdout(&output).contains("migrations applied to"), "{all}");
    assert!(stdout(&output).contains(&name), "{all}");
    assert!(
        !dir.path().join("data").exists(),
        "PostgreSQL needs no data folder for migrate"
    );

    let db = Db::connect_postgres(&with_database(&admin_url, &name), 2)
        .await
        .unwrap();
    let outline = db.schema_outline().await.unwrap();
    assert!(
        outline.contains(&"column tickets.status".to_owned()),
        "{outline:?}"
    );
    db.close().await;
    drop_postgres_database(&admin_url, &name).await;
}
