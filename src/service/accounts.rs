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
    RateLimited { retry_after_minutes: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Checks e-mail and password. Every attempt is counted for the account and
/// for the client address before the password is checked, so parallel
/// guesses (even on several nodes) cannot exceed the limit; a success clears
/// the account's counter.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> Result<UserId, LoginError> {
    let config = &state.config;
    let now = state.clock.now();
    let window = SignedDuration::from_mins(i64::from(config.login_window_minutes));
    let window_start_after = now - window;
    let email_lower = email.trim().to_lowercase();
    let account_key = format!("account:{email_lower}");
    let account_attempts =
        store::security::count_login_attempt(&state.db, &account_key, now, window_start_after)
            .await?;
    let address_attempts = store::security::count_login_attempt(
        &state.db,
        &format!("address:{client}"),
        now,
        window_start_after,
    )
    .await?;
    if account_attempts > i64::from(config.login_max_attempts_per_account)
        || address_attempts > i64::from(config.login_max_attempts_per_address)
    {
        return Err(LoginError::RateLimited {
            retry_after_minutes: config.login_window_minutes,
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
    store::security::clear_login_attempts(&state.db, &account_key).await?;
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
