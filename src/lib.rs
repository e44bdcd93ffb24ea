//! Chamado: a self-hosted help desk whose heart is the customer ticket portal.
//!
//! Layers (see DESIGN.md §4): `web` (HTTP) → `service` (use cases and
//! authorization) → `domain` (pure rules) and `store` / `blob` (I/O).

pub mod blob;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod realtime;
pub mod server;
pub mod service;
pub mod store;
pub mod web;

use std::sync::{Arc, RwLock};

pub use web::app;

use crate::{
    blob::BlobStore,
    clock::Clock,
    config::Config,
    i18n::Catalog,
    service::{admin::Branding, passwords::Passwords},
    store::Db,
};

/// Everything a request handler or job needs ([`Shared`]); one reference
/// count to clone, as the router clones it several times per request.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Clone, Debug)]
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub blobs: BlobStore,
    pub clock: Clock,
    pub passwords: Passwords,
    pub catalog: Arc<Catalog>,
    /// Product name, phone, colour and host platform as pages show them:
    /// the configuration's until `service::admin::refresh_branding` loads
    /// the values admins saved (at start, then periodically on each node).
    pub branding: Arc<RwLock<Branding>>,
    /// This node's broadcast of live changes (`realtime`).
    pub hub: crate::realtime::Hub,
    /// Status counts of portal lists and agent queues (`service::counts`).
    pub portal_counts: Arc<service::counts::CountCache<Vec<(String, i64)>>>,
    pub queue_counts: Arc<service::counts::CountCache<crate::store::agent::QueueCounts>>,
    /// Sessions and memberships read by this node (`service::node_cache`).
    pub node_cache: Arc<service::node_cache::NodeCache>,
    /// Writes new portal tickets several per transaction on SQLite
    /// (`store::group_commit`).
    pub ticket_writer: Arc<crate::store::group_commit::TicketWriter>,
    /// Set only by `chamado demo`: enables the host-platform simulator.
    pub demo_mode: bool,
}

impl AppState {
    /// Builds the state from a configuration and an open database.
    pub fn new(config: Config, db: Db, blobs: BlobStore, clock: Clock) -> anyhow::Result<Self> {
        let passwords = Passwords::new(config.argon2_memory_kib, config.argon2_iterations)?;
        let branding = crate::service::admin::initial_branding(&config);
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            db,
            blobs,
            clock,
            passwords,
            catalog: Arc::new(Catalog::load()?),
            branding,
            hub: crate::realtime::Hub::new(),
            portal_counts: Arc::default(),
            queue_counts: Arc::default(),
            node_cache: Arc::default(),
            ticket_writer: Arc::default(),
            demo_mode: false,
        })))
    }

    /// This state with the host-platform simulator on (`chamado demo`).
    #[must_use]
    pub fn in_demo_mode(&self) -> Self {
        Self(Arc::new(Shared {
            demo_mode: true,
            ..(*self.0).clone()
        }))
    }
}
