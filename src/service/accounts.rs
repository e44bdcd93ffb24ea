//! Accounts: local password login with rate limits, and creating users and
//! organizations (CLI, demo, later the admin screens).

use jiff::SignedDuration;

use crate::{
    AppState,
    domain::{Email, OrgId, Role, UserId},
    store::{self, StoreError},
};

/// Why a login was refused. Wrong e-mail and wrong password are one case on
/// purpose: the page must not reveal which accounts exist.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("too many attempts")]
    RateLimited { retry_after: SignedDuration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The wait an account and address pair earns with its `failures`th failed
/// login: none for the first `free` ones, then 1 s doubling with each
/// further failure, up to `max`.
pub fn login_wait(failures: i64, free: u32, max: SignedDuration) -> SignedDuration {
    let past_free = failures - i64::from(free);
    if past_free < 0 {
        return SignedDuration::ZERO;
    }
    let wait = u32::try_from(past_free)
        .ok()
        .and_then(|doublings| 1_i64.checked_shl(doublings))
        .filter(|secs| *secs > 0)
        .map_or(max, SignedDuration::from_secs);
    wait.min(max)
}

/// Checks e-mail and password under two limits kept in the database, so
/// that parallel guesses, even on several nodes, cannot exceed them:
///
/// - each pair of account and client address may fail a few times, then
///   waits before each further try, the wait doubling with each failure; a
///   success clears the pair. Another address is not held back, so an
///   attacker cannot lock the owner out.
/// - each client address may fail a number of times per window, whatever
///   the accounts (password spraying); successful logins are not counted.
///
/// Both are counted before the password is checked and given back when it
/// was right.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> Result<UserId, LoginError> {
    let config = &state.config;
    let now = state.clock.now();
    let window = SignedDuration::from_mins(i64::from(config.login_window_minutes));
    let email_lower = email.trim().to_lowercase();
    let address_key = format!("address:{client}");
    let address_failures =
        store::security::count_login_attempt(&state.db, &address_key, now, now - window).await?;
    if address_failures > i64::from(config.login_max_failures_per_address) {
        return Err(LoginError::RateLimited {
            retry_after: window,
        });
    }
    let pair_key = format!("pair:{client} {email_lower}");
    let max_wait = SignedDuration::from_secs(i64::from(config.login_max_wait_secs));
    let admitted =
        store::security::admit_login_attempt(&state.db, &pair_key, now, now - window, |n| {
            login_wait(n, config.login_failures_before_wait, max_wait)
        })
        .await?;
    if let Err(wait_until) = admitted {
        store::security::refund_login_attempt(&state.db, &address_key).await?;
        return Err(LoginError::RateLimited {
            retry_after: wait_until.duration_since(now),
        });
    }
    let user = store::users::find_by_email(&state.db, &email_lower).await?;
    let hash = user
        .as_ref()
        .filter(|u| u.active)
        .and_then(|u| u.password_hash.as_deref());
    if !state.passwords.verify(password, hash).await? {
        return Err(LoginError::InvalidCredentials);
    }
    let user = user.ok_or(LoginError::InvalidCredentials)?;
    store::security::clear_login_backoff(&state.db, &pair_key).await?;
    store::security::refund_login_attempt(&state.db, &address_key).await?;
    Ok(user.id)
}

/// Invalid input for a new user or organization, naming the field.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field,
        message: message.into(),
    }
}

/// A new user as the CLI and the demo describe it.
#[derive(Clone, Debug)]
pub struct UserInput<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// External ids of the organizations to join.
    pub organizations: &'a [String],
    pub groups: &'a [String],
}

/// Creates a user with memberships and groups. Every organization must
/// exist; nothing is written when one does not.
pub async fn create_user(state: &AppState, input: &UserInput<'_>) -> Result<UserId, AccountError> {
    let email = Email::parse(input.email).ok_or_else(|| {
        invalid(
            "email",
            format!("\"{}\" is not an e-mail address", input.email),
        )
    })?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "must have 1 to 200 characters"));
    }
    if let Some(password) = input.password
        && password.chars().count() < 10
    {
        return Err(invalid("password", "must have at least 10 characters"));
    }
    let mut orgs: Vec<OrgId> = Vec::new();
    for external_id in input.organizations {
        let org = store::orgs::find_by_external_id(&state.db, external_id)
            .await?
            .ok_or_else(|| {
                invalid(
                    "org",
                    format!("no organization has external id \"{external_id}\""),
                )
            })?;
        orgs.push(org.id);
    }
    if store::users::find_by_email(&state.db, &email.lower)
        .await?
        .is_some()
    {
        return Err(invalid(
            "email",
            format!("{} is already registered", email.original),
        ));
    }
    let hash = match input.password {
        Some(password) => Some(state.passwords.hash(password).await?),
        None => None,
    };
    let now = state.clock.now();
    let id = store::users::create(
        &state.db,
        &store::users::NewUser {
            email: &email,
            name,
            role: input.role,
            external_id: input.external_id,
            locale: state.config.lang().code(),
            time_zone: &state.config.default_time_zone,
            password_hash: hash.as_deref(),
        },
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => invalid("email", "e-mail or external id already registered"),
        other => other.into(),
    })?;
    for org in orgs {
        store::users::add_membership(&state.db, id, org, None, now).await?;
    }
    for group in input.groups {
        store::users::add_to_group(&state.db, id, group, now).await?;
    }
    Ok(id)
}

/// Creates an organization.
pub async fn create_org(
    state: &AppState,
    name: &str,
    external_id: Option<&str>,
    members_see_org_tickets: bool,
) -> Result<OrgId, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "must have 1 to 200 characters"));
    }
    if let Some(external_id) = external_id
        && (external_id.trim().is_empty() || external_id.len() > 200)
    {
        return Err(invalid("external-id", "must have 1 to 200 characters"));
    }
    store::orgs::create(
        &state.db,
        name,
        external_id,
        members_see_org_tickets,
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            invalid("external-id", "another organization has this external id")
        }
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::login_wait;

    #[test]
    fn the_login_wait_doubles_past_the_free_failures_up_to_the_maximum() {
        let max = SignedDuration::from_mins(15);
        let waits: Vec<i64> = (1..=17)
            .map(|failures| login_wait(failures, 5, max).as_secs())
            .collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900
            ]
        );
        assert_eq!(login_wait(i64::MAX, 5, max), max);
        assert_eq!(login_wait(70, 5, max), max);
    }
}
