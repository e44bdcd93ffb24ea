//! Customer organizations.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts};
use crate::{domain::OrgId, with_db};

/// An organization as stored.
#[derive(Clone, Debug, FromRow)]
pub struct Organization {
    #[sqlx(try_from = "i64")]
    pub id: OrgId,
    pub external_id: Option<String>,
    pub name: String,
    pub members_see_org_tickets: bool,
}

/// Creates an organization; a taken external id is a `Conflict`.
pub async fn create(
    db: &Db,
    name: &str,
    external_id: Option<&str>,
    members_see_org_tickets: bool,
    now: Timestamp,
) -> Result<OrgId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into organizations (external_id, name, members_see_org_tickets, created_at, updated_at) \
             values ($1, $2, $3, $4, $4) returning id",
        )
        .bind(external_id)
        .bind(name)
        .bind(members_see_org_tickets)
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    });
    Ok(OrgId(id))
}

pub async fn find_by_external_id(
    db: &Db,
    external_id: &str,
) -> Result<Option<Organization>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Organization>(
            "select id, external_id, name, members_see_org_tickets from organizations where external_id = $1",
        )
        .bind(external_id)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn list(db: &Db) -> Result<Vec<Organization>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Organization>(
            "select id, external_id, name, members_see_org_tickets from organizations order by name, id",
        )
        .fetch_all(pool)
        .await?
    }))
}
