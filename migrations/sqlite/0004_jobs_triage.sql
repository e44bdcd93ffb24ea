-- Triage sessions and job leases. Every table and index here has a twin of
-- the same name in migrations/postgres/0004_jobs_triage.sql.

-- A customer's unfinished new ticket: the mandatory initial questions being
-- answered in the chat or on a form. Completing it opens the ticket as
-- *Enviado*; leaving it unanswered past the triage timeout turns it into a
-- ticket in *Abandono na Triagem* (the job in src/jobs/triage_timeout.rs),
-- so it stays in the customer's history.
create table triage_sessions (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    organization_id integer references organizations (id),
    channel text not null check (channel in ('portal', 'widget', 'email', 'api', 'phone', 'demo')),
    -- JSON object: question key -> answer text.
    answers text not null,
    state text not null check (state in ('open', 'completed', 'abandoned')),
    started_at integer not null,
    last_activity_at integer not null,
    -- When the customer was nudged to finish (the chat may do it before the
    -- timeout); null while not.
    reminded_at integer,
    -- The ticket it became, once completed or abandoned.
    ticket_id integer references tickets (id)
);
-- The timeout job reads only open sessions, oldest activity first.
create index triage_sessions_open on triage_sessions (last_activity_at, id) where state = 'open';
create index triage_sessions_by_user on triage_sessions (user_id, started_at);

-- One row per periodic job: the node whose conditional upsert wins runs the
-- sweep until `locked_until`. Only avoids duplicate work; each change a job
-- makes is conditional on its own, so exactly-once never depends on it.
create table job_leases (
    name text primary key,
    holder text not null,
    locked_until integer not null
);
