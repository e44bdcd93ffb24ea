-- E-mail notifications: the composer turns ticket events into rows here (in
-- the same transaction that advances its cursor over ticket_events), and the
-- delivery worker sends them over SMTP, leasing rows so that several nodes
-- never work on the same one at once. A row is 'pending' until sent, or
-- 'failed' after its last attempt; nothing is deleted, so the admin page can
-- count what waits, what went out and what was given up on.
create table mail_outbox (
    id integer primary key,
    event_id integer not null references ticket_events (id) on delete cascade,
    ticket_id integer not null,
    recipient_id integer not null references users (id),
    recipient_email text not null,
    lang text not null,
    template text not null,
    subject text not null,
    body_text text not null,
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at integer not null,
    locked_until integer,
    locked_by text,
    sent_at integer,
    last_error text,
    created_at integer not null,
    -- Composing the same event twice (two nodes, a retry after a crash)
    -- writes each message once.
    unique (event_id, recipient_id, template)
);
-- The worker's claim: due pending rows, oldest first.
create index mail_outbox_due on mail_outbox (next_attempt_at, id) where state = 'pending';
