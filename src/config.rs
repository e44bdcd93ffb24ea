//! Configuration: defaults, then `chamado.toml` (or `--config`), then
//! `CHAMADO_*` environment variables.
//!
//! Built once in `main`, validated, then shared as `Arc<Config>`; nothing else
//! in the crate reads the environment. A bad value is reported as one line that
//! names the environment variable, so an operator can fix it without reading
//! a backtrace.

use std::{fmt, net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Where the database lives; `Debug` hides any password in the URL.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL with its password replaced, for logs and `Debug`.
    pub fn redacted(&self) -> String {
        redact_url_password(&self.0)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

/// Every setting, with its default. Field names are the TOML keys; the
/// environment variable is the upper-cased name with a `CHAMADO_` prefix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://path` or `postgres://…`.
    pub database_url: DatabaseUrl,
    /// Address the HTTP server listens on.
    pub bind: String,
    /// Public URL of this Chamado, used in links and to decide on `Secure` cookies.
    pub base_url: String,
    /// Folder for attachments (`files/`) and the default SQLite database.
    pub data_dir: PathBuf,
    /// HS256 secret the host platform signs SSO tokens with.
    #[serde(serialize_with = "serialize_secret")]
    pub sso_secret: Option<SecretString>,
    /// File holding the SSO secret (for secrets mounted as files).
    pub sso_secret_file: Option<PathBuf>,
    /// The host platform's login page; unauthenticated visitors are sent there.
    pub sso_login_url: Option<String>,
    /// The host platform's logout page; Chamado's logout ends there.
    pub sso_logout_url: Option<String>,
    /// Required `aud` claim of SSO tokens, when set.
    pub sso_audience: Option<String>,
    /// Required `iss` claim of SSO tokens, when set.
    pub sso_issuer: Option<String>,
    /// Oldest `iat` accepted, in seconds.
    pub sso_max_age_secs: u32,
    /// Support phone number shown to customers.
    pub support_phone: String,
    /// Product name shown in the header and titles.
    pub product_name: String,
    /// Name of the host platform, used in advice such as "log out of Kamino".
    pub host_platform_name: String,
    /// Language for visitors who have not chosen one: `pt-BR` or `en`.
    pub default_locale: String,
    /// Time zone for showing times and for business hours.
    pub default_time_zone: String,
    /// A session ends after this long without a request.
    pub session_idle_minutes: u32,
    /// A session ends this long after login, however busy.
    pub session_absolute_hours: u32,
    /// Wrong passwords an account may get from one client address before
    /// each further one makes that pair wait (1 s, doubling).
    pub login_failures_before_wait: u32,
    /// Longest wait of an account and address pair, in seconds.
    pub login_max_wait_secs: u32,
    /// Failed logins allowed per client address within the window, whatever
    /// the accounts (successful logins are not counted).
    pub login_max_failures_per_address: u32,
    /// Length of the per-address login window; also how long a pair's
    /// failures are remembered after its last wait ended.
    pub login_window_minutes: u32,
    /// Contact requests a user may send per hour.
    pub contact_request_max_per_hour: u32,
    /// Replies a customer may post per minute, portal and widget together.
    pub message_max_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Maximum number of database connections. Unset: 16 on PostgreSQL; on
    /// SQLite three per core, from 4 to 16 (each SQLite connection is a
    /// thread with its own page cache: more than the cores can run only
    /// adds thread switching and memory).
    pub database_max_connections: Option<u32>,
    /// `synchronous` pragma for SQLite: `full` (default, no acknowledged write
    /// lost on power failure) or `normal`.
    pub sqlite_synchronous: String,
    /// Largest attachment accepted, in bytes.
    pub upload_max_file_bytes: u64,
    /// Most attachments accepted with one message.
    pub upload_max_files: u32,
    /// A customer's reply reopens a solved ticket within this many days;
    /// after that the portal offers a new ticket instead.
    pub reopen_window_days: u32,
    /// SMTP server for notifications, e.g. `smtps://user:pass@mail.example.com`
    /// or `smtp://127.0.0.1:2525` (plain, for a local relay). Without it,
    /// notifications wait in the outbox.
    #[serde(serialize_with = "serialize_secret")]
    pub smtp_url: Option<SecretString>,
    /// Sender of notification e-mails.
    pub mail_from: String,
    /// How often background jobs look for work, in seconds.
    pub jobs_interval_secs: u32,
    /// Log filter, as for `RUST_LOG` (e.g. `info,chamado=debug`).
    pub log: String,
    /// Comma-separated origins (`https://app.example.com`) of host pages
    /// allowed to embed the help widget; empty means only this Chamado's
    /// own origin.
    pub widget_origins: String,
    /// Seconds a client has to send a request's headers, counted from the
    /// connection's opening or the end of its previous response (so it is
    /// also how long an idle keep-alive connection stays open).
    pub header_read_timeout_secs: u32,
    /// Seconds a client has to send the whole body of a form or JSON request.
    pub body_read_timeout_secs: u32,
    /// Seconds a client has to send the whole body of a request with files.
    pub upload_read_timeout_secs: u32,
    /// A connection on which nothing is read or written for this many
    /// seconds is closed (a response the client stops reading, a request
    /// whose body stalls).
    pub idle_timeout_secs: u32,
    /// Connections served at once; further ones wait to be accepted.
    pub max_connections: u32,
}

#[expect(clippy::ref_option, reason = "serde's serialize_with passes &Option")]
fn serialize_secret<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DatabaseUrl("sqlite://data/chamado.db".into()),
            bind: "127.0.0.1:8080".into(),
            base_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            sso_secret: None,
            sso_secret_file: None,
            sso_login_url: None,
            sso_logout_url: None,
            sso_audience: None,
            sso_issuer: None,
            sso_max_age_secs: 300,
            support_phone: "0800 369 0000".into(),
            product_name: "Chamado".into(),
            host_platform_name: "Kamino".into(),
            default_locale: "pt-BR".into(),
            default_time_zone: "America/Sao_Paulo".into(),
            session_idle_minutes: 120,
            session_absolute_hours: 24 * 7,
            login_failures_before_wait: 5,
            login_max_wait_secs: 15 * 60,
            login_max_failures_per_address: 20,
            login_window_minutes: 15,
            contact_request_max_per_hour: 5,
            message_max_per_minute: 20,
            trust_forwarded_for: false,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            database_max_connections: None,
            sqlite_synchronous: "full".into(),
            upload_max_file_bytes: 20 * 1024 * 1024,
            upload_max_files: 10,
            reopen_window_days: 7,
            smtp_url: None,
            mail_from: "Chamado <suporte@chamado.invalid>".into(),
            jobs_interval_secs: 30,
            log: "info".into(),
            widget_origins: String::new(),
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            upload_read_timeout_secs: 600,
            idle_timeout_secs: 60,
            max_connections: 10_000,
        }
    }
}

/// A configuration problem, reported as one line naming the key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The environment variable that sets the faulty value.
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            key: env_name(field),
            message: message.into(),
        }
    }
}

fn env_name(field: &str) -> String {
    format!("CHAMADO_{}", field.to_ascii_uppercase())
}

impl Config {
    /// Loads defaults, then the TOML file (`path`, or `chamado.toml` when it
    /// exists), then the process environment.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match path {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError {
                        key: "--config".into(),
                        message: format!("file {} does not exist", path.display()),
                    });
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if std::path::Path::new("chamado.toml").exists() => {
                figment = figment.merge(Toml::file_exact("chamado.toml"));
            }
            None => {}
        }
        Self::from_figment(&figment.merge(Env::prefixed("CHAMADO_").ignore(&["test_database_url"])))
    }

    /// Extracts and validates a configuration from any figment (tests build
    /// their own with `Figment::from(Serialized::defaults(..)).merge(..)`).
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let mut config: Config = figment.extract().map_err(|error| {
            let field = error.path.first().cloned().unwrap_or_default();
            let message = match &error.kind {
                figment::error::Kind::InvalidType(actual, expected) => {
                    format!("invalid value ({actual}); expected {expected}")
                }
                other => other.to_string(),
            };
            if field.is_empty() {
                ConfigError {
                    key: "configuration".into(),
                    message,
                }
            } else {
                ConfigError::new(&field, message)
            }
        })?;
        if let Some(file) = &config.sso_secret_file {
            let secret = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::new(
                    "sso_secret_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            config.sso_secret = Some(SecretString::from(secret.trim().to_owned()));
        }
        config.validate()?;
        Ok(config)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one check per setting, in the order of the struct"
    )]
    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.database_url.0;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database_url",
                format!(
                    "\"{}\" is not a database URL; use sqlite://path/to/file.db or postgres://user@host/db",
                    self.database_url.redacted()
                ),
            ));
        }
        if self.bind.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "bind",
                format!("\"{}\" is not an address like 127.0.0.1:8080", self.bind),
            ));
        }
        check_http_url("base_url", &self.base_url)?;
        if let Some(login) = &self.sso_login_url {
            check_http_url("sso_login_url", login)?;
        }
        if let Some(logout) = &self.sso_logout_url {
            check_http_url("sso_logout_url", logout)?;
        }
        if let Some(secret) = &self.sso_secret
            && secret.expose_secret().len() < 32
        {
            return Err(ConfigError::new(
                "sso_secret",
                "must be at least 32 characters long",
            ));
        }
        if self.sso_login_url.is_some() && self.sso_secret.is_none() {
            return Err(ConfigError::new(
                "sso_secret",
                "is required when CHAMADO_SSO_LOGIN_URL is set",
            ));
        }
        if self.support_phone.trim().is_empty() {
            return Err(ConfigError::new("support_phone", "must not be empty"));
        }
        if self.product_name.trim().is_empty() {
            return Err(ConfigError::new("product_name", "must not be empty"));
        }
        if crate::domain::Lang::parse(&self.default_locale).is_none() {
            return Err(ConfigError::new(
                "default_locale",
                format!(
                    "\"{}\" is not supported; use pt-BR or en",
                    self.default_locale
                ),
            ));
        }
        if jiff::tz::TimeZone::get(&self.default_time_zone).is_err() {
            return Err(ConfigError::new(
                "default_time_zone",
                format!(
                    "\"{}\" is not an IANA time zone such as America/Sao_Paulo",
                    self.default_time_zone
                ),
            ));
        }
        for (field, value) in [
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            (
                "login_failures_before_wait",
                self.login_failures_before_wait,
            ),
            ("login_max_wait_secs", self.login_max_wait_secs),
            (
                "login_max_failures_per_address",
                self.login_max_failures_per_address,
            ),
            ("login_window_minutes", self.login_window_minutes),
            (
                "contact_request_max_per_hour",
                self.contact_request_max_per_hour,
            ),
            ("message_max_per_minute", self.message_max_per_minute),
            ("argon2_iterations", self.argon2_iterations),
            (
                "database_max_connections",
                self.database_max_connections.unwrap_or(1),
            ),
            ("sso_max_age_secs", self.sso_max_age_secs),
            ("upload_max_files", self.upload_max_files),
            ("jobs_interval_secs", self.jobs_interval_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "must be greater than zero"));
            }
        }
        if let Some(url) = &self.smtp_url {
            let url = url.expose_secret();
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::new(
                    "smtp_url",
                    "must start with smtp:// or smtps:// (the value is not shown: it may hold a password)",
                ));
            }
        }
        if !self.mail_from.contains('@') {
            return Err(ConfigError::new(
                "mail_from",
                "must be an e-mail address such as Suporte <suporte@example.com>",
            ));
        }
        if self.upload_max_file_bytes == 0 {
            return Err(ConfigError::new(
                "upload_max_file_bytes",
                "must be greater than zero",
            ));
        }
        if self.argon2_memory_kib < 8 {
            return Err(ConfigError::new("argon2_memory_kib", "must be at least 8"));
        }
        if !matches!(self.sqlite_synchronous.as_str(), "full" | "normal") {
            return Err(ConfigError::new(
                "sqlite_synchronous",
                "must be \"full\" or \"normal\"",
            ));
        }
        for entry in self.widget_origins.split(',').map(str::trim) {
            if !entry.is_empty() && parse_origin(entry).is_none() {
                return Err(ConfigError::new(
                    "widget_origins",
                    format!(
                        "\"{entry}\" is not an origin like https://app.example.com (scheme, host and optional port, no path)"
                    ),
                ));
            }
        }
        for (field, value) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("upload_read_timeout_secs", self.upload_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_connections", self.max_connections),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "must be at least 1"));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(ConfigError::new(
                "log",
                format!("\"{}\" is not a log filter", self.log),
            ));
        }
        Ok(())
    }

    /// Whether cookies must carry `Secure`.
    pub fn https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The default language.
    pub fn lang(&self) -> crate::domain::Lang {
        crate::domain::Lang::parse(&self.default_locale).unwrap_or_default()
    }

    /// This Chamado's own origin (`scheme://host[:port]`, lower case, default
    /// port omitted), as browsers send it in the `Origin` header.
    pub fn origin(&self) -> String {
        let base = self.base();
        let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        parse_origin(&format!("{scheme}://{authority}"))
            .unwrap_or_else(|| format!("{}://{}", scheme.to_ascii_lowercase(), authority))
    }

    /// The origins allowed to embed the help widget, normalized: the
    /// configured `widget_origins`, or Chamado's own origin when none is set.
    pub fn allowed_widget_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .widget_origins
            .split(',')
            .filter_map(|entry| parse_origin(entry.trim()))
            .collect();
        if origins.is_empty() {
            origins.push(self.origin());
        }
        origins.dedup();
        origins
    }

    /// Whether `origin` (as sent by a browser) may embed the help widget.
    pub fn is_allowed_widget_origin(&self, origin: &str) -> bool {
        parse_origin(origin.trim())
            .is_some_and(|origin| self.allowed_widget_origins().contains(&origin))
    }

    /// The default time zone (validated at load).
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.default_time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// Normalizes `scheme://host[:port]` (http or https, no path, query or user
/// info): lower case, the scheme's default port dropped. `None` when `value`
/// is not such an origin.
pub fn parse_origin(value: &str) -> Option<String> {
    let (scheme, authority) = value.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = authority.to_ascii_lowercase();
    if authority.is_empty()
        || authority.contains(|c: char| {
            c.is_whitespace() || matches!(c, '/' | '?' | '#' | '@' | '\\' | ',')
        })
    {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority.as_str(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    match port {
        Some(port) if port.is_empty() || port.parse::<u16>().is_err() => None,
        Some(port) if port == default_port => Some(format!("{scheme}://{host}")),
        Some(port) => Some(format!("{scheme}://{host}:{port}")),
        None => Some(format!("{scheme}://{host}")),
    }
}

fn check_http_url(field: &str, value: &str) -> Result<(), ConfigError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !value.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(ConfigError::new(
            field,
            format!("\"{value}\" is not an http:// or https:// URL"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_database_password_and_sso_secret() {
        let config = Config {
            database_url: DatabaseUrl("postgres://chamado:s3cret@db:5432/chamado".into()),
            sso_secret: Some(SecretString::from("x".repeat(40))),
            ..Config::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(!debug.contains(&"x".repeat(40)), "{debug}");
        assert!(
            debug.contains("postgres://chamado:***@db:5432/chamado"),
            "{debug}"
        );
    }

    #[test]
    fn widget_origins_are_validated_and_normalized() {
        let config = Config {
            base_url: "https://Suporte.Example.com:443/chamado/".into(),
            ..Config::default()
        };
        assert_eq!(config.origin(), "https://suporte.example.com");
        assert_eq!(
            config.allowed_widget_origins(),
            vec!["https://suporte.example.com".to_owned()]
        );
        let config = Config {
            widget_origins: " https://App.example.com , http://localhost:3000".into(),
            ..config
        };
        assert_eq!(
            config.allowed_widget_origins(),
            vec![
                "https://app.example.com".to_owned(),
                "http://localhost:3000".to_owned()
            ]
        );
        assert!(config.is_allowed_widget_origin("https://app.example.com:443"));
        assert!(!config.is_allowed_widget_origin("https://suporte.example.com"));
        assert!(!config.is_allowed_widget_origin("https://evil.example.com"));
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "ftp://app.example.com",
            "https://app.example.com:99999",
            "https://user@app.example.com",
        ] {
            let figment = Figment::from(Serialized::defaults(Config::default()))
                .merge(Serialized::default("widget_origins", bad));
            let error = Config::from_figment(&figment).expect_err(bad);
            assert_eq!(error.key, "CHAMADO_WIDGET_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn bad_bind_names_the_environment_variable() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default("bind", "not-an-address"));
        let error = Config::from_figment(&figment).expect_err("must fail");
        assert_eq!(error.key, "CHAMADO_BIND");
    }

    #[test]
    fn wrong_type_names_the_environment_variable() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default("session_idle_minutes", "soon"));
        let error = Config::from_figment(&figment).expect_err("must fail");
        assert_eq!(error.key, "CHAMADO_SESSION_IDLE_MINUTES");
    }
}
