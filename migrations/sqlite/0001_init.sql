-- Chamado's first schema. Times are integer UTC microseconds; booleans 0/1.
-- Every table and index here has a twin of the same name in
-- migrations/postgres/0001_init.sql (a test compares them).

create table organizations (
    id integer primary key,
    external_id text unique,
    name text not null,
    -- Whether new members may see every ticket of the organization.
    members_see_org_tickets integer not null default 1,
    created_at integer not null,
    updated_at integer not null
);

create table users (
    id integer primary key,
    external_id text unique,
    email text not null,
    -- SQLite's lower() is ASCII-only, so the normalised form is stored.
    email_lower text not null unique,
    name text not null,
    role text not null check (role in ('customer', 'agent', 'admin')),
    locale text not null default 'pt-BR',
    time_zone text not null default 'America/Sao_Paulo',
    password_hash text,
    active integer not null default 1,
    created_at integer not null,
    updated_at integer not null
);

create table memberships (
    user_id integer not null references users (id) on delete cascade,
    organization_id integer not null references organizations (id) on delete cascade,
    can_see_org_tickets integer not null default 1,
    created_at integer not null,
    primary key (user_id, organization_id)
);
create index memberships_by_org on memberships (organization_id);

create table groups (
    id integer primary key,
    name text not null unique,
    created_at integer not null
);

create table group_members (
    group_id integer not null references groups (id) on delete cascade,
    user_id integer not null references users (id) on delete cascade,
    primary key (group_id, user_id)
);
create index group_members_by_user on group_members (user_id);

create table tickets (
    id integer primary key,
    subject text not null,
    description text not null,
    ticket_type text not null check (ticket_type in ('incident', 'support')),
    status text not null check (status in ('sent', 'in_progress', 'with_tech', 'awaiting_reply', 'solved', 'abandoned_triage')),
    organization_id integer references organizations (id),
    requester_id integer not null references users (id),
    assignee_id integer references users (id),
    group_id integer references groups (id),
    channel text not null check (channel in ('portal', 'widget', 'email', 'api', 'phone', 'demo')),
    created_at integer not null,
    updated_at integer not null,
    solved_at integer,
    -- Bumped on every change, so concurrent edits can be detected.
    version integer not null default 1
);
create index tickets_by_requester on tickets (requester_id, created_at, id);
create index tickets_by_org_created on tickets (organization_id, created_at, id);
create index tickets_by_org_status on tickets (organization_id, status, created_at, id);
create index tickets_by_status_updated on tickets (status, updated_at, id);
create index tickets_by_assignee on tickets (assignee_id, status);

-- Append-only: time in each status is derived from these rows.
create table status_events (
    id integer primary key,
    ticket_id integer not null references tickets (id) on delete cascade,
    from_status text,
    to_status text not null,
    at integer not null,
    actor_kind text not null check (actor_kind in ('customer', 'agent', 'system')),
    actor_id integer references users (id)
);
create index status_events_by_ticket on status_events (ticket_id, at, id);

create table comments (
    id integer primary key,
    ticket_id integer not null references tickets (id) on delete cascade,
    author_id integer references users (id),
    body text not null,
    public integer not null,
    created_at integer not null
);
create index comments_by_ticket on comments (ticket_id, created_at, id);

create table attachments (
    id integer primary key,
    ticket_id integer not null references tickets (id) on delete cascade,
    comment_id integer references comments (id) on delete cascade,
    file_name text not null,
    content_type text not null,
    size_bytes integer not null,
    sha256 text not null,
    storage_key text not null unique,
    uploaded_by integer references users (id),
    created_at integer not null
);
create index attachments_by_ticket on attachments (ticket_id, id);

create table contact_requests (
    id integer primary key,
    ticket_id integer not null references tickets (id) on delete cascade,
    requester_id integer not null references users (id),
    channel text not null check (channel in ('phone', 'video', 'chat')),
    phone text not null,
    preferred_window text not null,
    message text not null,
    state text not null check (state in ('open', 'handled')),
    created_at integer not null,
    handled_at integer,
    handled_by integer references users (id),
    handled_note text
);
create index contact_requests_by_ticket on contact_requests (ticket_id, created_at);
create index contact_requests_by_state on contact_requests (state, created_at);

-- Server-side sessions, so any node can serve any request. Only a hash of
-- the cookie value is stored.
create table sessions (
    id_hash text primary key,
    user_id integer not null references users (id) on delete cascade,
    csrf_token text not null,
    created_at integer not null,
    last_seen_at integer not null,
    expires_at integer not null
);
create index sessions_by_user on sessions (user_id);

-- SSO token ids already used; kept until the token would have expired.
create table sso_used_tokens (
    jti text primary key,
    used_at integer not null,
    expires_at integer not null
);

-- Login attempts per key (account or client address) within a window.
create table login_attempts (
    key text primary key,
    window_start integer not null,
    attempts integer not null
);

create table settings (
    key text primary key,
    value text not null,
    updated_at integer not null
);
