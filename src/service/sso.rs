//! Single sign-on from the host platform: an HS256 JWT signed with
//! `CHAMADO_SSO_SECRET`.
//!
//! The seed's promise is that logging out of the platform and in again always
//! repairs portal access, so the platform's login is the only login customers
//! need. A token must be fresh (`iat` at most `sso_max_age_secs` old), unused
//! (`jti` is recorded until the token expires) and complete; anything else is
//! refused the same way, without saying which check failed. A token lives
//! at most [`MAX_LIFETIME`] (`exp - iat`) and is not accepted before its
//! `nbf`.
//!
//! A token signs in the account with its `external_id`, or links a
//! customer's account created before single sign-on by its e-mail; it never
//! reaches an agent's or admin's account by e-mail, never takes over an
//! account with another external id, and writes nothing when refused
//! (`store::users::upsert_from_sso`).

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    domain::{Email, Lang, UserId},
    store::{
        self, StoreError,
        users::{OrgRef, SpentToken, SsoMatch, SsoProfile, SsoRefusal},
    },
};

/// An organization as the host platform names it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgClaim {
    pub external_id: String,
    pub name: String,
}

/// The `aud` claim: one audience, or several (RFC 7519 §4.1.3); the token
/// is for Chamado when one of them is the configured audience.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(value: &str) -> Self {
        Audience::One(value.to_owned())
    }
}

impl From<String> for Audience {
    fn from(value: String) -> Self {
        Audience::One(value)
    }
}

/// The token's claims. Everything is optional here so that a missing claim
/// is reported as such instead of as a parse error.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SsoClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<OrgClaim>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

/// Why a token was refused (logged; the person sees one friendly page).
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("single sign-on is not configured")]
    NotConfigured,
    #[error("token rejected: {0}")]
    Rejected(String),
    #[error("token has expired")]
    Expired,
    #[error("token was issued too long ago or in the future")]
    NotFresh,
    #[error("token is not valid yet (nbf)")]
    NotYetValid,
    #[error("token lives longer than allowed (exp - iat)")]
    TooLongLived,
    #[error("token was already used")]
    Replayed,
    #[error("claim {0} is missing or empty")]
    MissingClaim(&'static str),
    #[error("claim {0} is invalid")]
    InvalidClaim(&'static str),
    #[error("the account is deactivated")]
    Deactivated,
    #[error("the e-mail belongs to another account")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Clock skew tolerated between the host platform and Chamado.
const SKEW: SignedDuration = SignedDuration::from_secs(30);
/// The longest life a token may declare (`exp - iat`): a leaked link is
/// worth little for long.
pub const MAX_LIFETIME: SignedDuration = SignedDuration::from_mins(10);

fn required<'a>(value: Option<&'a str>, claim: &'static str) -> Result<&'a str, SsoError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(SsoError::MissingClaim(claim)),
    }
}

/// A token whose signature and claims were checked: what it says about its
/// user. Nothing is written yet.
#[derive(Clone, Debug)]
struct Verified {
    jti: String,
    email: Email,
    external_id: String,
    name: String,
    locale: Option<Lang>,
    /// (external id, name), without repeats; `None`: memberships are left alone.
    organizations: Option<Vec<(String, String)>>,
    /// Until when the token id must be remembered to refuse a replay.
    keep_until: Timestamp,
}

/// Checks the signature, the times and the claims.
fn verify(state: &AppState, token: &str) -> Result<Verified, SsoError> {
    let config = &state.config;
    let secret = config.sso_secret.as_ref().ok_or(SsoError::NotConfigured)?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Times are checked below against the injected clock (jsonwebtoken reads
    // the system clock). `aud` may be a string or an array: jsonwebtoken
    // accepts an array holding our audience.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    validation.validate_aud = config.sso_audience.is_some();
    if let Some(aud) = &config.sso_audience {
        validation.set_audience(&[aud]);
        validation.required_spec_claims.insert("aud".into());
    }
    if let Some(iss) = &config.sso_issuer {
        validation.set_issuer(&[iss]);
        validation.required_spec_claims.insert("iss".into());
    }
    let claims = jsonwebtoken::decode::<SsoClaims>(
        token,
        &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        &validation,
    )
    .map_err(|e| SsoError::Rejected(e.to_string()))?
    .claims;

    let now = state.clock.now();
    let exp = claims.exp.ok_or(SsoError::MissingClaim("exp"))?;
    let exp = Timestamp::from_second(exp).map_err(|_| SsoError::InvalidClaim("exp"))?;
    if exp + SKEW <= now {
        return Err(SsoError::Expired);
    }
    let iat = claims.iat.ok_or(SsoError::MissingClaim("iat"))?;
    let iat = Timestamp::from_second(iat).map_err(|_| SsoError::InvalidClaim("iat"))?;
    let max_age = SignedDuration::from_secs(i64::from(config.sso_max_age_secs));
    if iat > now + SKEW || iat + max_age + SKEW < now {
        return Err(SsoError::NotFresh);
    }
    if exp < iat {
        return Err(SsoError::InvalidClaim("exp"));
    }
    if exp.duration_since(iat) > MAX_LIFETIME {
        return Err(SsoError::TooLongLived);
    }
    if let Some(nbf) = claims.nbf {
        let nbf = Timestamp::from_second(nbf).map_err(|_| SsoError::InvalidClaim("nbf"))?;
        if nbf > now + SKEW {
            return Err(SsoError::NotYetValid);
        }
    }
    let jti = required(claims.jti.as_deref(), "jti")?;
    let email = required(claims.email.as_deref(), "email")?;
    let email = Email::parse(email).ok_or(SsoError::InvalidClaim("email"))?;
    let external_id = required(claims.external_id.as_deref(), "external_id")?;
    let name = required(claims.name.as_deref(), "name")?;
    if jti.len() > 200 || external_id.len() > 200 || name.chars().count() > 200 {
        return Err(SsoError::InvalidClaim("jti/external_id/name"));
    }
    let organizations = match &claims.organizations {
        Some(list) => {
            let mut orgs: Vec<(String, String)> = Vec::with_capacity(list.len());
            for org in list {
                let external_id = org.external_id.trim();
                let name = org.name.trim();
                if external_id.is_empty()
                    || name.is_empty()
                    || external_id.len() > 200
                    || name.chars().count() > 200
                {
                    return Err(SsoError::InvalidClaim("organizations"));
                }
                if !orgs.iter().any(|(id, _)| id == external_id) {
                    orgs.push((external_id.to_owned(), name.to_owned()));
                }
            }
            Some(orgs)
        }
        None => None,
    };
    Ok(Verified {
        jti: jti.to_owned(),
        external_id: external_id.to_owned(),
        name: name.to_owned(),
        locale: claims.locale.as_deref().and_then(Lang::parse),
        email,
        organizations,
        keep_until: exp.max(iat + max_age) + SKEW,
    })
}

impl From<SsoRefusal> for SsoError {
    fn from(refusal: SsoRefusal) -> Self {
        match refusal {
            SsoRefusal::Replayed => SsoError::Replayed,
            SsoRefusal::Deactivated => SsoError::Deactivated,
            SsoRefusal::EmailTaken => SsoError::EmailTaken,
        }
    }
}

/// Whom a valid token would sign in, as the confirmation page names them.
#[derive(Clone, Debug)]
pub struct SignInTarget {
    /// The existing account; `None` when the token creates one.
    pub user: Option<UserId>,
    pub name: String,
    pub email: String,
}

/// Checks a token exactly as [`accept`] does, and says whom it would sign
/// in, without spending it or writing anything.
pub async fn preview(state: &AppState, token: &str) -> Result<SignInTarget, SsoError> {
    let verified = verify(state, token)?;
    if store::security::sso_token_used(&state.db, &verified.jti).await? {
        return Err(SsoError::Replayed);
    }
    let user =
        match store::users::find_sso_match(&state.db, &verified.external_id, &verified.email.lower)
            .await?
        {
            SsoMatch::Existing(id) => Some(id),
            SsoMatch::New => None,
            SsoMatch::Refused(refusal) => return Err(refusal.into()),
        };
    Ok(SignInTarget {
        user,
        name: verified.name,
        email: verified.email.original,
    })
}

/// Verifies a token and signs its user in: creates or updates the user and
/// their organizations and memberships, all in one transaction that also
/// spends the token id. Returns the user and their language.
pub async fn accept(state: &AppState, token: &str) -> Result<(UserId, Lang), SsoError> {
    let verified = verify(state, token)?;
    let config = &state.config;
    let orgs: Option<Vec<OrgRef<'_>>> = verified.organizations.as_ref().map(|list| {
        list.iter()
            .map(|(external_id, name)| OrgRef { external_id, name })
            .collect()
    });
    let profile = SsoProfile {
        external_id: &verified.external_id,
        email: &verified.email,
        name: &verified.name,
        locale: verified.locale.map(Lang::code),
        default_locale: config.lang().code(),
        default_time_zone: &config.default_time_zone,
        organizations: orgs.as_deref(),
    };
    let spent = SpentToken {
        jti: &verified.jti,
        keep_until: verified.keep_until,
    };
    let user_id = store::users::upsert_from_sso(&state.db, &profile, spent, state.clock.now())
        .await
        .map_err(|e| match e {
            // Another sign-in took the e-mail or external id meanwhile.
            StoreError::Conflict(_) => SsoError::EmailTaken,
            other => other.into(),
        })??;
    // The profile and memberships may have changed, and this may be a GET.
    state.hub.cached_rows_changed();
    let user = store::users::find(&state.db, user_id)
        .await?
        .ok_or(SsoError::Store(StoreError::NotFound))?;
    Ok((user_id, Lang::parse(&user.locale).unwrap_or_default()))
}

/// Signs claims with the configured secret, as the host platform would. Used
/// by the demo's host page and by tests.
pub fn sign(secret: &str, claims: &SsoClaims) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// Fresh claims for a known user (demo host page): now, five minutes of
/// validity, a random token id, and the user's current organizations.
pub async fn claims_for_user(
    state: &AppState,
    user: UserId,
) -> Result<Option<SsoClaims>, StoreError> {
    let Some(user) = store::users::find(&state.db, user).await? else {
        return Ok(None);
    };
    let orgs = store::users::memberships(&state.db, user.id).await?;
    let now = state.clock.now().as_second();
    Ok(Some(SsoClaims {
        exp: Some(now + 300),
        iat: Some(now),
        jti: Some(super::random_hex(16)),
        email: Some(user.email.clone()),
        external_id: Some(
            user.external_id
                .clone()
                .unwrap_or_else(|| format!("local-{}", user.id)),
        ),
        name: Some(user.name.clone()),
        locale: Some(user.locale.clone()),
        organizations: Some(
            orgs.iter()
                .map(|m| OrgClaim {
                    external_id: m
                        .organization_external_id
                        .clone()
                        .unwrap_or_else(|| format!("org-{}", m.organization_id)),
                    name: m.organization_name.clone(),
                })
                .collect(),
        ),
        nbf: None,
        aud: state.config.sso_audience.clone().map(Audience::from),
        iss: state.config.sso_issuer.clone(),
    }))
}
