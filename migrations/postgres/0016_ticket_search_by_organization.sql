-- The SQLite twin of this file rebuilds its FTS5 index of tickets with the
-- ticket's organization in the rowid, so that a search within one
-- organization reads only that organization's range of every term, and adds
-- vocabulary tables to expand typed prefixes into exact terms. PostgreSQL's
-- search (0010: `search_vector` columns with GIN indexes) needs no change:
-- these objects are engine-specific by design.
select 1;
