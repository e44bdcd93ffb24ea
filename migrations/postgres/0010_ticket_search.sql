-- Full-text search over tickets: the subject and description of each ticket,
-- and the body of each comment (the queries decide which comments a viewer
-- may search: customers only public ones, agents internal notes too).
-- `search_vector` holds the text folded by hc_fold (the Help Center's accent
-- folding, migrations/postgres/0008_help_center.sql) and stemmed with the
-- `portuguese` configuration; queries are folded the same way, so "nao"
-- finds "não" and "não" finds "nao". The SQLite twin of this file indexes
-- the same text with FTS5 tables instead: these objects are engine-specific
-- by design.

alter table tickets add column search_vector tsvector generated always as (
    to_tsvector('portuguese'::regconfig, hc_fold(subject) || ' ' || hc_fold(description))
) stored;
create index tickets_search on tickets using gin (search_vector);

alter table comments add column search_vector tsvector generated always as (
    to_tsvector('portuguese'::regconfig, hc_fold(body))
) stored;
create index comments_search on comments using gin (search_vector);
