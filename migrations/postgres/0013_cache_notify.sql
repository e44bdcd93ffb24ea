-- Every node caches rows that change rarely but are read on every request:
-- sessions, users, memberships, organizations and the business-hours and
-- automation settings (`service::node_cache`). Whatever could make such a
-- read stale notifies `chamado_cache` at commit, and every node's listener
-- drops what it cached: a session ended or a user deactivated on one node
-- is refused on all of them. (PostgreSQL delivers one notice per
-- transaction for identical payloads.)
create function chamado_cache_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('chamado_cache', '');
    return null;
end
$$;

create trigger sessions_cache_changed after delete on sessions
    for each row execute function chamado_cache_changed();
create trigger users_cache_changed after update on users
    for each row execute function chamado_cache_changed();
create trigger memberships_cache_changed after insert or update or delete on memberships
    for each row execute function chamado_cache_changed();
create trigger organizations_cache_changed after update on organizations
    for each row execute function chamado_cache_changed();
create trigger settings_cache_changed after insert or update on settings
    for each row when (new.key in ('business_hours', 'automations'))
    execute function chamado_cache_changed();
