-- A search's counts (the number of matches beside each status) read only
-- the matches of the organizations or requester the list is about, as the
-- SQLite twin's FTS5 index does since 0016. Before, PostgreSQL walked every
-- ticket of the viewer's organizations and looked up each one's comments:
-- about a second for an organization of a hundred thousand tickets, several
-- when its pages were not in memory.
--
-- Two GIN indexes hold the search vector together with scope tokens:
-- `U+E000` followed by `o` and the organization's id, `u` and the
-- requester's id, and `p` on public comments. U+E000 is a private-use
-- character that PostgreSQL's parser never keeps inside a word, so no typed
-- text can become a scope token; a count adds them with `&&` and the index
-- intersects the lists (`store::ticket_search`). A count that names no
-- scope uses the same indexes. The tickets' index replaces the plain one,
-- which nothing read; the comments' plain index stays, for the lists: they
-- walk their tickets in order and look each one's comments up in the set of
-- matching comments when few comments match.

-- A comment carries its ticket's organization for that: a trigger fills it
-- on every insert, whatever the statement says, and another follows a
-- ticket moved to another organization. These objects are engine-specific
-- by design: the SQLite twin of this file changes nothing.

alter table comments add column organization_id bigint;
update comments c set organization_id = t.organization_id
    from tickets t where t.id = c.ticket_id and t.organization_id is not null;

create function chamado_comment_organization() returns trigger
language plpgsql as $$
begin
    new.organization_id := (select organization_id from tickets where id = new.ticket_id);
    return new;
end
$$;
create trigger comments_organization before insert on comments
    for each row execute function chamado_comment_organization();

create function chamado_ticket_organization_moved() returns trigger
language plpgsql as $$
begin
    update comments set organization_id = new.organization_id where ticket_id = new.id;
    return null;
end
$$;
create trigger tickets_organization_moved after update of organization_id on tickets
    for each row when (old.organization_id is distinct from new.organization_id)
    execute function chamado_ticket_organization_moved();

-- The scope tokens of a ticket (organization, requester, public) or a
-- comment (organization, public or not).
create function chamado_search_scope(organization bigint, requester bigint, is_public boolean)
returns tsvector language sql immutable parallel safe as $$
    select array_to_tsvector(array_remove(array[
        U&'\E000o' || organization::text,
        U&'\E000u' || requester::text,
        case when is_public then U&'\E000p' end
    ], null))
$$;

drop index tickets_search;
create index tickets_scoped_search on tickets using gin (
    (search_vector || chamado_search_scope(organization_id, requester_id, true))
);
create index comments_scoped_search on comments using gin (
    (search_vector || chamado_search_scope(organization_id, null::bigint, public))
);
