-- A new-ticket form carries a one-time key, so a double submit creates one
-- ticket, not two.
alter table tickets add column submission_key text;
create unique index tickets_by_submission_key on tickets (submission_key);
-- Lists sorted by last update, scoped by requester or organization.
create index tickets_by_requester_updated on tickets (requester_id, updated_at, id);
create index tickets_by_org_updated on tickets (organization_id, updated_at, id);
