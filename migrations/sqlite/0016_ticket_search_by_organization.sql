-- Ticket search read one organization's range of the index. 0014 put each
-- ticket's organization into `ticket_search` as a token, so a search in a
-- large organization walked that token's whole list (a hundred thousand
-- entries) beside the word's, and a prefix (`bolet*`) merged the lists of
-- every matching term over all organizations before the scope applied. Here
-- the index is rebuilt with the organization in the rowid instead:
--
--     rowid = (organization id, 0 without one) << 32 | ticket id
--
-- so one organization's tickets are one rowid range, which FTS5 seeks to in
-- every term's list (`store::ticket_search`). Ticket ids stay below 2^32 and
-- organization ids below 2^31 (far beyond any help desk). The requester
-- stays a scope token (U+E000 `u<id>`) for "my tickets". Prefixes are no
-- longer left to FTS5: the vocabulary tables below list the index's terms,
-- and a typed word is expanded to the terms that start with it, each then
-- matched exactly (which seeks) instead of merged. The PostgreSQL twin of
-- this file changes nothing: these objects are engine-specific by design.

drop trigger tickets_search_ai;
drop trigger tickets_search_ad;
drop trigger tickets_search_au;
drop table ticket_search;

create virtual table ticket_search using fts5 (
    subject,
    description,
    scope,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- One row per occurrence, in term order: `term >= $1 limit 1` is a seek.
create virtual table ticket_search_terms using fts5vocab (ticket_search, 'instance');
create virtual table comment_search_terms using fts5vocab (comment_search, 'instance');

create trigger tickets_search_ai after insert on tickets begin
    insert into ticket_search (rowid, subject, description, scope)
        values ((coalesce(new.organization_id, 0) << 32) | new.id, new.subject, new.description,
            char(57344) || 'u' || new.requester_id);
end;
create trigger tickets_search_ad after delete on tickets begin
    delete from ticket_search where rowid = (coalesce(old.organization_id, 0) << 32) | old.id;
end;
create trigger tickets_search_au after update of subject, description, organization_id, requester_id on tickets begin
    delete from ticket_search where rowid = (coalesce(old.organization_id, 0) << 32) | old.id;
    insert into ticket_search (rowid, subject, description, scope)
        values ((coalesce(new.organization_id, 0) << 32) | new.id, new.subject, new.description,
            char(57344) || 'u' || new.requester_id);
end;

-- Index the tickets that exist already (about 25 s for a million).
insert into ticket_search (rowid, subject, description, scope)
    select (coalesce(organization_id, 0) << 32) | id, subject, description,
        char(57344) || 'u' || requester_id
    from tickets;

-- Both ticket indexes as one segment each, so that every term is one seek
-- (a bulk fill leaves dozens of segments, each seeked for every term: a
-- small organization's search took ten times longer). New rows add small
-- segments that FTS5 merges on its own. About 4 s for a million tickets.
insert into ticket_search (ticket_search) values ('optimize');
insert into comment_search (comment_search) values ('optimize');
