-- Credentials of the help widget, which cannot rely on cookies: short-lived
-- bearer tokens (`access`) and single-use codes that hand a widget user over
-- to a portal tab (`handoff`). Only the SHA-256 of each secret is stored.
create table widget_tokens (
    token_hash text primary key,
    user_id bigint not null references users (id) on delete cascade,
    kind text not null check (kind in ('access', 'handoff')),
    -- Where a handoff sends the user (a local path); null for access tokens.
    return_to text,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    -- When a handoff code was spent; a spent code is never accepted again.
    used_at timestamptz
);
create index widget_tokens_by_user on widget_tokens (user_id);
create index widget_tokens_by_expiry on widget_tokens (expires_at);
