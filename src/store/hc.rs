//! The Help Center's SQL: categories, sections, articles with their pt-BR and
//! English translations, and search (FTS5 on SQLite, `tsvector` on
//! PostgreSQL). Knows nothing of HTTP or of who may call it: the `hc`
//! service decides whether drafts are visible.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts, WritePool};
use crate::{domain::UserId, with_db};

/// The locale every article has.
pub const PRIMARY_LOCALE: &str = "pt-BR";

/// A category, as stored.
#[derive(Clone, Debug, FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub slug: String,
    pub position: i64,
    pub name_pt: String,
    pub name_en: Option<String>,
    pub description_pt: String,
    pub description_en: Option<String>,
    pub updated_at: Ts,
}

/// A section, as stored.
#[derive(Clone, Debug, FromRow)]
pub struct SectionRow {
    pub id: i64,
    pub category_id: i64,
    pub slug: String,
    pub position: i64,
    pub name_pt: String,
    pub name_en: Option<String>,
    pub description_pt: String,
    pub description_en: Option<String>,
    pub updated_at: Ts,
}

/// An article in a list, titled in the asked language (or in pt-BR when it
/// has no translation: `fallback`).
#[derive(Clone, Debug, FromRow)]
pub struct ArticleSummary {
    pub id: i64,
    pub section_id: i64,
    pub slug: String,
    pub position: i64,
    pub status: String,
    pub title: String,
    pub fallback: bool,
    pub updated_at: Ts,
}

/// An article with both translations.
#[derive(Clone, Debug, FromRow)]
pub struct ArticleRow {
    pub id: i64,
    pub section_id: i64,
    pub slug: String,
    pub position: i64,
    pub status: String,
    pub author_name: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub published_at: Option<Ts>,
    pub title_pt: String,
    pub body_pt: String,
    pub title_en: Option<String>,
    pub body_en: Option<String>,
}

/// A line of the admin's article list.
#[derive(Clone, Debug, FromRow)]
pub struct AdminArticleRow {
    pub id: i64,
    pub slug: String,
    pub status: String,
    pub title_pt: String,
    pub has_en: bool,
    pub section_name_pt: String,
    pub category_name_pt: String,
    pub updated_at: Ts,
}

/// Names and descriptions of a category or section.
#[derive(Clone, Debug)]
pub struct GroupWrite<'a> {
    pub slug: &'a str,
    pub position: i64,
    pub name_pt: &'a str,
    pub name_en: Option<&'a str>,
    pub description_pt: &'a str,
    pub description_en: Option<&'a str>,
}

/// One language of an article: the Markdown and its plain text.
#[derive(Clone, Debug)]
pub struct TranslationWrite<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub body_text: &'a str,
}

/// Everything an article save writes.
#[derive(Clone, Debug)]
pub struct ArticleWrite<'a> {
    pub section_id: i64,
    pub slug: &'a str,
    pub position: i64,
    pub published: bool,
    pub pt: TranslationWrite<'a>,
    /// `None` removes the English translation.
    pub en: Option<TranslationWrite<'a>>,
}

// ---------------------------------------------------------------------------
// Categories and sections

pub async fn list_categories(db: &Db) -> Result<Vec<CategoryRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, CategoryRow>(
            "select id, slug, position, name_pt, name_en, description_pt, description_en, updated_at \
             from hc_categories order by position, id",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn find_category(db: &Db, id: i64) -> Result<Option<CategoryRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, CategoryRow>(
            "select id, slug, position, name_pt, name_en, description_pt, description_en, updated_at \
             from hc_categories where id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Every section, by category and position.
pub async fn list_sections(db: &Db) -> Result<Vec<SectionRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, SectionRow>(
            "select s.id, s.category_id, s.slug, s.position, s.name_pt, s.name_en, s.description_pt, \
             s.description_en, s.updated_at from hc_sections s join hc_categories c on c.id = s.category_id \
             order by c.position, c.id, s.position, s.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn find_section(db: &Db, id: i64) -> Result<Option<SectionRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, SectionRow>(
            "select id, category_id, slug, position, name_pt, name_en, description_pt, description_en, updated_at \
             from hc_sections where id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn create_category(
    db: &Db,
    write: &GroupWrite<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "insert into hc_categories (slug, position, name_pt, name_en, description_pt, description_en, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $7) returning id",
        )
        .bind(write.slug)
        .bind(write.position)
        .bind(write.name_pt)
        .bind(write.name_en)
        .bind(write.description_pt)
        .bind(write.description_en)
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    }))
}

pub async fn update_category(
    db: &Db,
    id: i64,
    write: &GroupWrite<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = with_db!(db, |pool| {
        sqlx::query(
            "update hc_categories set slug = $1, position = $2, name_pt = $3, name_en = $4, \
             description_pt = $5, description_en = $6, updated_at = $7 where id = $8",
        )
        .bind(write.slug)
        .bind(write.position)
        .bind(write.name_pt)
        .bind(write.name_en)
        .bind(write.description_pt)
        .bind(write.description_en)
        .bind(Ts(now))
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Creates a section; an unknown category is a `Conflict`.
pub async fn create_section(
    db: &Db,
    category_id: i64,
    write: &GroupWrite<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "insert into hc_sections (category_id, slug, position, name_pt, name_en, description_pt, description_en, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning id",
        )
        .bind(category_id)
        .bind(write.slug)
        .bind(write.position)
        .bind(write.name_pt)
        .bind(write.name_en)
        .bind(write.description_pt)
        .bind(write.description_en)
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    }))
}

pub async fn update_section(
    db: &Db,
    id: i64,
    category_id: i64,
    write: &GroupWrite<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = with_db!(db, |pool| {
        sqlx::query(
            "update hc_sections set category_id = $1, slug = $2, position = $3, name_pt = $4, name_en = $5, \
             description_pt = $6, description_en = $7, updated_at = $8 where id = $9",
        )
        .bind(category_id)
        .bind(write.slug)
        .bind(write.position)
        .bind(write.name_pt)
        .bind(write.name_en)
        .bind(write.description_pt)
        .bind(write.description_en)
        .bind(Ts(now))
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Articles

/// The first `per_section` articles of every section, titled in `locale`.
/// Each section's articles are read through its index, so the cost grows
/// with the number of sections, not of articles.
pub async fn top_articles(
    db: &Db,
    locale: &str,
    include_drafts: bool,
    per_section: i64,
) -> Result<Vec<ArticleSummary>, StoreError> {
    match db {
        Db::Postgres(pool, _) => Ok(sqlx::query_as::<_, ArticleSummary>(
            "select a.id, a.section_id, a.slug, a.position, a.status, coalesce(tr.title, pt.title) as title, \
             (tr.id is null) as fallback, a.updated_at \
             from hc_sections s \
             cross join lateral (select * from hc_articles x where x.section_id = s.id \
               and ($2 or x.status = 'published') order by x.position, x.id limit $3) a \
             join hc_article_translations pt on pt.article_id = a.id and pt.locale = 'pt-BR' \
             left join hc_article_translations tr on tr.article_id = a.id and tr.locale = $1 \
             order by a.section_id, a.position, a.id",
        )
        .bind(locale)
        .bind(include_drafts)
        .bind(per_section)
        .fetch_all(pool)
        .await?),
        Db::Sqlite(pool, _) => {
            // SQLite has no LATERAL: one small indexed query per section.
            let sections: Vec<i64> = sqlx::query_scalar("select id from hc_sections")
                .fetch_all(pool)
                .await?;
            let mut out = Vec::new();
            for section in sections {
                out.extend(
                    sqlx::query_as::<_, ArticleSummary>(
                        "select a.id, a.section_id, a.slug, a.position, a.status, \
                         coalesce(tr.title, pt.title) as title, (tr.id is null) as fallback, a.updated_at \
                         from hc_articles a \
                         join hc_article_translations pt on pt.article_id = a.id and pt.locale = 'pt-BR' \
                         left join hc_article_translations tr on tr.article_id = a.id and tr.locale = $1 \
                         where a.section_id = $2 and ($3 or a.status = 'published') \
                         order by a.position, a.id limit $4",
                    )
                    .bind(locale)
                    .bind(section)
                    .bind(include_drafts)
                    .bind(per_section)
                    .fetch_all(pool)
                    .await?,
                );
            }
            Ok(out)
        }
    }
}

/// `limit` articles of a section from `offset`, titled in `locale`.
pub async fn section_articles(
    db: &Db,
    section_id: i64,
    locale: &str,
    include_drafts: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<ArticleSummary>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, ArticleSummary>(
            "select a.id, a.section_id, a.slug, a.position, a.status, coalesce(tr.title, pt.title) as title, \
             (tr.id is null) as fallback, a.updated_at \
             from hc_articles a \
             join hc_article_translations pt on pt.article_id = a.id and pt.locale = 'pt-BR' \
             left join hc_article_translations tr on tr.article_id = a.id and tr.locale = $1 \
             where a.section_id = $2 and ($3 or a.status = 'published') \
             order by a.position, a.id limit $4 offset $5",
        )
        .bind(locale)
        .bind(section_id)
        .bind(include_drafts)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?
    }))
}

/// An article with both translations, whatever its status.
pub async fn find_article(db: &Db, id: i64) -> Result<Option<ArticleRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, ArticleRow>(
            "select a.id, a.section_id, a.slug, a.position, a.status, u.name as author_name, a.created_at, \
             a.updated_at, a.published_at, pt.title as title_pt, pt.body as body_pt, en.title as title_en, \
             en.body as body_en \
             from hc_articles a \
             join hc_article_translations pt on pt.article_id = a.id and pt.locale = 'pt-BR' \
             left join hc_article_translations en on en.article_id = a.id and en.locale = 'en' \
             left join users u on u.id = a.author_id \
             where a.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Every article for the admin list, newest change first.
pub async fn admin_articles(db: &Db) -> Result<Vec<AdminArticleRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AdminArticleRow>(
            "select a.id, a.slug, a.status, pt.title as title_pt, \
             exists (select 1 from hc_article_translations en where en.article_id = a.id and en.locale = 'en') as has_en, \
             s.name_pt as section_name_pt, c.name_pt as category_name_pt, a.updated_at \
             from hc_articles a \
             join hc_article_translations pt on pt.article_id = a.id and pt.locale = 'pt-BR' \
             join hc_sections s on s.id = a.section_id \
             join hc_categories c on c.id = s.category_id \
             order by c.position, c.id, s.position, s.id, a.position, a.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Creates an article and its translations in one transaction; an unknown
/// section is a `Conflict` and then nothing is written.
pub async fn create_article(
    db: &Db,
    write: &ArticleWrite<'_>,
    author: Option<UserId>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let status = if write.published {
        "published"
    } else {
        "draft"
    };
    let published_at = write.published.then_some(Ts(now));
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into hc_articles (section_id, slug, position, status, author_id, created_at, updated_at, published_at) \
             values ($1, $2, $3, $4, $5, $6, $6, $7) returning id",
        )
        .bind(write.section_id)
        .bind(write.slug)
        .bind(write.position)
        .bind(status)
        .bind(author.map(|u| u.0))
        .bind(Ts(now))
        .bind(published_at)
        .fetch_one(&mut *tx)
        .await?;
        for (locale, translation) in [(PRIMARY_LOCALE, Some(&write.pt)), ("en", write.en.as_ref())]
        {
            if let Some(translation) = translation {
                sqlx::query(
                    "insert into hc_article_translations (article_id, locale, title, body, body_text, updated_at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(locale)
                .bind(translation.title)
                .bind(translation.body)
                .bind(translation.body_text)
                .bind(Ts(now))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        id
    }))
}

/// Rewrites an article and its translations in one transaction.
pub async fn update_article(
    db: &Db,
    id: i64,
    write: &ArticleWrite<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let status = if write.published {
        "published"
    } else {
        "draft"
    };
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(
            "update hc_articles set section_id = $1, slug = $2, position = $3, status = $4, updated_at = $5, \
             published_at = case when $4 = 'published' then coalesce(published_at, $5) else published_at end \
             where id = $6",
        )
        .bind(write.section_id)
        .bind(write.slug)
        .bind(write.position)
        .bind(status)
        .bind(Ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        for (locale, translation) in [(PRIMARY_LOCALE, Some(&write.pt)), ("en", write.en.as_ref())]
        {
            match translation {
                Some(translation) => {
                    sqlx::query(
                        "insert into hc_article_translations (article_id, locale, title, body, body_text, updated_at) \
                         values ($1, $2, $3, $4, $5, $6) \
                         on conflict (article_id, locale) do update set title = excluded.title, \
                         body = excluded.body, body_text = excluded.body_text, updated_at = excluded.updated_at",
                    )
                    .bind(id)
                    .bind(locale)
                    .bind(translation.title)
                    .bind(translation.body)
                    .bind(translation.body_text)
                    .bind(Ts(now))
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "delete from hc_article_translations where article_id = $1 and locale = $2",
                    )
                    .bind(id)
                    .bind(locale)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// Search

/// Marks the search functions put around matched words: control
/// characters that stored text never contains (the service strips them).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

/// What to search for.
#[derive(Clone, Debug)]
pub enum SearchQuery {
    /// An FTS5 `MATCH` expression whose every token is quoted.
    Fts5(String),
    /// Text for `websearch_to_tsquery`: as typed, and with plural endings
    /// removed (the Portuguese stemmer keeps the `s` of loanwords such as
    /// "tickets").
    WebSearch { typed: String, singular: String },
}

/// One published article that matched, in the asked language (or in pt-BR
/// when it has no translation).
#[derive(Clone, Debug, FromRow)]
pub struct SearchHit {
    pub article_id: i64,
    pub slug: String,
    pub locale: String,
    pub section_id: i64,
    pub section_slug: String,
    pub section_name_pt: String,
    pub section_name_en: Option<String>,
    pub category_id: i64,
    pub category_slug: String,
    pub category_name_pt: String,
    pub category_name_en: Option<String>,
    pub title: String,
    pub body_text: String,
    /// The title and text with [`MARK_START`]/[`MARK_END`] around matches;
    /// PostgreSQL gives two versions each (matches as written and folded),
    /// which the service merges.
    pub title_marked: String,
    pub title_marked_folded: Option<String>,
    pub body_marked: String,
    pub body_marked_folded: Option<String>,
    pub updated_at: Ts,
}

const HIT_COLUMNS: &str = "t.article_id, a.slug, t.locale, s.id as section_id, s.slug as section_slug, \
     s.name_pt as section_name_pt, s.name_en as section_name_en, c.id as category_id, \
     c.slug as category_slug, c.name_pt as category_name_pt, c.name_en as category_name_en, \
     t.title, t.body_text, a.updated_at";

/// Published articles matching `query` in `locale` (English searches also
/// cover the articles that exist only in pt-BR), best first: `limit` of
/// them from `offset`.
pub async fn search(
    db: &Db,
    locale: &str,
    query: &SearchQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<SearchHit>, StoreError> {
    let eligible = "a.status = 'published' and (t.locale = $2 or (t.locale = 'pt-BR' and not exists \
         (select 1 from hc_article_translations e where e.article_id = t.article_id and e.locale = $2)))";
    match (db, query) {
        (Db::Sqlite(pool, _), SearchQuery::Fts5(expression)) => {
            let sql = format!(
                "select {HIT_COLUMNS}, \
                 highlight(hc_search, 0, char(1), char(2)) as title_marked, null as title_marked_folded, \
                 highlight(hc_search, 1, char(1), char(2)) as body_marked, null as body_marked_folded \
                 from hc_search \
                 join hc_article_translations t on t.id = hc_search.rowid \
                 join hc_articles a on a.id = t.article_id \
                 join hc_sections s on s.id = a.section_id \
                 join hc_categories c on c.id = s.category_id \
                 where hc_search match $1 and {eligible} \
                 order by bm25(hc_search, 5.0, 1.0), t.id limit $3 offset $4"
            );
            Ok(sqlx::query_as::<_, SearchHit>(sqlx::AssertSqlSafe(sql))
                .bind(expression)
                .bind(locale)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?)
        }
        (Db::Postgres(pool, _), SearchQuery::WebSearch { typed, singular }) => {
            // $1: typed text; $5: singular. Each is matched as written and
            // folded, with the configuration of the translation's language.
            let sql = format!(
                "with q as (select \
                   websearch_to_tsquery('portuguese', $1) || websearch_to_tsquery('portuguese', hc_fold($1)) \
                   || websearch_to_tsquery('portuguese', $5) || websearch_to_tsquery('portuguese', hc_fold($5)) as pt, \
                   websearch_to_tsquery('english', $1) || websearch_to_tsquery('english', hc_fold($1)) \
                   || websearch_to_tsquery('english', $5) || websearch_to_tsquery('english', hc_fold($5)) as en), \
                 hits as ( \
                   select {HIT_COLUMNS}, case when t.locale = 'en' then q.en else q.pt end as query, \
                   case when t.locale = 'en' then 'english'::regconfig else 'portuguese'::regconfig end as config, \
                   ts_rank(t.search_vector, case when t.locale = 'en' then q.en else q.pt end) as rank, t.id, \
                   t.title_folded, t.body_folded \
                   from q, hc_article_translations t \
                   join hc_articles a on a.id = t.article_id \
                   join hc_sections s on s.id = a.section_id \
                   join hc_categories c on c.id = s.category_id \
                   where ((t.locale = 'en' and t.search_vector @@ q.en) or (t.locale = 'pt-BR' and t.search_vector @@ q.pt)) \
                   and {eligible} \
                   order by rank desc, t.id limit $3 offset $4) \
                 select article_id, slug, locale, section_id, section_slug, section_name_pt, section_name_en, \
                 category_id, category_slug, category_name_pt, category_name_en, title, body_text, updated_at, \
                 ts_headline(config, title, query, $6) as title_marked, \
                 ts_headline(config, title_folded, query, $6) as title_marked_folded, \
                 ts_headline(config, body_text, query, $6) as body_marked, \
                 ts_headline(config, body_folded, query, $6) as body_marked_folded \
                 from hits order by rank desc, id"
            );
            let options =
                format!("StartSel=\"{MARK_START}\", StopSel=\"{MARK_END}\", HighlightAll=true");
            Ok(sqlx::query_as::<_, SearchHit>(sqlx::AssertSqlSafe(sql))
                .bind(typed)
                .bind(locale)
                .bind(limit)
                .bind(offset)
                .bind(singular)
                .bind(options)
                .fetch_all(pool)
                .await?)
        }
        _ => Err(StoreError::Other(anyhow::anyhow!(
            "search query does not fit the database engine"
        ))),
    }
}
