//! Storing attachments: the file goes to the blob store first, the row that
//! points to it second; if the row cannot be written the file is deleted,
//! so neither a dangling row nor (barring a crash between the two) an
//! orphan file is left behind.

use bytes::Bytes;

use crate::{
    AppState,
    blob::BlobStore,
    domain::{AttachmentId, CommentId, TicketId, UserId},
    store::{self, StoreError, attachments::NewAttachment, tickets::StoredFile},
};

/// A file given whole (demo data); uploads arrive as [`StagedFiles`].
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

/// The files of one request, already in the blob store, that no row points
/// to yet. The use case that writes the rows settles them: kept once the rows
/// are committed, deleted otherwise. Dropped unsettled (the request was
/// cancelled, e.g. the client went away while the form was being read),
/// they are deleted in the background. Once the write of their rows has
/// begun, a cancelled request leaves them be: the rows may have been
/// committed, and a file without a row is better than a row without its file.
#[derive(Debug)]
pub struct StagedFiles {
    blobs: BlobStore,
    files: Vec<StoredFile>,
    write_started: bool,
}

impl StagedFiles {
    /// No files yet.
    pub fn new(blobs: BlobStore) -> Self {
        Self {
            blobs,
            files: Vec::new(),
            write_started: false,
        }
    }

    /// Adds a file just stored.
    pub fn push(&mut self, file: StoredFile) {
        self.files.push(file);
    }

    /// The files, for the use case that will write the rows pointing to
    /// them: from now on, only [`Self::settle`] deletes them.
    pub fn for_write(&mut self) -> &[StoredFile] {
        self.write_started = true;
        &self.files
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Keeps the files when their rows were written, deletes them otherwise.
    pub async fn settle(self, rows_written: bool) {
        if rows_written {
            self.keep();
        } else {
            self.discard().await;
        }
    }

    /// The rows pointing to the files are committed: nothing to undo.
    pub fn keep(mut self) {
        self.files.clear();
    }

    /// Deletes the files of a write that did not happen.
    pub async fn discard(mut self) {
        let files = std::mem::take(&mut self.files);
        delete_all(&self.blobs, &files).await;
    }
}

impl Drop for StagedFiles {
    fn drop(&mut self) {
        if self.files.is_empty() {
            return;
        }
        if self.write_started {
            let keys: Vec<&str> = self.files.iter().map(|f| f.storage_key.as_str()).collect();
            tracing::warn!(?keys, "a write was cancelled midway; its files are kept");
            return;
        }
        let files = std::mem::take(&mut self.files);
        let blobs = self.blobs.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { delete_all(&blobs, &files).await });
        } else {
            let keys: Vec<&str> = files.iter().map(|f| f.storage_key.as_str()).collect();
            tracing::error!(?keys, "files of a cancelled write could not be deleted");
        }
    }
}

async fn delete_all(blobs: &BlobStore, files: &[StoredFile]) {
    for file in files {
        if let Err(error) = blobs.delete(&file.storage_key).await {
            tracing::error!(key = %file.storage_key, %error, "could not delete the file of a failed write");
        }
    }
}
