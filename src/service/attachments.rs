//! Storing attachments: the file goes to the blob store first, the row that
//! points to it second; if the row cannot be written the file is deleted,
//! so neither a dangling row nor (barring a crash between the two) an
//! orphan file is left behind.

use bytes::Bytes;

use crate::{
    AppState,
    domain::{AttachmentId, CommentId, TicketId, UserId},
    store::{self, StoreError, attachments::NewAttachment, tickets::StoredFile},
};

/// A file as received.
#[derive(Clone, Debug)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

/// A failure while storing an attachment.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(transparent)]
    Blob(#[from] crate::blob::BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores one file for a ticket (and optionally one of its comments).
pub async fn store(
    state: &AppState,
    ticket: TicketId,
    comment: Option<CommentId>,
    uploaded_by: Option<UserId>,
    upload: Upload,
) -> Result<AttachmentId, AttachmentError> {
    let stored = state.blobs.put(upload.data).await?;
    let row = store::attachments::create(
        &state.db,
        &NewAttachment {
            ticket,
            comment,
            file_name: &upload.file_name,
            content_type: &upload.content_type,
            size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
            sha256: &stored.sha256,
            storage_key: &stored.key,
            uploaded_by,
        },
        state.clock.now(),
    )
    .await;
    match row {
        Ok(id) => Ok(id),
        Err(error) => {
            if let Err(cleanup) = state.blobs.delete(&stored.key).await {
                tracing::error!(key = %stored.key, error = %cleanup, "could not delete the file of a failed attachment");
            }
            Err(error.into())
        }
    }
}

/// Puts uploaded files into the blob store before the rows that will point
/// to them are written; on failure removes those already put.
pub async fn store_uploads(
    state: &AppState,
    uploads: Vec<Upload>,
) -> Result<Vec<StoredFile>, crate::blob::BlobError> {
    let mut stored: Vec<StoredFile> = Vec::with_capacity(uploads.len());
    for upload in uploads {
        match state.blobs.put(upload.data).await {
            Ok(blob) => stored.push(StoredFile {
                file_name: upload.file_name,
                content_type: upload.content_type,
                size_bytes: i64::try_from(blob.size).unwrap_or(i64::MAX),
                sha256: blob.sha256,
                storage_key: blob.key,
            }),
            Err(error) => {
                discard(state, &stored).await;
                return Err(error);
            }
        }
    }
    Ok(stored)
}

/// Deletes the files of a write that did not happen.
pub async fn discard(state: &AppState, files: &[StoredFile]) {
    for file in files {
        if let Err(error) = state.blobs.delete(&file.storage_key).await {
            tracing::error!(key = %file.storage_key, %error, "could not delete the file of a failed write");
        }
    }
}
