//! The Help Center (Central de Ajuda): what a visitor may read, search, and
//! what admins write.
//!
//! Published articles are public, like a Zendesk Help Center; drafts exist
//! only for agents and admins (for everyone else they are missing, exactly
//! like an article that never existed). Each article has a pt-BR text and
//! may have an English one; a missing English text falls back to pt-BR and
//! the page says so. Search is full-text and accent-insensitive: FTS5 with
//! prefix matching on SQLite, Portuguese (or English) stemming on PostgreSQL.

use std::sync::Arc;

use jiff::Timestamp;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::{
    AppState,
    domain::{Lang, UserId},
    service::admin::FieldErrors,
    store::{
        Db, StoreError,
        hc::{
            self as store, AdminArticleRow, ArticleRow, ArticleSummary, ArticleWrite, CategoryRow,
            GroupWrite, MARK_END, MARK_START, SearchHit, SearchQuery, SectionRow, TranslationWrite,
        },
    },
    web::markdown::render_markdown,
};

/// How many articles a section shows on the home and category pages.
pub const TOP_ARTICLES: i64 = 6;
/// Results per search page, and the last page offered.
pub const SEARCH_PAGE_SIZE: i64 = 10;
pub const SEARCH_MAX_PAGE: i64 = 20;
/// Longest query read, in characters, and most words used.
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_TOKENS: usize = 12;
/// Length of a search result's excerpt, in characters.
const SNIPPET_CHARS: usize = 220;

const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 100_000;
const MAX_NAME: usize = 120;
const MAX_DESCRIPTION: usize = 500;

/// Why a Help Center action did nothing.
#[derive(Debug, thiserror::Error)]
pub enum HcError {
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HcError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => HcError::NotFound,
            other => HcError::Store(other),
        }
    }
}

/// Who is reading: their language, and whether drafts exist for them.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub lang: Lang,
    pub staff: bool,
}

/// The name in `lang`, or the pt-BR one when there is no English name.
fn localized(lang: Lang, pt: &str, en: Option<&str>) -> String {
    match (lang, en) {
        (Lang::En, Some(en)) if !en.trim().is_empty() => en.to_owned(),
        _ => pt.to_owned(),
    }
}

/// A category or section as a page shows it.
#[derive(Clone, Debug)]
pub struct GroupView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

impl GroupView {
    fn category(row: &CategoryRow, lang: Lang) -> Self {
        Self {
            id: row.id,
            slug: row.slug.clone(),
            name: localized(lang, &row.name_pt, row.name_en.as_deref()),
            description: localized(lang, &row.description_pt, row.description_en.as_deref()),
        }
    }

    fn section(row: &SectionRow, lang: Lang) -> Self {
        Self {
            id: row.id,
            slug: row.slug.clone(),
            name: localized(lang, &row.name_pt, row.name_en.as_deref()),
            description: localized(lang, &row.description_pt, row.description_en.as_deref()),
        }
    }
}

/// A section with (some of) its articles.
#[derive(Clone, Debug)]
pub struct SectionView {
    pub section: GroupView,
    pub articles: Vec<ArticleSummary>,
}

/// A category with its sections.
#[derive(Clone, Debug)]
pub struct CategoryView {
    pub category: GroupView,
    pub sections: Vec<SectionView>,
}

fn locale(lang: Lang) -> &'static str {
    lang.code()
}

/// Every category with its sections and their first articles.
pub async fn home(state: &AppState, viewer: Viewer) -> Result<Vec<CategoryView>, HcError> {
    let categories = store::list_categories(&state.db).await?;
    let sections = store::list_sections(&state.db).await?;
    let articles =
        store::top_articles(&state.db, locale(viewer.lang), viewer.staff, TOP_ARTICLES).await?;
    Ok(categories
        .iter()
        .map(|c| CategoryView {
            category: GroupView::category(c, viewer.lang),
            sections: sections
                .iter()
                .filter(|s| s.category_id == c.id)
                .map(|s| SectionView {
                    section: GroupView::section(s, viewer.lang),
                    articles: articles
                        .iter()
                        .filter(|a| a.section_id == s.id)
                        .cloned()
                        .collect(),
                })
                .collect(),
        })
        .collect())
}

/// One category with its sections and their first articles.
pub async fn category(state: &AppState, viewer: Viewer, id: i64) -> Result<CategoryView, HcError> {
    home(state, viewer)
        .await?
        .into_iter()
        .find(|c| c.category.id == id)
        .ok_or(HcError::NotFound)
}

/// Articles per section page.
pub const SECTION_PAGE_SIZE: i64 = 30;

/// A section page: its category and one page of its articles.
#[derive(Clone, Debug)]
pub struct SectionPage {
    pub category: GroupView,
    pub section: SectionView,
    /// Starts at 1.
    pub page: i64,
    pub more: bool,
}

/// One page (from 1) of a section's articles.
pub async fn section(
    state: &AppState,
    viewer: Viewer,
    id: i64,
    page: i64,
) -> Result<SectionPage, HcError> {
    let page = page.clamp(1, 100_000);
    let section = store::find_section(&state.db, id)
        .await?
        .ok_or(HcError::NotFound)?;
    let category = store::find_category(&state.db, section.category_id)
        .await?
        .ok_or(HcError::NotFound)?;
    let mut articles = store::section_articles(
        &state.db,
        id,
        locale(viewer.lang),
        viewer.staff,
        SECTION_PAGE_SIZE + 1,
        (page - 1) * SECTION_PAGE_SIZE,
    )
    .await?;
    let more = i64::try_from(articles.len()).unwrap_or(i64::MAX) > SECTION_PAGE_SIZE;
    articles.truncate(usize::try_from(SECTION_PAGE_SIZE).unwrap_or(0));
    Ok(SectionPage {
        category: GroupView::category(&category, viewer.lang),
        section: SectionView {
            section: GroupView::section(&section, viewer.lang),
            articles,
        },
        page,
        more,
    })
}

/// An article as its page shows it.
#[derive(Clone, Debug)]
pub struct ArticleView {
    pub id: i64,
    pub slug: String,
    pub draft: bool,
    pub title: String,
    /// Rendered and sanitized Markdown.
    pub body_html: String,
    /// The English text is missing and this is the pt-BR one.
    pub fallback: bool,
    /// The language of the text shown.
    pub text_lang: Lang,
    pub category: GroupView,
    pub section: GroupView,
    pub updated_at: Timestamp,
    /// Other articles of the section.
    pub related: Vec<ArticleSummary>,
}

/// An article the viewer may read; drafts only for staff.
pub async fn article(state: &AppState, viewer: Viewer, id: i64) -> Result<ArticleView, HcError> {
    let row = store::find_article(&state.db, id)
        .await?
        .ok_or(HcError::NotFound)?;
    let draft = row.status != "published";
    if draft && !viewer.staff {
        return Err(HcError::NotFound);
    }
    let section = store::find_section(&state.db, row.section_id)
        .await?
        .ok_or(HcError::NotFound)?;
    let category = store::find_category(&state.db, section.category_id)
        .await?
        .ok_or(HcError::NotFound)?;
    let (title, body, fallback, text_lang) = match (viewer.lang, &row.title_en, &row.body_en) {
        (Lang::En, Some(title), Some(body)) => (title.clone(), body.clone(), false, Lang::En),
        (Lang::En, _, _) => (row.title_pt.clone(), row.body_pt.clone(), true, Lang::PtBr),
        (Lang::PtBr, _, _) => (row.title_pt.clone(), row.body_pt.clone(), false, Lang::PtBr),
    };
    let related = store::section_articles(
        &state.db,
        row.section_id,
        locale(viewer.lang),
        viewer.staff,
        6,
        0,
    )
    .await?
    .into_iter()
    .filter(|a| a.id != row.id)
    .take(5)
    .collect();
    Ok(ArticleView {
        id: row.id,
        slug: row.slug,
        draft,
        title,
        body_html: render_markdown(&body),
        fallback,
        text_lang,
        category: GroupView::category(&category, viewer.lang),
        section: GroupView::section(&section, viewer.lang),
        updated_at: row.updated_at.0,
        related,
    })
}

// ---------------------------------------------------------------------------
// Search

/// One search result, ready for the page: the title and excerpt are HTML
/// with every character of the article escaped and `<mark>` around the
/// matched words.
#[derive(Clone, Debug)]
pub struct SearchResult {
    pub article_id: i64,
    pub slug: String,
    pub title_html: String,
    pub snippet_html: String,
    pub category: GroupView,
    pub section: GroupView,
    pub fallback: bool,
}

/// A page of results and whether another follows.
#[derive(Clone, Debug)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    pub page: i64,
    pub more: bool,
}

/// The query as read: at most [`MAX_QUERY_CHARS`] characters, without
/// control characters, trimmed.
pub fn clean_query(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The words of a query: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Portuguese and English words too common to narrow a search; dropped
/// from SQLite queries (PostgreSQL's configurations have their own lists).
const STOP_WORDS: [&str; 40] = [
    "a", "o", "as", "os", "e", "de", "da", "do", "das", "dos", "em", "no", "na", "nos", "nas",
    "um", "uma", "para", "por", "com", "como", "que", "se", "meu", "minha", "the", "an", "of",
    "to", "in", "on", "for", "and", "or", "is", "my", "how", "do", "i", "with",
];

/// The word without a plural `s` (`tickets` → `ticket`), for words long
/// enough that the `s` is likely an ending.
fn singular(word: &str) -> &str {
    if word.chars().count() >= 4
        && let Some(stem) = word.strip_suffix(['s', 'S'])
        && !stem.ends_with(['s', 'S'])
    {
        return stem;
    }
    word
}

/// The words a SQLite search matches, lower case and made singular, stop
/// words dropped unless nothing else is left; at most `MAX_QUERY_TOKENS`.
pub fn fts5_words(query: &str) -> Vec<String> {
    let all: Vec<String> = words(query)
        .take(MAX_QUERY_TOKENS)
        .map(str::to_lowercase)
        .collect();
    let useful: Vec<&String> = all
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect();
    let chosen: Vec<&String> = if useful.is_empty() {
        all.iter().collect()
    } else {
        useful
    };
    chosen.iter().map(|w| singular(w).to_owned()).collect()
}

/// An FTS5 string literal: the text in double quotes, inner quotes doubled,
/// so that nothing in it is read as syntax.
pub fn fts5_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 expression for a query: every word quoted (so nothing the
/// visitor types is read as syntax), made singular and matched as a prefix,
/// all required. `None` when no word is left.
pub fn fts5_expression(query: &str) -> Option<String> {
    let words = fts5_words(query);
    if words.is_empty() {
        return None;
    }
    Some(
        words
            .iter()
            .map(|w| format!("{}*", fts5_quoted(w)))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The query with each word made singular, everything else kept (quotes,
/// `-`, `or` keep their meaning for `websearch_to_tsquery`).
fn singular_text(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut word = String::new();
    for c in query.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            out.push_str(singular(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(singular(&word));
    out
}

/// Searches the published articles in the viewer's language. `page`
/// starts at 1; pages past [`SEARCH_MAX_PAGE`] are not offered.
pub async fn search(
    state: &AppState,
    lang: Lang,
    raw_query: &str,
    page: i64,
) -> Result<Arc<SearchPage>, HcError> {
    let page = page.clamp(1, SEARCH_MAX_PAGE);
    let query = clean_query(raw_query);
    super::node_cache::help_center_search(state, (lang, query.clone(), page), async || {
        search_uncached(state, lang, query, page).await
    })
    .await
}

/// [`search`] without the node's cache.
async fn search_uncached(
    state: &AppState,
    lang: Lang,
    query: String,
    page: i64,
) -> Result<SearchPage, HcError> {
    let empty = SearchPage {
        results: Vec::new(),
        page,
        more: false,
    };
    let search_query = match &state.db {
        Db::Sqlite(..) => match fts5_expression(&query) {
            Some(expression) => SearchQuery::Fts5(expression),
            None => return Ok(empty),
        },
        Db::Postgres(..) => {
            if words(&query).next().is_none() {
                return Ok(empty);
            }
            SearchQuery::WebSearch {
                singular: singular_text(&query),
                typed: query,
            }
        }
    };
    let mut hits = store::search(
        &state.db,
        locale(lang),
        &search_query,
        SEARCH_PAGE_SIZE + 1,
        (page - 1) * SEARCH_PAGE_SIZE,
    )
    .await?;
    let more =
        i64::try_from(hits.len()).unwrap_or(i64::MAX) > SEARCH_PAGE_SIZE && page < SEARCH_MAX_PAGE;
    hits.truncate(usize::try_from(SEARCH_PAGE_SIZE).unwrap_or(0));
    Ok(SearchPage {
        results: hits.iter().map(|hit| search_result(hit, lang)).collect(),
        page,
        more,
    })
}

fn search_result(hit: &SearchHit, lang: Lang) -> SearchResult {
    let title_mask = mask(
        &hit.title,
        &[
            &hit.title_marked,
            hit.title_marked_folded.as_deref().unwrap_or(""),
        ],
    );
    let body_mask = mask(
        &hit.body_text,
        &[
            &hit.body_marked,
            hit.body_marked_folded.as_deref().unwrap_or(""),
        ],
    );
    SearchResult {
        article_id: hit.article_id,
        slug: hit.slug.clone(),
        title_html: marked_html(&hit.title, &title_mask, 0, usize::MAX),
        snippet_html: snippet_html(&hit.body_text, &body_mask),
        category: GroupView {
            id: hit.category_id,
            slug: hit.category_slug.clone(),
            name: localized(lang, &hit.category_name_pt, hit.category_name_en.as_deref()),
            description: String::new(),
        },
        section: GroupView {
            id: hit.section_id,
            slug: hit.section_slug.clone(),
            name: localized(lang, &hit.section_name_pt, hit.section_name_en.as_deref()),
            description: String::new(),
        },
        fallback: lang == Lang::En && hit.locale != "en",
    }
}

/// Which characters of `original` any of the `marked` versions highlights.
/// A version is the original (or its one-for-one accent folding) with
/// [`MARK_START`]/[`MARK_END`] around matches; one that does not line up
/// with the original is ignored rather than trusted.
fn mask(original: &str, marked: &[&str]) -> Vec<bool> {
    let length = original.chars().count();
    let mut out = vec![false; length];
    for version in marked {
        let mut inside = false;
        let mut these = Vec::with_capacity(length);
        for c in version.chars() {
            match c {
                MARK_START => inside = true,
                MARK_END => inside = false,
                _ => these.push(inside),
            }
        }
        if these.len() == length {
            for (o, t) in out.iter_mut().zip(these) {
                *o |= t;
            }
        }
    }
    out
}

/// Characters `from..to` of `text` as HTML: every character escaped,
/// whitespace runs as one space, `<mark>` around the highlighted ones.
fn marked_html(text: &str, mask: &[bool], from: usize, to: usize) -> String {
    let mut out = String::new();
    let mut open = false;
    let mut last_space = false;
    let mut previous = ' ';
    for (i, c) in text
        .chars()
        .enumerate()
        .skip(from)
        .take(to.saturating_sub(from))
    {
        let marked = mask.get(i).copied().unwrap_or(false) && !c.is_whitespace();
        if c.is_whitespace() {
            // A block break after a heading or list item reads as a pause.
            if c == '\n' && !last_space && !matches!(previous, '.' | ':' | '!' | '?' | ';' | ',') {
                out.push_str(if open { "</mark> ·" } else { " ·" });
                open = false;
            }
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        previous = c;
        if marked && !open {
            out.push_str("<mark>");
            open = true;
        } else if !marked && open {
            out.push_str("</mark>");
            open = false;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// An excerpt of about [`SNIPPET_CHARS`] characters around the first
/// highlighted word (or the beginning), cut at word boundaries.
fn snippet_html(text: &str, mask: &[bool]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let first = mask.iter().position(|m| *m).unwrap_or(0);
    let mut start = first.saturating_sub(SNIPPET_CHARS / 3);
    if start > 0 {
        while start < first && !chars[start - 1].is_whitespace() {
            start += 1;
        }
    }
    let mut end = (start + SNIPPET_CHARS).min(chars.len());
    if end < chars.len() {
        while end > first + 1 && !chars[end].is_whitespace() {
            end -= 1;
        }
    }
    let mut out = String::new();
    if start > 0 {
        out.push_str("… ");
    }
    out.push_str(marked_html(text, mask, start, end).trim());
    if end < chars.len() {
        out.push_str(" …");
    }
    out
}

// ---------------------------------------------------------------------------
// Writing

/// The plain text of Markdown, for search and excerpts: the words without
/// the markup, blocks separated by line breaks, no control characters.
pub fn markdown_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for event in Parser::new_ext(source, pulldown_cmark::Options::ENABLE_TABLES) {
        match event {
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                out.push_str(&text);
            }
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::TableCell)
            | Event::Start(Tag::Item) => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            _ => {}
        }
    }
    out.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A URL slug: lower-case ASCII letters and digits joined by hyphens, accents
/// dropped, at most 80 characters.
pub fn slugify(text: &str) -> String {
    super::slug(text, 80, "artigo")
}

/// A single-line text of 1 to `max` characters.
fn line(value: &str, max: usize) -> Result<&str, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        Err("form.required")
    } else if value.chars().count() > max {
        Err("form.too_long")
    } else if value.chars().any(char::is_control) {
        Err("hc.errors.bad_characters")
    } else {
        Ok(value)
    }
}

/// An optional single-line text: empty is `None`.
fn optional_line(value: &str, max: usize) -> Result<Option<&str>, &'static str> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        line(value, max).map(Some)
    }
}

/// A multi-line text of up to `max` characters (tabs and line breaks
/// allowed, other control characters not).
fn text_block(value: &str, max: usize, required: bool) -> Result<&str, &'static str> {
    let value = value.trim();
    if value.is_empty() && required {
        Err("form.required")
    } else if value.chars().count() > max {
        Err("form.too_long")
    } else if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Err("hc.errors.bad_characters")
    } else {
        Ok(value)
    }
}

fn position(value: &str) -> Result<i64, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse::<i64>()
        .ok()
        .filter(|p| (0..=1_000_000).contains(p))
        .ok_or("hc.errors.position")
}

fn record<T>(
    errors: &mut FieldErrors,
    field: &'static str,
    result: Result<T, &'static str>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(key) => {
            errors.push((field, key));
            None
        }
    }
}

/// A category or section form as typed.
#[derive(Clone, Debug, Default)]
pub struct GroupInput {
    /// Sections only: the category's id.
    pub category_id: String,
    pub name_pt: String,
    pub name_en: String,
    pub description_pt: String,
    pub description_en: String,
    pub position: String,
}

impl GroupInput {
    pub fn from_category(row: &CategoryRow) -> Self {
        Self {
            category_id: String::new(),
            name_pt: row.name_pt.clone(),
            name_en: row.name_en.clone().unwrap_or_default(),
            description_pt: row.description_pt.clone(),
            description_en: row.description_en.clone().unwrap_or_default(),
            position: row.position.to_string(),
        }
    }

    pub fn from_section(row: &SectionRow) -> Self {
        Self {
            category_id: row.category_id.to_string(),
            ..Self::from_category(&CategoryRow {
                id: row.id,
                slug: row.slug.clone(),
                position: row.position,
                name_pt: row.name_pt.clone(),
                name_en: row.name_en.clone(),
                description_pt: row.description_pt.clone(),
                description_en: row.description_en.clone(),
                updated_at: row.updated_at,
            })
        }
    }
}

struct ValidGroup<'a> {
    slug: String,
    position: i64,
    name_pt: &'a str,
    name_en: Option<&'a str>,
    description_pt: &'a str,
    description_en: Option<&'a str>,
}

impl ValidGroup<'_> {
    fn write(&self) -> GroupWrite<'_> {
        GroupWrite {
            slug: &self.slug,
            position: self.position,
            name_pt: self.name_pt,
            name_en: self.name_en,
            description_pt: self.description_pt,
            description_en: self.description_en,
        }
    }
}

fn validate_group<'a>(input: &'a GroupInput, errors: &mut FieldErrors) -> Option<ValidGroup<'a>> {
    let name_pt = record(errors, "name_pt", line(&input.name_pt, MAX_NAME));
    let name_en = record(errors, "name_en", optional_line(&input.name_en, MAX_NAME));
    let description_pt = record(
        errors,
        "description_pt",
        text_block(&input.description_pt, MAX_DESCRIPTION, false),
    );
    let description_en = record(
        errors,
        "description_en",
        text_block(&input.description_en, MAX_DESCRIPTION, false),
    );
    let position = record(errors, "position", position(&input.position));
    Some(ValidGroup {
        slug: slugify(name_pt?),
        position: position?,
        name_pt: name_pt?,
        name_en: name_en?,
        description_pt: description_pt?,
        description_en: Some(description_en?).filter(|d| !d.is_empty()),
    })
}

/// Every category (admin).
pub async fn categories(state: &AppState) -> Result<Vec<CategoryRow>, HcError> {
    Ok(store::list_categories(&state.db).await?)
}

/// Every section (admin).
pub async fn sections(state: &AppState) -> Result<Vec<SectionRow>, HcError> {
    Ok(store::list_sections(&state.db).await?)
}

pub async fn category_row(state: &AppState, id: i64) -> Result<CategoryRow, HcError> {
    store::find_category(&state.db, id)
        .await?
        .ok_or(HcError::NotFound)
}

pub async fn section_row(state: &AppState, id: i64) -> Result<SectionRow, HcError> {
    store::find_section(&state.db, id)
        .await?
        .ok_or(HcError::NotFound)
}

/// Creates (`id` `None`) or updates a category.
pub async fn save_category(
    state: &AppState,
    id: Option<i64>,
    input: &GroupInput,
) -> Result<i64, HcError> {
    let mut errors = Vec::new();
    let valid = validate_group(input, &mut errors);
    let Some(valid) = valid.filter(|_| errors.is_empty()) else {
        return Err(HcError::Invalid(errors));
    };
    let now = state.clock.now();
    let saved = match id {
        Some(id) => store::update_category(&state.db, id, &valid.write(), now)
            .await
            .map(|()| id),
        None => store::create_category(&state.db, &valid.write(), now).await,
    };
    content_changed(state);
    Ok(saved?)
}

/// After a write to the Help Center: the search pages this node cached may
/// show the old text (other nodes hear of it through migration 0018).
fn content_changed(state: &AppState) {
    state.hub.cached_rows_changed();
}

/// Creates (`id` `None`) or updates a section.
pub async fn save_section(
    state: &AppState,
    id: Option<i64>,
    input: &GroupInput,
) -> Result<i64, HcError> {
    let mut errors = Vec::new();
    let category = match input.category_id.trim().parse::<i64>() {
        Ok(category) if store::find_category(&state.db, category).await?.is_some() => {
            Some(category)
        }
        _ => {
            errors.push(("category_id", "hc.errors.category"));
            None
        }
    };
    let valid = validate_group(input, &mut errors);
    let (Some(valid), Some(category), true) = (valid, category, errors.is_empty()) else {
        return Err(HcError::Invalid(errors));
    };
    let now = state.clock.now();
    let result = match id {
        Some(id) => store::update_section(&state.db, id, category, &valid.write(), now)
            .await
            .map(|()| id),
        None => store::create_section(&state.db, category, &valid.write(), now).await,
    };
    content_changed(state);
    match result {
        Err(StoreError::Conflict(_)) => Err(HcError::Invalid(vec![(
            "category_id",
            "hc.errors.category",
        )])),
        other => Ok(other?),
    }
}

/// An article form as typed.
#[derive(Clone, Debug, Default)]
pub struct ArticleInput {
    pub section_id: String,
    pub position: String,
    /// `draft` or `published`.
    pub status: String,
    pub title_pt: String,
    pub body_pt: String,
    pub title_en: String,
    pub body_en: String,
}

impl ArticleInput {
    pub fn from_row(row: &ArticleRow) -> Self {
        Self {
            section_id: row.section_id.to_string(),
            position: row.position.to_string(),
            status: row.status.clone(),
            title_pt: row.title_pt.clone(),
            body_pt: row.body_pt.clone(),
            title_en: row.title_en.clone().unwrap_or_default(),
            body_en: row.body_en.clone().unwrap_or_default(),
        }
    }
}

/// Every article (admin).
pub async fn admin_articles(state: &AppState) -> Result<Vec<AdminArticleRow>, HcError> {
    Ok(store::admin_articles(&state.db).await?)
}

pub async fn article_row(state: &AppState, id: i64) -> Result<ArticleRow, HcError> {
    store::find_article(&state.db, id)
        .await?
        .ok_or(HcError::NotFound)
}

/// Creates (`id` `None`) or rewrites an article. Every field is checked
/// before anything is written; the article and its translations are
/// written in one transaction.
pub async fn save_article(
    state: &AppState,
    id: Option<i64>,
    author: Option<UserId>,
    input: &ArticleInput,
) -> Result<i64, HcError> {
    let mut errors = Vec::new();
    let section = match input.section_id.trim().parse::<i64>() {
        Ok(section) if store::find_section(&state.db, section).await?.is_some() => Some(section),
        _ => {
            errors.push(("section_id", "hc.errors.section"));
            None
        }
    };
    let position = record(&mut errors, "position", position(&input.position));
    let published = match input.status.as_str() {
        "published" => Some(true),
        "draft" => Some(false),
        _ => {
            errors.push(("status", "hc.errors.status"));
            None
        }
    };
    let title_pt = record(&mut errors, "title_pt", line(&input.title_pt, MAX_TITLE));
    let body_pt = record(
        &mut errors,
        "body_pt",
        text_block(&input.body_pt, MAX_BODY, true),
    );
    let has_en = !input.title_en.trim().is_empty() || !input.body_en.trim().is_empty();
    let title_en = if has_en {
        record(&mut errors, "title_en", line(&input.title_en, MAX_TITLE))
    } else {
        None
    };
    let body_en = if has_en {
        record(
            &mut errors,
            "body_en",
            text_block(&input.body_en, MAX_BODY, true),
        )
    } else {
        None
    };
    let (Some(section), Some(position), Some(published), Some(title_pt), Some(body_pt), true) = (
        section,
        position,
        published,
        title_pt,
        body_pt,
        errors.is_empty(),
    ) else {
        return Err(HcError::Invalid(errors));
    };
    let slug = slugify(title_pt);
    let text_pt = markdown_text(body_pt);
    let english = match (title_en, body_en) {
        (Some(title), Some(body)) => Some((title, body, markdown_text(body))),
        _ => None,
    };
    let write = ArticleWrite {
        section_id: section,
        slug: &slug,
        position,
        published,
        pt: TranslationWrite {
            title: title_pt,
            body: body_pt,
            body_text: &text_pt,
        },
        en: english
            .as_ref()
            .map(|(title, body, text)| TranslationWrite {
                title,
                body,
                body_text: text,
            }),
    };
    let now = state.clock.now();
    let result = match id {
        Some(id) => store::update_article(&state.db, id, &write, now)
            .await
            .map(|()| id),
        None => store::create_article(&state.db, &write, author, now).await,
    };
    content_changed(state);
    match result {
        Err(StoreError::Conflict(_)) => {
            Err(HcError::Invalid(vec![("section_id", "hc.errors.section")]))
        }
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_expressions_quote_every_word() {
        assert_eq!(
            fts5_expression("Como abrir tickets?").as_deref(),
            Some("\"abrir\"* \"ticket\"*")
        );
        assert_eq!(fts5_expression("\" * AND ( -"), Some("\"and\"*".to_owned()));
        assert_eq!(fts5_expression("  \"*()  "), None);
        assert_eq!(fts5_expression("de"), Some("\"de\"*".to_owned()));
    }

    #[test]
    fn singular_keeps_the_rest_of_the_query() {
        assert_eq!(
            singular_text("\"tickets abertos\" -senhas"),
            "\"ticket aberto\" -senha"
        );
        assert_eq!(singular_text("os mais"), "os mai");
        assert_eq!(singular_text("processos"), "processo");
    }

    #[test]
    fn highlights_are_escaped_and_merged() {
        let text = "Use <script> para atualização";
        let a = "Use <script> para \u{1}atualização\u{2}";
        let b = "\u{1}Use\u{2} <script> para atualizacao";
        let m = mask(text, &[a, b, "misaligned"]);
        assert_eq!(
            marked_html(text, &m, 0, usize::MAX),
            "<mark>Use</mark> &lt;script&gt; para <mark>atualização</mark>"
        );
    }

    #[test]
    fn block_breaks_read_as_pauses() {
        let text = "Como pedir\nAbra o ticket.\nDepois";
        assert_eq!(
            marked_html(text, &mask(text, &[]), 0, usize::MAX),
            "Como pedir · Abra o ticket. Depois"
        );
    }

    #[test]
    fn snippets_cut_at_words_around_the_first_match() {
        let text = format!("{} alvo {}", "palavra ".repeat(60), "fim ".repeat(60));
        let marked = text.replace("alvo", "\u{1}alvo\u{2}");
        let m = mask(&text, &[&marked]);
        let html = snippet_html(&text, &m);
        assert!(html.starts_with("… palavra"), "{html}");
        assert!(html.ends_with(" …"), "{html}");
        assert!(html.contains("<mark>alvo</mark>"), "{html}");
    }

    #[test]
    fn slugs_and_plain_text() {
        assert_eq!(
            slugify("Como acessar o Portal de Tickets?"),
            "como-acessar-o-portal-de-tickets"
        );
        assert_eq!(
            slugify("Integrações & Relatórios"),
            "integracoes-relatorios"
        );
        assert_eq!(slugify("???"), "artigo");
        assert_eq!(
            markdown_text("# Título\n\nUm **texto** com [link](https://x.example).\n\n- a\n- b"),
            "Título\nUm texto com link.\n a\n b"
        );
    }
}
