-- The Help Center (Central de Ajuda): categories hold sections, sections
-- hold articles. Names and article texts come in pt-BR (always) and English
-- (optional: pages fall back to the pt-BR text and say so). Times are
-- integer UTC microseconds. Every table and index here has a twin of the
-- same name in migrations/postgres/0008_help_center.sql, except the search
-- index, which is engine-specific by design.

create table hc_categories (
    id integer primary key,
    slug text not null,
    position integer not null,
    name_pt text not null,
    name_en text,
    description_pt text not null,
    description_en text,
    created_at integer not null,
    updated_at integer not null
);
create index hc_categories_by_position on hc_categories (position, id);

create table hc_sections (
    id integer primary key,
    category_id integer not null references hc_categories (id),
    slug text not null,
    position integer not null,
    name_pt text not null,
    name_en text,
    description_pt text not null,
    description_en text,
    created_at integer not null,
    updated_at integer not null
);
create index hc_sections_by_category on hc_sections (category_id, position, id);

create table hc_articles (
    id integer primary key,
    section_id integer not null references hc_sections (id),
    -- From the pt-BR title; URLs are /hc/articles/{id}-{slug}.
    slug text not null,
    position integer not null,
    status text not null check (status in ('draft', 'published')),
    author_id integer references users (id),
    created_at integer not null,
    updated_at integer not null,
    -- When the article was first published.
    published_at integer
);
create index hc_articles_by_section on hc_articles (section_id, position, id);
create index hc_articles_by_status on hc_articles (status, updated_at);

-- One row per article and language. `body` is the Markdown as written;
-- `body_text` its plain text, which search indexes and snippets quote.
create table hc_article_translations (
    id integer primary key,
    article_id integer not null references hc_articles (id) on delete cascade,
    locale text not null check (locale in ('pt-BR', 'en')),
    title text not null,
    body text not null,
    body_text text not null,
    updated_at integer not null,
    unique (article_id, locale)
);

-- Full-text search: an FTS5 index over the translations' title and plain
-- text (external content, so the text is stored once), accent-insensitive
-- through `remove_diacritics 2`, kept in step by the triggers below.
create virtual table hc_search using fts5 (
    title,
    body_text,
    content = 'hc_article_translations',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger hc_article_translations_ai after insert on hc_article_translations begin
    insert into hc_search (rowid, title, body_text) values (new.id, new.title, new.body_text);
end;
create trigger hc_article_translations_ad after delete on hc_article_translations begin
    insert into hc_search (hc_search, rowid, title, body_text)
        values ('delete', old.id, old.title, old.body_text);
end;
create trigger hc_article_translations_au after update on hc_article_translations begin
    insert into hc_search (hc_search, rowid, title, body_text)
        values ('delete', old.id, old.title, old.body_text);
    insert into hc_search (rowid, title, body_text) values (new.id, new.title, new.body_text);
end;
