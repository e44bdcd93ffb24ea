//! People: customers, agents and admins, their memberships and groups.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts, WritePool};
use crate::{
    domain::{Email, GroupId, OrgId, Role, UserId},
    with_db,
};

/// A user as stored.
#[derive(Clone, Debug, FromRow)]
pub struct User {
    #[sqlx(try_from = "i64")]
    pub id: UserId,
    pub external_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub locale: String,
    pub time_zone: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: Ts,
}

impl User {
    /// The parsed role; an unknown stored value counts as a customer, the
    /// role with the least power.
    pub fn role(&self) -> Role {
        Role::from_key(&self.role).unwrap_or(Role::Customer)
    }
}

const USER_COLUMNS: &str =
    "id, external_id, email, name, role, locale, time_zone, password_hash, active, created_at";

/// One membership of a user, with the organization's name.
#[derive(Clone, Debug, FromRow)]
pub struct Membership {
    #[sqlx(try_from = "i64")]
    pub organization_id: OrgId,
    pub organization_name: String,
    pub organization_external_id: Option<String>,
    pub can_see_org_tickets: bool,
}

/// What a new user needs.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub external_id: Option<&'a str>,
    pub locale: &'a str,
    pub time_zone: &'a str,
    pub password_hash: Option<&'a str>,
}

pub async fn find(db: &Db, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = const_format_user("where id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn find_by_email(db: &Db, email_lower: &str) -> Result<Option<User>, StoreError> {
    let sql = const_format_user("where email_lower = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql))
            .bind(email_lower)
            .fetch_optional(pool)
            .await?
    }))
}

fn const_format_user(clause: &str) -> String {
    format!("select {USER_COLUMNS} from users {clause}")
}

/// Creates a user; a taken e-mail or external id is a `Conflict`.
pub async fn create(db: &Db, user: &NewUser<'_>, now: Timestamp) -> Result<UserId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into users (external_id, email, email_lower, name, role, locale, time_zone, password_hash, active, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) returning id",
        )
        .bind(user.external_id)
        .bind(&user.email.original)
        .bind(&user.email.lower)
        .bind(user.name)
        .bind(user.role.key())
        .bind(user.locale)
        .bind(user.time_zone)
        .bind(user.password_hash)
        .bind(true)
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    });
    Ok(UserId(id))
}

pub async fn set_password_hash(
    db: &Db,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("update users set password_hash = $1, updated_at = $2 where id = $3")
            .bind(hash)
            .bind(Ts(now))
            .bind(id.0)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn set_locale(
    db: &Db,
    id: UserId,
    locale: &str,
    time_zone: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("update users set locale = $1, time_zone = $2, updated_at = $3 where id = $4")
            .bind(locale)
            .bind(time_zone)
            .bind(Ts(now))
            .bind(id.0)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The user's organizations, by name.
pub async fn memberships(db: &Db, id: UserId) -> Result<Vec<Membership>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Membership>(
            "select o.id as organization_id, o.name as organization_name, o.external_id as organization_external_id, \
             m.can_see_org_tickets from memberships m join organizations o on o.id = m.organization_id \
             where m.user_id = $1 order by o.name, o.id",
        )
        .bind(id.0)
        .fetch_all(pool)
        .await?
    }))
}

/// Adds a membership; when `can_see_org_tickets` is `None` the
/// organization's default applies. An existing membership is kept as is.
pub async fn add_membership(
    db: &Db,
    user: UserId,
    org: OrgId,
    can_see_org_tickets: Option<bool>,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "insert into memberships (user_id, organization_id, can_see_org_tickets, created_at) \
             select $1, o.id, coalesce($3, o.members_see_org_tickets), $4 from organizations o where o.id = $2 \
             on conflict (user_id, organization_id) do nothing",
        )
        .bind(user.0)
        .bind(org.0)
        .bind(can_see_org_tickets)
        .bind(Ts(now))
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Adds the user to a group, creating the group when needed.
pub async fn add_to_group(
    db: &Db,
    user: UserId,
    group_name: &str,
    now: Timestamp,
) -> Result<GroupId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "insert into groups (name, created_at) values ($1, $2) on conflict (name) do nothing",
        )
        .bind(group_name)
        .bind(Ts(now))
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar("select id from groups where name = $1")
            .bind(group_name)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "insert into group_members (group_id, user_id) values ($1, $2) on conflict do nothing",
        )
        .bind(id)
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        id
    });
    Ok(GroupId(id))
}

/// Names of the user's groups.
pub async fn groups(db: &Db, user: UserId) -> Result<Vec<String>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "select g.name from groups g join group_members gm on gm.group_id = g.id where gm.user_id = $1 order by g.name",
        )
        .bind(user.0)
        .fetch_all(pool)
        .await?
    }))
}

/// Users for the demo host page: every active user, staff first.
pub async fn list_active(db: &Db, limit: i64) -> Result<Vec<User>, StoreError> {
    let sql = const_format_user(
        "where active = $1 order by case role when 'admin' then 0 when 'agent' then 1 else 2 end, name limit $2",
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql))
            .bind(true)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// An organization named in an SSO token.
#[derive(Clone, Debug)]
pub struct OrgRef<'a> {
    pub external_id: &'a str,
    pub name: &'a str,
}

/// What an SSO token says about its user.
#[derive(Clone, Debug)]
pub struct SsoProfile<'a> {
    pub external_id: &'a str,
    pub email: &'a Email,
    pub name: &'a str,
    pub locale: Option<&'a str>,
    pub default_locale: &'a str,
    pub default_time_zone: &'a str,
    /// `None`: the token does not manage memberships, leave them alone.
    pub organizations: Option<&'a [OrgRef<'a>]>,
}

/// The token id an SSO sign-in spends, and until when it must be kept.
#[derive(Clone, Copy, Debug)]
pub struct SpentToken<'a> {
    pub jti: &'a str,
    pub keep_until: Timestamp,
}

/// Why an SSO token may not sign its user in. Nothing is written for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoRefusal {
    /// The token id was used before.
    Replayed,
    /// The account is deactivated.
    Deactivated,
    /// The e-mail belongs to an account the token may not reach: one with
    /// another external id, or an agent's or admin's.
    EmailTaken,
}

/// Whom an SSO token signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoMatch {
    Existing(UserId),
    /// A new customer.
    New,
    Refused(SsoRefusal),
}

/// An account a token might name, as the decision needs it.
#[derive(Clone, Debug, FromRow)]
pub struct SsoCandidate {
    pub id: i64,
    pub external_id: Option<String>,
    pub role: String,
    pub active: bool,
}

const SSO_BY_EXTERNAL_ID: &str =
    "select id, external_id, role, active from users where external_id = $1";
const SSO_BY_EMAIL: &str = "select id, external_id, role, active from users where email_lower = $1";

/// The account a token names: the one with its external id; else the one
/// with its e-mail, but only a customer's account that has no external id
/// yet (one created before single sign-on was set up). Agents and admins
/// sign in locally or are linked by an admin, so an e-mail never reaches
/// them; an account whose external id differs is never taken over.
pub fn sso_match(
    by_external_id: Option<&SsoCandidate>,
    by_email: Option<&SsoCandidate>,
) -> SsoMatch {
    let user = match (by_external_id, by_email) {
        // Renaming the e-mail to one another account holds.
        (Some(user), Some(other)) if other.id != user.id => {
            return SsoMatch::Refused(SsoRefusal::EmailTaken);
        }
        (Some(user), _) => user,
        (None, None) => return SsoMatch::New,
        (None, Some(user)) => {
            let customer = Role::from_key(&user.role) == Some(Role::Customer);
            if user.external_id.is_some() || !customer {
                return SsoMatch::Refused(SsoRefusal::EmailTaken);
            }
            user
        }
    };
    if user.active {
        SsoMatch::Existing(UserId(user.id))
    } else {
        SsoMatch::Refused(SsoRefusal::Deactivated)
    }
}

/// Whom a token for `external_id` and `email_lower` would sign in, without
/// writing anything (the confirmation before replacing another session).
pub async fn find_sso_match(
    db: &Db,
    external_id: &str,
    email_lower: &str,
) -> Result<SsoMatch, StoreError> {
    let (by_external_id, by_email) = with_db!(db, |pool| {
        let by_external_id = sqlx::query_as::<_, SsoCandidate>(SSO_BY_EXTERNAL_ID)
            .bind(external_id)
            .fetch_optional(pool)
            .await?;
        let by_email = sqlx::query_as::<_, SsoCandidate>(SSO_BY_EMAIL)
            .bind(email_lower)
            .fetch_optional(pool)
            .await?;
        (by_external_id, by_email)
    });
    Ok(sso_match(by_external_id.as_ref(), by_email.as_ref()))
}

/// Signs a token's user in, in one transaction: finds the account
/// ([`sso_match`]), and only when it may sign in spends the token id and
/// creates or updates the user, organizations and memberships. A refused
/// token writes nothing at all. When the token lists organizations,
/// memberships not in the list are removed.
pub async fn upsert_from_sso(
    db: &Db,
    profile: &SsoProfile<'_>,
    token: SpentToken<'_>,
    now: Timestamp,
) -> Result<Result<UserId, SsoRefusal>, StoreError> {
    let id: Result<i64, SsoRefusal> = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let by_external_id = sqlx::query_as::<_, SsoCandidate>(SSO_BY_EXTERNAL_ID)
            .bind(profile.external_id)
            .fetch_optional(&mut *tx)
            .await?;
        let by_email = sqlx::query_as::<_, SsoCandidate>(SSO_BY_EMAIL)
            .bind(&profile.email.lower)
            .fetch_optional(&mut *tx)
            .await?;
        let existing = match sso_match(by_external_id.as_ref(), by_email.as_ref()) {
            SsoMatch::Refused(refusal) => return Ok(Err(refusal)),
            SsoMatch::Existing(id) => Some(id.0),
            SsoMatch::New => None,
        };
        // Spent in the same transaction: a replay racing the first use on
        // another node waits for it and is refused.
        let spent = sqlx::query(
            "insert into sso_used_tokens (jti, used_at, expires_at) values ($1, $2, $3) on conflict (jti) do nothing",
        )
        .bind(token.jti)
        .bind(Ts(now))
        .bind(Ts(token.keep_until))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if spent != 1 {
            return Ok(Err(SsoRefusal::Replayed));
        }
        let id = if let Some(id) = existing {
            sqlx::query(
                "update users set external_id = $1, email = $2, email_lower = $3, name = $4, locale = coalesce($5, locale), updated_at = $6 where id = $7",
            )
            .bind(profile.external_id)
            .bind(&profile.email.original)
            .bind(&profile.email.lower)
            .bind(profile.name)
            .bind(profile.locale)
            .bind(Ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            id
        } else {
            sqlx::query_scalar(
                "insert into users (external_id, email, email_lower, name, role, locale, time_zone, active, created_at, updated_at) \
                 values ($1, $2, $3, $4, 'customer', $5, $6, $7, $8, $8) returning id",
            )
            .bind(profile.external_id)
            .bind(&profile.email.original)
            .bind(&profile.email.lower)
            .bind(profile.name)
            .bind(profile.locale.unwrap_or(profile.default_locale))
            .bind(profile.default_time_zone)
            .bind(true)
            .bind(Ts(now))
            .fetch_one(&mut *tx)
            .await?
        };
        if let Some(orgs) = profile.organizations {
            let mut keep: Vec<i64> = Vec::with_capacity(orgs.len());
            for org in orgs {
                let org_id: i64 = sqlx::query_scalar(
                    "insert into organizations (external_id, name, members_see_org_tickets, created_at, updated_at) values ($1, $2, $3, $4, $4) \
                     on conflict (external_id) do update set name = excluded.name, updated_at = excluded.updated_at returning id",
                )
                .bind(org.external_id)
                .bind(org.name)
                .bind(true)
                .bind(Ts(now))
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "insert into memberships (user_id, organization_id, can_see_org_tickets, created_at) \
                     select $1, o.id, o.members_see_org_tickets, $3 from organizations o where o.id = $2 \
                     on conflict (user_id, organization_id) do nothing",
                )
                .bind(id)
                .bind(org_id)
                .bind(Ts(now))
                .execute(&mut *tx)
                .await?;
                keep.push(org_id);
            }
            let mut delete = sqlx::QueryBuilder::new("delete from memberships where user_id = ");
            delete.push_bind(id);
            if !keep.is_empty() {
                delete.push(" and organization_id not in (");
                let mut list = delete.separated(", ");
                for org_id in keep {
                    list.push_bind(org_id);
                }
                delete.push(")");
            }
            delete.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(id)
    });
    Ok(id.map(UserId))
}

#[cfg(test)]
mod tests {
    use super::{SsoCandidate, SsoMatch, SsoRefusal, sso_match};
    use crate::domain::UserId;

    fn user(id: i64, external_id: Option<&str>, role: &str, active: bool) -> SsoCandidate {
        SsoCandidate {
            id,
            external_id: external_id.map(str::to_owned),
            role: role.to_owned(),
            active,
        }
    }

    #[test]
    fn a_token_signs_in_the_account_with_its_external_id_whatever_the_role() {
        for role in ["customer", "agent", "admin"] {
            let linked = user(1, Some("kamino-1"), role, true);
            assert_eq!(
                sso_match(Some(&linked), Some(&linked)),
                SsoMatch::Existing(UserId(1))
            );
            assert_eq!(
                sso_match(Some(&linked), None),
                SsoMatch::Existing(UserId(1))
            );
        }
    }

    #[test]
    fn only_a_customer_without_external_id_is_linked_by_email() {
        let customer = user(2, None, "customer", true);
        assert_eq!(
            sso_match(None, Some(&customer)),
            SsoMatch::Existing(UserId(2))
        );
        for refused in [
            user(3, None, "agent", true),
            user(4, None, "admin", true),
            user(5, Some("kamino-5"), "customer", true),
        ] {
            assert_eq!(
                sso_match(None, Some(&refused)),
                SsoMatch::Refused(SsoRefusal::EmailTaken),
                "{refused:?}"
            );
        }
        assert_eq!(sso_match(None, None), SsoMatch::New);
    }

    #[test]
    fn a_deactivated_account_or_anothers_email_is_refused() {
        let inactive = user(6, Some("kamino-6"), "customer", false);
        assert_eq!(
            sso_match(Some(&inactive), None),
            SsoMatch::Refused(SsoRefusal::Deactivated)
        );
        let inactive_by_email = user(7, None, "customer", false);
        assert_eq!(
            sso_match(None, Some(&inactive_by_email)),
            SsoMatch::Refused(SsoRefusal::Deactivated)
        );
        let owner = user(8, Some("kamino-8"), "customer", true);
        let other = user(9, None, "customer", true);
        assert_eq!(
            sso_match(Some(&owner), Some(&other)),
            SsoMatch::Refused(SsoRefusal::EmailTaken)
        );
    }
}
