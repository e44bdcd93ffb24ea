-- The PostgreSQL twin of this file adds scope tokens (organization,
-- requester, public) to its GIN indexes of tickets and comments, and the
-- ticket's organization to each comment, so that a search's counts read
-- only the matches of the organizations a list is about. SQLite's FTS5
-- index of tickets has done so since 0016 (the organization in the rowid,
-- the requester as a token): these objects are engine-specific by design.
select 1;
