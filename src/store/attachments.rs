//! Attachment rows. The file itself lives in the blob store and is written
//! first; this row, which points to it, second.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts};
use crate::{
    domain::{AttachmentId, CommentId, TicketId, UserId},
    with_db,
};

/// An attachment as stored.
#[derive(Clone, Debug, FromRow)]
pub struct Attachment {
    #[sqlx(try_from = "i64")]
    pub id: AttachmentId,
    #[sqlx(try_from = "i64")]
    pub ticket_id: TicketId,
    pub comment_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: Ts,
}

/// What a new attachment row holds.
#[derive(Clone, Debug)]
pub struct NewAttachment<'a> {
    pub ticket: TicketId,
    pub comment: Option<CommentId>,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub uploaded_by: Option<UserId>,
}

pub async fn create(
    db: &Db,
    attachment: &NewAttachment<'_>,
    now: Timestamp,
) -> Result<AttachmentId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into attachments (ticket_id, comment_id, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        )
        .bind(attachment.ticket.0)
        .bind(attachment.comment.map(|c| c.0))
        .bind(attachment.file_name)
        .bind(attachment.content_type)
        .bind(attachment.size_bytes)
        .bind(attachment.sha256)
        .bind(attachment.storage_key)
        .bind(attachment.uploaded_by.map(|u| u.0))
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    });
    Ok(AttachmentId(id))
}

pub async fn for_ticket(db: &Db, ticket: TicketId) -> Result<Vec<Attachment>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Attachment>(
            "select id, ticket_id, comment_id, file_name, content_type, size_bytes, sha256, storage_key, created_at \
             from attachments where ticket_id = $1 order by id",
        )
        .bind(ticket.0)
        .fetch_all(pool)
        .await?
    }))
}
