-- When each ticket entered its current status: the time of its latest
-- status event, kept by a trigger on every status event written. The jobs
-- that remind and auto-solve tickets waiting for the customer read it from
-- one index range instead of each waiting ticket's status history (seconds
-- every round on a million tickets). `store::bench` suspends the trigger
-- during a bulk load and fills the column with the same `update` as here.
alter table tickets add column status_since integer;

update tickets set status_since =
    (select max(se.at) from status_events se where se.ticket_id = tickets.id);

create trigger status_events_since after insert on status_events begin
    update tickets set status_since = max(coalesce(status_since, new.at), new.at)
        where id = new.ticket_id;
end;

create index tickets_by_status_since on tickets (status, status_since, id);
