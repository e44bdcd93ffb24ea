//! The delivery worker: leases due outbox rows, hands each to the SMTP
//! server, and records the outcome (sent, retry later, or given up).

use std::time::{Duration, Instant, SystemTime};

use jiff::{SignedDuration, Timestamp};
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox,
        header::{ContentType, HeaderName, HeaderValue},
    },
};
use secrecy::ExposeSecret;

use super::{DeliveryReport, MailError};
use crate::{
    AppState,
    config::Config,
    store::{self, mail::ClaimedMail},
};

/// Rows leased per run.
const BATCH: i64 = 20;

/// How long a lease lasts. A node that dies holding rows leaves them for
/// this long; then another node sends them (again, if the dead one got as
/// far as the SMTP server's acceptance).
pub const LEASE: SignedDuration = SignedDuration::from_mins(10);

/// A run stops starting new sends after this long and gives the rest of
/// its lease back, so no row is sent while its lease may already have run
/// out (half the lease leaves room for one slow send).
const SEND_WINDOW: Duration = Duration::from_mins(5);

/// Each SMTP command's time limit.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Failed attempts after which a message is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 10;

/// Longest last error kept per row.
const MAX_ERROR_CHARS: usize = 500;

/// The wait after the `failed`-th failed attempt: one minute, doubling,
/// at most an hour.
pub fn backoff(failed: i32) -> SignedDuration {
    let doublings = u32::try_from(failed.saturating_sub(1)).unwrap_or(0).min(6);
    SignedDuration::from_mins(1_i64 << doublings).min(SignedDuration::from_hours(1))
}

/// An SMTP client for the configured server. Its pool keeps connections
/// open between runs, so the worker loop builds one and keeps it.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Right-hand side of Message-IDs: the host of `base_url`.
    domain: String,
    /// The SMTP password, to be blanked out of any error text.
    password: Option<String>,
}

impl Mailer {
    /// `None` when no SMTP server is configured: messages then wait.
    pub fn from_config(config: &Config) -> Result<Option<Self>, MailError> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let url = url.expose_secret();
        // lettre's own error is not passed on: it may quote the URL.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailError::SmtpUrl)?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = config.mail_from.parse().map_err(|_| MailError::MailFrom)?;
        Ok(Some(Self {
            transport,
            from,
            domain: message_id_domain(&config.base_url),
            password: smtp_password(url),
        }))
    }

    /// Leases due rows to `holder` and sends them, one by one.
    pub async fn deliver(
        &self,
        state: &AppState,
        holder: &str,
    ) -> Result<DeliveryReport, MailError> {
        let db = &state.db;
        let started = Instant::now();
        let now = state.clock.now();
        let lease_until = now.checked_add(LEASE).unwrap_or(now);
        let claimed = store::mail::claim(db, holder, now, lease_until, BATCH).await?;
        let mut report = DeliveryReport {
            claimed: claimed.len(),
            ..DeliveryReport::default()
        };
        for (index, mail) in claimed.iter().enumerate() {
            if started.elapsed() > SEND_WINDOW {
                for rest in &claimed[index..] {
                    store::mail::release(db, rest.id, holder).await?;
                    report.released += 1;
                }
                break;
            }
            let message = match self.message(mail, state.clock.now()) {
                Ok(message) => message,
                Err(reason) => {
                    // No retry makes a malformed address valid.
                    tracing::warn!(
                        outbox_id = mail.id,
                        reason,
                        "e-mail cannot be built; given up"
                    );
                    store::mail::mark_attempt_failed(db, mail.id, holder, None, reason).await?;
                    report.failed += 1;
                    continue;
                }
            };
            match self.transport.send(message).await {
                Ok(_) => {
                    store::mail::mark_sent(db, mail.id, state.clock.now()).await?;
                    report.sent += 1;
                }
                Err(error) => {
                    let error = self.describe(&error);
                    let failed = mail.attempts.saturating_add(1);
                    let next = (failed < MAX_ATTEMPTS).then(|| {
                        let now = state.clock.now();
                        now.checked_add(backoff(failed)).unwrap_or(now)
                    });
                    store::mail::mark_attempt_failed(db, mail.id, holder, next, &error).await?;
                    if next.is_some() {
                        tracing::warn!(
                            outbox_id = mail.id,
                            attempts = failed,
                            error,
                            "e-mail not sent; will retry"
                        );
                        report.retrying += 1;
                    } else {
                        tracing::error!(
                            outbox_id = mail.id,
                            attempts = failed,
                            error,
                            "e-mail not sent; given up"
                        );
                        report.failed += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// The message for one row. The Message-ID comes from the row id, so a
    /// message sent twice (see the module notes) carries the same id both
    /// times; References names the ticket, so mail clients thread a
    /// ticket's messages together.
    fn message(&self, mail: &ClaimedMail, now: Timestamp) -> Result<Message, &'static str> {
        let address: Address = mail
            .recipient_email
            .trim()
            .parse()
            .map_err(|_| "invalid recipient address")?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address))
            .subject(mail.subject.as_str())
            .message_id(Some(format!("<outbox-{}@{}>", mail.id, self.domain)))
            .references(format!("<ticket-{}@{}>", mail.ticket_id, self.domain))
            .date(SystemTime::from(now))
            // RFC 3834: out-of-office replies must not answer this.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body_text.clone())
            .map_err(|_| "message cannot be built")
    }

    /// An SMTP error as stored and logged: one line, bounded, and without
    /// the password even if a server were to echo it.
    fn describe(&self, error: &lettre::transport::smtp::Error) -> String {
        let mut text = error.to_string();
        if let Some(password) = self.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(password, "***");
        }
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_ERROR_CHARS)
            .collect();
        text
    }
}

/// The host of `base_url`, without port or user info: what follows the `@`
/// in our Message-IDs.
fn message_id_domain(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host.is_empty() {
        "chamado.invalid".to_owned()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The password in an SMTP URL, percent-decoding left out on purpose: it
/// is matched against error text, which quotes what the server saw.
fn smtp_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, p)| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_minute_up_to_an_hour() {
        let minutes: Vec<i64> = (1..=10).map(|n| backoff(n).as_mins()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(backoff(0).as_mins(), 1);
    }

    #[test]
    fn message_ids_use_the_host_of_the_base_url() {
        assert_eq!(
            message_id_domain("https://suporte.example.com/"),
            "suporte.example.com"
        );
        assert_eq!(message_id_domain("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(
            message_id_domain("http://u:p@Help.Example:81/x"),
            "help.example"
        );
        assert_eq!(message_id_domain("http://[::1]:8080"), "[::1]");
    }

    fn config_with(url: &str) -> Config {
        Config {
            smtp_url: Some(secrecy::SecretString::from(url.to_owned())),
            ..Config::default()
        }
    }

    #[tokio::test]
    async fn tls_urls_build_a_client_on_the_one_crypto_provider() {
        // rustls panics here if no provider, or two, were compiled in.
        for url in [
            "smtps://user:s3cret@mail.example.com",
            "smtp://mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
        ] {
            assert!(
                matches!(Mailer::from_config(&config_with(url)), Ok(Some(_))),
                "{url}"
            );
        }
        assert!(matches!(Mailer::from_config(&Config::default()), Ok(None)));
    }

    #[tokio::test]
    async fn an_unusable_smtp_url_is_refused_without_repeating_it() {
        let Err(error) = Mailer::from_config(&config_with("smtp://user:s3cret@")) else {
            panic!("a URL without a host must be refused");
        };
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn the_smtp_password_is_found_for_redaction() {
        assert_eq!(
            smtp_password("smtps://user:s3cret@mail.example.com"),
            Some("s3cret".into())
        );
        assert_eq!(smtp_password("smtp://127.0.0.1:2525"), None);
        assert_eq!(smtp_password("smtp://user@host"), None);
    }
}
