-- The SQLite twin of this file rebuilds its FTS5 index of tickets with the
-- ticket's organization and requester as scope tokens, so that a search
-- within a customer's organizations reads only their matches. PostgreSQL's
-- search (0010: `search_vector` columns with GIN indexes) needs no change:
-- these objects are engine-specific by design.
select 1;
