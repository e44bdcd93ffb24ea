-- Everything that happens to a ticket, appended in the same transaction as
-- the change itself: the audit trail agents read, the outbox that e-mail
-- notifications are derived from, and the feed live views resume from
-- (by id). Never updated, never deleted (except with the ticket).
create table ticket_events (
    id integer primary key,
    ticket_id integer not null references tickets (id) on delete cascade,
    kind text not null,
    actor_kind text not null check (actor_kind in ('customer', 'agent', 'system')),
    actor_id integer references users (id),
    at integer not null,
    -- JSON object with the kind's details (from/to status, comment id, ...).
    data text not null
);
create index ticket_events_by_ticket on ticket_events (ticket_id, id);
