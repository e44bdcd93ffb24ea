-- The PostgreSQL twin of this file has every change to the Help Center's
-- tables notify the other nodes, which cache Help Center search result
-- pages. A SQLite file is served by one node, which drops its cache after
-- each write request it serves: nothing to add here.
select 1;
