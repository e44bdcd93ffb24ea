-- Failed logins per pair of account and client address, and the moment the
-- pair may try again: each failure past the free ones doubles the wait.
create table login_backoff (
    key text primary key,
    failures bigint not null,
    wait_until timestamptz not null
);

-- Per-user counters of actions that write rows and queue e-mail (contact
-- requests, messages, new tickets), one fixed window per key.
create table rate_limits (
    key text primary key,
    window_end timestamptz not null,
    hits bigint not null
);
