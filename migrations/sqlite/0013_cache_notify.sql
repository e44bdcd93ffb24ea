-- PostgreSQL's 0013 adds triggers that tell every node when rows it caches
-- (sessions, users, memberships, organizations, some settings) change. A
-- SQLite database is served by one node, which drops what it cached after
-- its own writes: there is nothing to add here.
select 1;
