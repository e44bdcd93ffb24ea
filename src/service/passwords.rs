//! Password hashing with argon2id, off the async runtime.
//!
//! Unknown e-mails are checked against a dummy hash of the same cost, so the
//! answer takes as long whether or not the account exists.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::OnceCell;

/// Hashes and verifies passwords with the configured cost.
#[derive(Clone, Debug)]
pub struct Passwords {
    params: Params,
    dummy: Arc<OnceCell<String>>,
}

impl Passwords {
    /// `memory_kib` and `iterations` come from the configuration; tests use the minimum.
    pub fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        Ok(Self {
            params,
            dummy: Arc::new(OnceCell::new()),
        })
    }

    fn argon(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$…`) for `password`.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            Self::argon(params)
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await?
    }

    /// Whether `password` matches `hash`. With `hash = None` (no such user, or
    /// a user without a local password) the dummy hash is checked instead and
    /// the answer is always `false`.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let (hash, real) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (
                self.dummy
                    .get_or_try_init(|| self.hash("chamado-dummy-password"))
                    .await?
                    .clone(),
                false,
            ),
        };
        let params = self.params.clone();
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            Self::argon(params)
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await?;
        Ok(matches && real)
    }
}
