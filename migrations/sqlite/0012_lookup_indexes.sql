-- The agent workspace's filter menus: the staff by name (a partial index:
-- among a hundred thousand customers there are a few dozen agents) and
-- the organizations by name.
create index users_staff_by_name on users (name, id) where role in ('agent', 'admin');
create index organizations_by_name on organizations (name, id);
