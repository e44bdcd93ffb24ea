-- The agent workspace's queues read every ticket, not one requester's or
-- one organization's: each queue is a status (or the open statuses of an
-- assignee or of no one) sorted by creation or last update, and the "all
-- tickets" view sorts the whole table. Without these, a queue on a large
-- help desk would sort the table on every page.
create index tickets_by_status_created on tickets (status, created_at, id);
create index tickets_by_created on tickets (created_at, id);
create index tickets_by_updated on tickets (updated_at, id);
create index tickets_by_group on tickets (group_id, status);
