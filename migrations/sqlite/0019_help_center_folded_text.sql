-- The PostgreSQL twin of this file stores each Help Center translation's
-- accent-folded title and text for its search highlights. SQLite's search
-- highlights through FTS5, which folds as it reads: nothing to add here.
select 1;
