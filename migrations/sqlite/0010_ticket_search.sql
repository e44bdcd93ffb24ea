-- Full-text search over tickets: the subject and description of each ticket,
-- and the body of each comment (the queries decide which comments a viewer
-- may search: customers only public ones, agents internal notes too). FTS5
-- external-content indexes, so the text is stored once, accent-insensitive
-- through `remove_diacritics 2` like the Help Center's, kept in step by the
-- triggers below. The PostgreSQL twin of this file indexes the same text
-- with `tsvector` columns instead: these objects are engine-specific by
-- design.

create virtual table ticket_search using fts5 (
    subject,
    description,
    content = 'tickets',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

create virtual table comment_search using fts5 (
    body,
    content = 'comments',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Tickets change often (status, assignee, times): only a change of the
-- indexed text touches the index.
create trigger tickets_search_ai after insert on tickets begin
    insert into ticket_search (rowid, subject, description)
        values (new.id, new.subject, new.description);
end;
create trigger tickets_search_ad after delete on tickets begin
    insert into ticket_search (ticket_search, rowid, subject, description)
        values ('delete', old.id, old.subject, old.description);
end;
create trigger tickets_search_au after update of subject, description on tickets begin
    insert into ticket_search (ticket_search, rowid, subject, description)
        values ('delete', old.id, old.subject, old.description);
    insert into ticket_search (rowid, subject, description)
        values (new.id, new.subject, new.description);
end;

create trigger comments_search_ai after insert on comments begin
    insert into comment_search (rowid, body) values (new.id, new.body);
end;
create trigger comments_search_ad after delete on comments begin
    insert into comment_search (comment_search, rowid, body) values ('delete', old.id, old.body);
end;
create trigger comments_search_au after update of body on comments begin
    insert into comment_search (comment_search, rowid, body) values ('delete', old.id, old.body);
    insert into comment_search (rowid, body) values (new.id, new.body);
end;

-- Index the tickets and comments that exist already.
insert into ticket_search (ticket_search) values ('rebuild');
insert into comment_search (comment_search) values ('rebuild');
