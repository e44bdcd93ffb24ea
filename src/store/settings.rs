//! Settings that admins change at run time, stored as JSON by key.

use jiff::Timestamp;
use serde::{Serialize, de::DeserializeOwned};

use super::{Db, StoreError, Ts};
use crate::with_db;

pub async fn get<T: DeserializeOwned>(db: &Db, key: &str) -> Result<Option<T>, StoreError> {
    get_raw(db, key)
        .await?
        .map(|v| serde_json::from_str(&v).map_err(|e| StoreError::Other(e.into())))
        .transpose()
}

/// The stored JSON text of a setting.
pub async fn get_raw(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("select value from settings where key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn put<T: Serialize>(
    db: &Db,
    key: &str,
    value: &T,
    now: Timestamp,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Other(e.into()))?;
    with_db!(db, |pool| {
        sqlx::query(
            "insert into settings (key, value, updated_at) values ($1, $2, $3) \
             on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(&json)
        .bind(Ts(now))
        .execute(pool)
        .await?;
    });
    Ok(())
}
