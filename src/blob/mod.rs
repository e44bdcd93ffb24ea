//! Attachment files. A local folder by default, memory in tests; S3 will be a
//! third backend behind the same type. Files are written before the database
//! row that points to them, and deleted again if that row cannot be written,
//! so a row never points to a missing file.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, local::LocalFileSystem, memory::InMemory,
    path::Path as ObjectPath,
};
use sha2::{Digest, Sha256};

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

    /// Stores `data` under a new random key (`ab/cd/<uuid>`, so no folder
    /// grows too large) and returns its key, size and SHA-256.
    pub async fn put(&self, data: Bytes) -> Result<StoredBlob, BlobError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let key = format!("{}/{}/{id}", &id[..2], &id[2..4]);
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

/// A blob store failure.
#[derive(Debug, thiserror::Error)]
#[error("blob store: {0}")]
pub struct BlobError(#[source] pub anyhow::Error);
