//! Group commit of new portal tickets on SQLite.
//!
//! With `synchronous=FULL` every commit waits for the disk, and SQLite has
//! one writer at a time: opening tickets one transaction each, a node
//! spends most of its write turn on `BEGIN`, `COMMIT` and the sync. Here one
//! writer task per node takes the tickets that arrived while it was busy
//! and writes them in one transaction; each request is answered only after
//! that transaction committed, so an acknowledged ticket is as durable as
//! before (the crash test kills the server under this load).
//!
//! If anything in a shared transaction fails (a key taken by someone else,
//! a full disk), it is rolled back and its tickets are written again one
//! transaction each, so one ticket's error never reaches another's request.
//! PostgreSQL, with many writers at once, writes each ticket in its own
//! transaction (`store::tickets::create_from_form`).

use std::sync::OnceLock;

use jiff::Timestamp;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{
    Db, StoreError, WritePool,
    tickets::{self, NewPortalTicket, NewTicket, StoredFile},
};
use crate::domain::{OrgId, TicketId, TicketType, UserId};

/// Tickets written in one transaction at most.
const MAX_BATCH: usize = 64;
/// Tickets waiting for the writer at most; more wait to be queued.
const QUEUE: usize = 1024;

/// The node's writer of new portal tickets; started on first use.
#[derive(Debug, Default)]
pub struct TicketWriter {
    queue: OnceLock<mpsc::Sender<Job>>,
}

#[derive(Debug)]
struct Job {
    ticket: OwnedTicket,
    now: Timestamp,
    reply: oneshot::Sender<Result<(TicketId, bool), StoreError>>,
}

/// A [`NewPortalTicket`] that can wait in the queue.
#[derive(Debug)]
struct OwnedTicket {
    subject: String,
    description: String,
    ticket_type: TicketType,
    organization: Option<OrgId>,
    requester: UserId,
    channel: String,
    submission_key: String,
    files: Vec<StoredFile>,
}

impl OwnedTicket {
    fn of(new: &NewPortalTicket<'_>) -> Self {
        Self {
            subject: new.ticket.subject.to_owned(),
            description: new.ticket.description.to_owned(),
            ticket_type: new.ticket.ticket_type,
            organization: new.ticket.organization,
            requester: new.ticket.requester,
            channel: new.ticket.channel.to_owned(),
            submission_key: new.submission_key.to_owned(),
            files: new.files.to_vec(),
        }
    }

    fn view(&self) -> NewPortalTicket<'_> {
        NewPortalTicket {
            ticket: NewTicket {
                subject: &self.subject,
                description: &self.description,
                ticket_type: self.ticket_type,
                organization: self.organization,
                requester: self.requester,
                channel: &self.channel,
            },
            submission_key: &self.submission_key,
            files: &self.files,
        }
    }
}

impl TicketWriter {
    /// Opens a ticket as `store::tickets::create_from_form` does, answering
    /// once it is committed.
    pub async fn create_from_form(
        &self,
        db: &Db,
        new: &NewPortalTicket<'_>,
        now: Timestamp,
    ) -> Result<(TicketId, bool), StoreError> {
        let Db::Sqlite(..) = db else {
            return tickets::create_from_form(db, new, now).await;
        };
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(run(db.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            ticket: OwnedTicket::of(new),
            now,
            reply,
        };
        if queue.send(job).await.is_err() {
            // The writer is gone (its runtime stopped): write it here.
            return tickets::create_from_form(db, new, now).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Other(anyhow::anyhow!(
                "the ticket writer stopped"
            )))
        })
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<Job>) {
    // Started for SQLite only (`create_from_form`).
    let Db::Sqlite(pool, _) = &db else {
        return;
    };
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&db, pool, std::mem::take(&mut batch)).await;
    }
}

/// Writes `batch` in one transaction, or each in its own when that fails.
async fn write(db: &Db, pool: &SqlitePool, batch: Vec<Job>) {
    if batch.len() > 1 {
        match together(pool, &batch).await {
            Ok(written) => {
                for (job, (id, created)) in batch.into_iter().zip(written) {
                    let _ = job.reply.send(Ok((TicketId(id), created)));
                }
                return;
            }
            Err(error) => {
                tracing::debug!(%error, tickets = batch.len(), "group commit failed; writing one by one");
            }
        }
    }
    for job in batch {
        let result = tickets::create_from_form(db, &job.ticket.view(), job.now).await;
        let _ = job.reply.send(result);
    }
}

async fn together(pool: &SqlitePool, batch: &[Job]) -> Result<Vec<(i64, bool)>, StoreError> {
    let mut tx = pool.begin_write().await?;
    let mut written = Vec::with_capacity(batch.len());
    for job in batch {
        match tickets::insert_from_form(&mut tx, &job.ticket.view(), job.now).await {
            Ok(one) => written.push(one),
            Err(error) => {
                tx.rollback().await?;
                return Err(error);
            }
        }
    }
    tx.commit().await?;
    Ok(written)
}
