//! Attachment files. A local folder by default, memory in tests; S3 will be a
//! third backend behind the same type. Files are written before the database
//! row that points to them, and deleted again if that row cannot be written,
//! so a row never points to a missing file. Uploads are written part by part
//! as they arrive ([`BlobWriter`]), so no file is ever whole in memory.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart, local::LocalFileSystem,
    memory::InMemory, path::Path as ObjectPath,
};
use sha2::{Digest, Sha256};

/// Bytes of an upload held before they are handed to the store. With one
/// part in flight and one filling, an upload holds at most twice this in
/// memory. S3 needs parts of at least 5 MiB: its backend will set its own.
const PART_BYTES: usize = 256 * 1024;

/// Where files go.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

/// A stored file: its key and what was learnt while storing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

impl BlobStore {
    /// Files under `dir`, created when missing.
    pub fn local(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir).map_err(|e| BlobError(e.into()))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| BlobError(e.into()))?;
        Ok(Self {
            inner: Arc::new(store),
        })
    }

    /// Files in memory, for tests.
    pub fn memory() -> Self {
        Self {
            inner: Arc::new(InMemory::new()),
        }
    }

    /// Stores `data` under a new random key and returns its key, size and
    /// SHA-256.
    pub async fn put(&self, data: Bytes) -> Result<StoredBlob, BlobError> {
        let key = new_key();
        let sha256 = hex::encode(Sha256::digest(&data));
        let size = data.len() as u64;
        self.inner
            .put(
                &ObjectPath::from(key.as_str()),
                PutPayload::from_bytes(data),
            )
            .await
            .map_err(|e| BlobError(e.into()))?;
        Ok(StoredBlob { key, size, sha256 })
    }

    /// Starts a file under a new random key, to be written as it arrives.
    /// Until [`BlobWriter::finish`] nothing is visible under the key; a
    /// writer dropped or aborted before that leaves nothing behind (the
    /// local store removes its staging file).
    pub async fn writer(&self) -> Result<BlobWriter, BlobError> {
        let key = new_key();
        let upload = self
            .inner
            .put_multipart(&ObjectPath::from(key.as_str()))
            .await
            .map_err(|e| BlobError(e.into()))?;
        Ok(BlobWriter {
            key,
            upload: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Reads a whole file.
    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let result = self
            .inner
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| BlobError(e.into()))?;
        result.bytes().await.map_err(|e| BlobError(e.into()))
    }

    /// Deletes a file; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.inner.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError(e.into())),
        }
    }

    /// Every stored key, sorted (tests check that nothing is left behind).
    pub async fn keys(&self) -> Result<Vec<String>, BlobError> {
        use futures_util::TryStreamExt;
        let mut keys: Vec<String> = self
            .inner
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| BlobError(e.into()))?;
        keys.sort();
        Ok(keys)
    }
}

/// A new random key, `ab/cd/<uuid>`, so no folder grows too large.
fn new_key() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{}/{id}", &id[..2], &id[2..4])
}

/// A file being written as it arrives: its size is counted and its SHA-256
/// computed on the way, and at most one part waits for the store at a time,
/// so a slow disk slows the sender instead of filling memory.
#[derive(Debug)]
pub struct BlobWriter {
    key: String,
    upload: WriteMultipart,
    hasher: Sha256,
    size: u64,
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `data`, first waiting for the part before the last to be
    /// stored.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), BlobError> {
        self.upload
            .wait_for_capacity(1)
            .await
            .map_err(|e| BlobError(e.into()))?;
        self.hasher.update(data);
        self.size += data.len() as u64;
        self.upload.write(data);
        Ok(())
    }

    /// Stores the last part and makes the file visible under its key.
    pub async fn finish(self) -> Result<StoredBlob, BlobError> {
        self.upload
            .finish()
            .await
            .map_err(|e| BlobError(e.into()))?;
        Ok(StoredBlob {
            key: self.key,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }

    /// Gives the file up, removing what was written of it.
    pub async fn abort(self) {
        if let Err(error) = self.upload.abort().await {
            tracing::warn!(key = %self.key, %error, "could not remove an unfinished upload");
        }
    }
}

/// A blob store failure.
#[derive(Debug, thiserror::Error)]
#[error("blob store: {0}")]
pub struct BlobError(#[source] pub anyhow::Error);
