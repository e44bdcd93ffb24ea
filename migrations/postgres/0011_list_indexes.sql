-- Company lists filtered by status and sorted by last update read one
-- index range per (organization, status), in order (src/store/portal.rs).
create index tickets_by_org_status_updated on tickets (organization_id, status, updated_at, id);
