//! The administration's own SQL: organizations with their members, the user
//! directory, memberships and groups, deactivation, and the triage
//! questions. Knows nothing of HTTP or of who may call it (the admin
//! service checks that).

use jiff::Timestamp;
use sqlx::{FromRow, types::Json};

use super::{Db, StoreError, Ts, WritePool, users::User};
use crate::{
    domain::{Email, GroupId, OrgId, Role, UserId},
    with_db,
};

// ---------------------------------------------------------------------------
// Organizations

/// An organization in the admin list.
#[derive(Clone, Debug, FromRow)]
pub struct OrgRow {
    #[sqlx(try_from = "i64")]
    pub id: OrgId,
    pub external_id: Option<String>,
    pub name: String,
    pub members_see_org_tickets: bool,
    pub member_count: i64,
}

/// Every organization with its number of members, by name.
pub async fn list_orgs(db: &Db) -> Result<Vec<OrgRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, OrgRow>(
            "select o.id, o.external_id, o.name, o.members_see_org_tickets, \
             (select count(*) from memberships m where m.organization_id = o.id) as member_count \
             from organizations o order by o.name, o.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn find_org(db: &Db, id: OrgId) -> Result<Option<OrgRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, OrgRow>(
            "select o.id, o.external_id, o.name, o.members_see_org_tickets, \
             (select count(*) from memberships m where m.organization_id = o.id) as member_count \
             from organizations o where o.id = $1",
        )
        .bind(id.0)
        .fetch_optional(pool)
        .await?
    }))
}

/// New values for an organization.
#[derive(Clone, Debug)]
pub struct OrgUpdate<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub members_see_org_tickets: bool,
    /// Also give every current member this organization view permission.
    pub apply_to_members: bool,
}

/// Updates an organization (and, when asked, its members' permission) in
/// one transaction; a taken external id is a `Conflict`.
pub async fn update_org(
    db: &Db,
    id: OrgId,
    update: &OrgUpdate<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(
            "update organizations set name = $1, external_id = $2, members_see_org_tickets = $3, updated_at = $4 \
             where id = $5",
        )
        .bind(update.name)
        .bind(update.external_id)
        .bind(update.members_see_org_tickets)
        .bind(Ts(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        if update.apply_to_members {
            sqlx::query(
                "update memberships set can_see_org_tickets = $1 where organization_id = $2",
            )
            .bind(update.members_see_org_tickets)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A member of an organization, for its admin page.
#[derive(Clone, Debug, FromRow)]
pub struct OrgMember {
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub can_see_org_tickets: bool,
}

/// The organization's members, by name (at most `limit`).
pub async fn org_members(db: &Db, org: OrgId, limit: i64) -> Result<Vec<OrgMember>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, OrgMember>(
            "select u.id as user_id, u.name, u.email, u.role, u.active, m.can_see_org_tickets \
             from memberships m join users u on u.id = m.user_id where m.organization_id = $1 \
             order by u.name, u.id limit $2",
        )
        .bind(org.0)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

// ---------------------------------------------------------------------------
// Users

/// What the user directory is filtered by.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Matched against name and e-mail (case-insensitive for ASCII).
    pub text: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Keyset: the (name, id) of the last row of the previous page.
    pub after: Option<(String, i64)>,
    pub limit: i64,
}

/// Escapes `%`, `_` and `\` for a `like … escape '\'` pattern.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page of users by name, and whether more follow.
pub async fn search_users(db: &Db, query: &UserQuery) -> Result<(Vec<User>, bool), StoreError> {
    let mut rows: Vec<User> = with_db!(db, |pool| {
        let mut sql = sqlx::QueryBuilder::new(
            "select id, external_id, email, name, role, locale, time_zone, password_hash, active, created_at \
             from users where 1 = 1",
        );
        if let Some(text) = &query.text {
            let pattern = like_pattern(&text.to_lowercase());
            sql.push(" and (email_lower like ");
            sql.push_bind(pattern.clone());
            sql.push(" escape '\\' or lower(name) like ");
            sql.push_bind(pattern);
            sql.push(" escape '\\')");
        }
        if let Some(role) = query.role {
            sql.push(" and role = ");
            sql.push_bind(role.key());
        }
        if let Some(active) = query.active {
            sql.push(" and active = ");
            sql.push_bind(active);
        }
        if let Some((name, id)) = &query.after {
            sql.push(" and (name > ");
            sql.push_bind(name.clone());
            sql.push(" or (name = ");
            sql.push_bind(name.clone());
            sql.push(" and id > ");
            sql.push_bind(*id);
            sql.push("))");
        }
        sql.push(" order by name, id limit ");
        sql.push_bind(query.limit + 1);
        sql.build_query_as::<User>().fetch_all(pool).await?
    });
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > query.limit;
    rows.truncate(usize::try_from(query.limit).unwrap_or(0));
    Ok((rows, more))
}

/// A new user with their first membership and groups.
#[derive(Clone, Debug)]
pub struct NewStaffedUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub locale: &'a str,
    pub time_zone: &'a str,
    pub password_hash: Option<&'a str>,
    /// An organization to join and its view permission (`None`: the
    /// organization's default).
    pub membership: Option<(OrgId, Option<bool>)>,
    pub groups: &'a [GroupId],
}

/// Creates the user, the membership and the group memberships in one
/// transaction: a taken e-mail is a `Conflict`, and then nothing is written.
pub async fn create_user(
    db: &Db,
    user: &NewStaffedUser<'_>,
    now: Timestamp,
) -> Result<UserId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into users (email, email_lower, name, role, locale, time_zone, password_hash, active, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning id",
        )
        .bind(&user.email.original)
        .bind(&user.email.lower)
        .bind(user.name)
        .bind(user.role.key())
        .bind(user.locale)
        .bind(user.time_zone)
        .bind(user.password_hash)
        .bind(true)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await?;
        if let Some((org, can_see)) = user.membership {
            let added = sqlx::query(
                "insert into memberships (user_id, organization_id, can_see_org_tickets, created_at) \
                 select $1, o.id, coalesce($3, o.members_see_org_tickets), $4 from organizations o where o.id = $2",
            )
            .bind(id)
            .bind(org.0)
            .bind(can_see)
            .bind(Ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Err(StoreError::NotFound);
            }
        }
        for group in user.groups {
            sqlx::query("insert into group_members (group_id, user_id) values ($1, $2)")
                .bind(group.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        id
    });
    Ok(UserId(id))
}

/// Changes a user's name and role.
pub async fn update_user(
    db: &Db,
    id: UserId,
    name: &str,
    role: Role,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = with_db!(db, |pool| {
        sqlx::query("update users set name = $1, role = $2, updated_at = $3 where id = $4")
            .bind(name)
            .bind(role.key())
            .bind(Ts(now))
            .bind(id.0)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Activates or deactivates a user. Deactivation deletes every session of
/// the user in the same transaction, so no node serves them another page
/// (the session resolver also refuses inactive users). Returns how many
/// sessions ended.
pub async fn set_active(
    db: &Db,
    id: UserId,
    active: bool,
    now: Timestamp,
) -> Result<u64, StoreError> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query("update users set active = $1, updated_at = $2 where id = $3")
            .bind(active)
            .bind(Ts(now))
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = if active {
            0
        } else {
            // The widget's bearer tokens and handoff codes end too, for
            // good: a later reactivation does not bring them back.
            sqlx::query("delete from widget_tokens where user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("delete from sessions where user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        };
        tx.commit().await?;
        ended
    }))
}

/// Adds a membership; `Conflict` when the user is already a member,
/// `NotFound` when the organization does not exist.
pub async fn add_membership(
    db: &Db,
    user: UserId,
    org: OrgId,
    can_see_org_tickets: Option<bool>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let added = with_db!(db, |pool| {
        sqlx::query(
            "insert into memberships (user_id, organization_id, can_see_org_tickets, created_at) \
             select $1, o.id, coalesce($3, o.members_see_org_tickets), $4 from organizations o where o.id = $2",
        )
        .bind(user.0)
        .bind(org.0)
        .bind(can_see_org_tickets)
        .bind(Ts(now))
        .execute(pool)
        .await?
        .rows_affected()
    });
    if added == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a membership's organization view permission; `NotFound` when there
/// is no such membership.
pub async fn set_membership_permission(
    db: &Db,
    user: UserId,
    org: OrgId,
    can_see_org_tickets: bool,
) -> Result<(), StoreError> {
    let changed = with_db!(db, |pool| {
        sqlx::query(
            "update memberships set can_see_org_tickets = $1 where user_id = $2 and organization_id = $3",
        )
        .bind(can_see_org_tickets)
        .bind(user.0)
        .bind(org.0)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Removes a membership; `NotFound` when there is none.
pub async fn remove_membership(db: &Db, user: UserId, org: OrgId) -> Result<(), StoreError> {
    let removed = with_db!(db, |pool| {
        sqlx::query("delete from memberships where user_id = $1 and organization_id = $2")
            .bind(user.0)
            .bind(org.0)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// An agent group.
#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct Group {
    #[sqlx(try_from = "i64")]
    pub id: GroupId,
    pub name: String,
}

/// Every group, by name.
pub async fn list_groups(db: &Db) -> Result<Vec<Group>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Group>("select id, name from groups order by name, id")
            .fetch_all(pool)
            .await?
    }))
}

/// The groups of a user, by name.
pub async fn user_groups(db: &Db, user: UserId) -> Result<Vec<Group>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Group>(
            "select g.id, g.name from groups g join group_members gm on gm.group_id = g.id \
             where gm.user_id = $1 order by g.name, g.id",
        )
        .bind(user.0)
        .fetch_all(pool)
        .await?
    }))
}

/// The group called `name`, created when missing.
pub async fn ensure_group(db: &Db, name: &str, now: Timestamp) -> Result<GroupId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "insert into groups (name, created_at) values ($1, $2) on conflict (name) do nothing",
        )
        .bind(name)
        .bind(Ts(now))
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar("select id from groups where name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        id
    });
    Ok(GroupId(id))
}

/// Puts a user in a group; `NotFound` when the group does not exist. Being
/// in it already is fine.
pub async fn add_to_group(db: &Db, user: UserId, group: GroupId) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "insert into group_members (group_id, user_id) select g.id, $2 from groups g where g.id = $1 \
             on conflict do nothing",
        )
        .bind(group.0)
        .bind(user.0)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Takes a user out of a group; `NotFound` when they were not in it.
pub async fn remove_from_group(db: &Db, user: UserId, group: GroupId) -> Result<(), StoreError> {
    let removed = with_db!(db, |pool| {
        sqlx::query("delete from group_members where group_id = $1 and user_id = $2")
            .bind(group.0)
            .bind(user.0)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many users have each role, among active users.
pub async fn user_counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, (String, i64)>(
            "select role, count(*) from users where active = $1 group by role",
        )
        .bind(true)
        .fetch_all(pool)
        .await?
    }))
}

// ---------------------------------------------------------------------------
// Triage questions

/// An option of a choice question: the stored value and its labels.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub text_pt: String,
    pub text_en: String,
}

/// A triage question as stored.
#[derive(Clone, Debug, FromRow)]
pub struct QuestionRow {
    pub id: i64,
    pub key: String,
    pub position: i64,
    pub kind: String,
    pub mandatory: bool,
    pub text_pt: String,
    pub text_en: String,
    pub options: Json<Vec<ChoiceOption>>,
    pub active: bool,
}

const QUESTION_COLUMNS: &str =
    "id, key, position, kind, mandatory, text_pt, text_en, options, active";

/// Every question in order; only the active ones when `active_only`. The
/// list is a handful of rows, so filtering happens here.
pub async fn list_questions(db: &Db, active_only: bool) -> Result<Vec<QuestionRow>, StoreError> {
    let sql = format!("select {QUESTION_COLUMNS} from triage_questions order by position, id");
    let mut rows = with_db!(db, |pool| {
        sqlx::query_as::<_, QuestionRow>(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await?
    });
    if active_only {
        rows.retain(|q| q.active);
    }
    Ok(rows)
}

pub async fn find_question(db: &Db, id: i64) -> Result<Option<QuestionRow>, StoreError> {
    let sql = format!("select {QUESTION_COLUMNS} from triage_questions where id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, QuestionRow>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// A question's editable values.
#[derive(Clone, Debug)]
pub struct QuestionValues<'a> {
    /// Only read when creating: a key never changes.
    pub key: &'a str,
    pub kind: &'a str,
    pub mandatory: bool,
    pub text_pt: &'a str,
    pub text_en: &'a str,
    pub options: &'a [ChoiceOption],
    pub active: bool,
}

/// Appends a question after the last one; a second organization or
/// attachment question is a `Conflict`.
pub async fn create_question(db: &Db, values: &QuestionValues<'_>) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let last: Option<i64> = sqlx::query_scalar("select max(position) from triage_questions")
            .fetch_one(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "insert into triage_questions (key, position, kind, mandatory, text_pt, text_en, options, active) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        )
        .bind(values.key)
        .bind(last.unwrap_or(0) + 1)
        .bind(values.kind)
        .bind(values.mandatory)
        .bind(values.text_pt)
        .bind(values.text_en)
        .bind(Json(values.options))
        .bind(values.active)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        id
    }))
}

/// Replaces a question's values (its key and kind never change).
pub async fn update_question(
    db: &Db,
    id: i64,
    values: &QuestionValues<'_>,
) -> Result<(), StoreError> {
    let changed = with_db!(db, |pool| {
        sqlx::query(
            "update triage_questions set mandatory = $1, text_pt = $2, text_en = $3, options = $4, active = $5 \
             where id = $6",
        )
        .bind(values.mandatory)
        .bind(values.text_pt)
        .bind(values.text_en)
        .bind(Json(values.options))
        .bind(values.active)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Swaps a question with its neighbour above (`up`) or below, renumbering
/// every position 1..n in the same transaction so that gaps and ties left
/// by earlier edits disappear. Moving the first one up (or the last one
/// down) changes nothing.
pub async fn move_question(db: &Db, id: i64, up: bool) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let mut ids: Vec<i64> =
            sqlx::query_scalar("select id from triage_questions order by position, id")
                .fetch_all(&mut *tx)
                .await?;
        let Some(index) = ids.iter().position(|q| *q == id) else {
            return Err(StoreError::NotFound);
        };
        let other = if up {
            index.checked_sub(1)
        } else {
            Some(index + 1).filter(|i| *i < ids.len())
        };
        if let Some(other) = other {
            ids.swap(index, other);
        }
        for (position, question) in (1_i64..).zip(&ids) {
            sqlx::query(
                "update triage_questions set position = $1 where id = $2 and position <> $1",
            )
            .bind(position)
            .bind(*question)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
