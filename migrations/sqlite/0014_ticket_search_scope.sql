-- Ticket search restricted to the viewer's scope inside the index. The
-- FTS5 index of tickets (0010) is rebuilt as a contentless table whose
-- third column holds scope tokens: the ticket's organization and its
-- requester, each written as U+E000 (a private-use character that unicode61
-- keeps inside tokens) followed by `o<organization id>` or `u<requester id>`.
-- Searched words are runs of letters and digits (`store::ticket_search`), so
-- no typed word, prefix or not, can match a scope token; a list adds the
-- tokens of the organizations it reads to its expression, and FTS5 returns
-- only that organization's matches instead of every ticket with the word.
-- The list's own conditions still decide what the viewer may see.
-- Comments keep their index (0010). The PostgreSQL twin of this file
-- changes nothing: these objects are engine-specific by design.

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

create trigger tickets_search_ai after insert on tickets begin
    insert into ticket_search (rowid, subject, description, scope)
        values (new.id, new.subject, new.description,
            coalesce(char(57344) || 'o' || new.organization_id || ' ', '') || char(57344) || 'u' || new.requester_id);
end;
create trigger tickets_search_ad after delete on tickets begin
    delete from ticket_search where rowid = old.id;
end;
create trigger tickets_search_au after update of subject, description, organization_id, requester_id on tickets begin
    delete from ticket_search where rowid = old.id;
    insert into ticket_search (rowid, subject, description, scope)
        values (new.id, new.subject, new.description,
            coalesce(char(57344) || 'o' || new.organization_id || ' ', '') || char(57344) || 'u' || new.requester_id);
end;

-- Index the tickets that exist already (about 15 s for a million).
insert into ticket_search (rowid, subject, description, scope)
    select id, subject, description,
        coalesce(char(57344) || 'o' || organization_id || ' ', '') || char(57344) || 'u' || requester_id
    from tickets;
