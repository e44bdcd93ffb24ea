//! The Help Center (`/hc`, "Central de Ajuda"): home with search and the
//! Portal de Tickets entry, category, section and article pages, search.
//! Public: anonymous visitors read published articles; drafts exist only
//! for agents and admins (everyone else gets 404, like a missing article).
//! Addresses are `/hc/articles/{id}-{slug}`; a wrong slug redirects to the
//! right one.

use askama::Template;
use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use jiff::tz::TimeZone;

use crate::{
    AppState,
    error::AppError,
    service::hc::{
        self as hc_service, ArticleView, CategoryView, HcError, SearchPage, SectionPage, Viewer,
    },
    web::{Ctx, Layout, encode_query_value, render, timeline::format_datetime},
};

/// The public Help Center routes, merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hc", get(show_home))
        .route("/hc/categories/{id}", get(show_category))
        .route("/hc/sections/{id}", get(show_section))
        .route("/hc/articles/{id}", get(show_article))
        .route("/hc/search", get(show_search))
        .route("/static/hc.css", get(stylesheet))
}

impl From<HcError> for AppError {
    fn from(error: HcError) -> Self {
        match error {
            HcError::NotFound => AppError::NotFound,
            HcError::Invalid(errors) => AppError::BadRequest(format!("{errors:?}")),
            HcError::Store(e) => e.into(),
        }
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/hc.css"),
    )
        .into_response()
}

fn viewer(ctx: &Ctx) -> Viewer {
    Viewer {
        lang: ctx.lang,
        staff: ctx
            .session
            .as_ref()
            .is_some_and(|s| s.user.role().is_staff()),
    }
}

fn time_zone(state: &AppState, ctx: &Ctx) -> TimeZone {
    ctx.session
        .as_ref()
        .and_then(|s| TimeZone::get(&s.user.time_zone).ok())
        .unwrap_or_else(|| state.config.time_zone())
}

/// Splits `{id}-{slug}` (or a bare id); anything else is a missing page.
fn id_and_slug(raw: &str) -> Result<(i64, &str), AppError> {
    let (id, slug) = raw.split_once('-').unwrap_or((raw, ""));
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)?;
    Ok((id, slug))
}

/// The first value of `name` in a query string; a malformed query string
/// reads as empty rather than failing.
fn query_field(raw: Option<&str>, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The page at its canonical address, or a permanent redirect there.
fn canonical(kind: &str, id: i64, slug: &str, given: &str) -> Option<Response> {
    (slug != given).then(|| Redirect::permanent(&format!("/hc/{kind}/{id}-{slug}")).into_response())
}

#[derive(Template)]
#[template(path = "hc/home.html")]
pub struct HomePage {
    layout: Layout,
    /// The search box's text (empty: these pages are not results).
    query: String,
    categories: Vec<CategoryView>,
}

/// `GET /hc`: search, the Portal de Tickets entry, every category.
pub async fn show_home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let categories = hc_service::home(&state, viewer(&ctx)).await?;
    render(&HomePage {
        layout: Layout::new(&state, &ctx),
        query: String::new(),
        categories,
    })
}

#[derive(Template)]
#[template(path = "hc/category.html")]
pub struct CategoryPage {
    layout: Layout,
    /// The search box's text (empty: these pages are not results).
    query: String,
    category: CategoryView,
}

/// `GET /hc/categories/{id}-{slug}`.
pub async fn show_category(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let (id, slug) = id_and_slug(&raw)?;
    let category = hc_service::category(&state, viewer(&ctx), id).await?;
    if let Some(redirect) = canonical("categories", id, &category.category.slug, slug) {
        return Ok(redirect);
    }
    render(&CategoryPage {
        layout: Layout::new(&state, &ctx),
        query: String::new(),
        category,
    })
}

#[derive(Template)]
#[template(path = "hc/section.html")]
pub struct SectionTemplate {
    layout: Layout,
    /// The search box's text (empty: these pages are not results).
    query: String,
    page: SectionPage,
}

/// `GET /hc/sections/{id}-{slug}`.
pub async fn show_section(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (id, slug) = id_and_slug(&raw)?;
    let number = query_field(query.as_deref(), "page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let page = hc_service::section(&state, viewer(&ctx), id, number).await?;
    if let Some(redirect) = canonical("sections", id, &page.section.section.slug, slug) {
        return Ok(redirect);
    }
    render(&SectionTemplate {
        layout: Layout::new(&state, &ctx),
        query: String::new(),
        page,
    })
}

#[derive(Template)]
#[template(path = "hc/article.html")]
pub struct ArticlePage {
    layout: Layout,
    /// The search box's text (empty: these pages are not results).
    query: String,
    article: ArticleView,
    updated: String,
}

/// `GET /hc/articles/{id}-{slug}`.
pub async fn show_article(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let (id, slug) = id_and_slug(&raw)?;
    let article = hc_service::article(&state, viewer(&ctx), id).await?;
    if let Some(redirect) = canonical("articles", id, &article.slug, slug) {
        return Ok(redirect);
    }
    let updated = format_datetime(article.updated_at, &time_zone(&state, &ctx), ctx.lang);
    render(&ArticlePage {
        layout: Layout::new(&state, &ctx),
        query: String::new(),
        article,
        updated,
    })
}

#[derive(Template)]
#[template(path = "hc/search.html")]
pub struct SearchTemplate {
    layout: Layout,
    query: String,
    /// `None` when nothing was asked yet.
    page: Option<std::sync::Arc<SearchPage>>,
}

impl SearchTemplate {
    fn page_url(&self, page: i64) -> String {
        format!(
            "/hc/search?q={}&page={page}",
            encode_query_value(&self.query)
        )
    }
}

/// `GET /hc/search?q=…&page=N`. Any query text is accepted: it is never
/// read as search syntax that could fail.
pub async fn show_search(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let query = hc_service::clean_query(&query_field(raw.as_deref(), "q").unwrap_or_default());
    let page_number = query_field(raw.as_deref(), "page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let page = if query.is_empty() {
        None
    } else {
        Some(hc_service::search(&state, ctx.lang, &query, page_number).await?)
    };
    render(&SearchTemplate {
        layout: Layout::new(&state, &ctx),
        query,
        page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_slugs_are_read_from_paths() {
        assert_eq!(id_and_slug("12-como-abrir").ok(), Some((12, "como-abrir")));
        assert_eq!(id_and_slug("12").ok(), Some((12, "")));
        assert!(id_and_slug("abc-12").is_err());
        assert!(id_and_slug("0-x").is_err());
        assert!(id_and_slug("-3-x").is_err());
    }
}
