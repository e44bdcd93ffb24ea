-- A new ticket is inserted with its `status_since` already set (the time of
-- its first status event), and the trigger of migration 0015 now writes only
-- when a status event moves the time forward. Before, every new ticket was
-- written twice: the trigger's update rewrote the row, recomputed its search
-- vector and added a second entry to each of the table's indexes.
create or replace function chamado_status_since() returns trigger
language plpgsql as $$
begin
    update tickets set status_since = new.at
        where id = new.ticket_id and (status_since is null or status_since < new.at);
    return null;
end
$$;
