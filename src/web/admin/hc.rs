//! Help Center administration (`/admin/hc`): the article list, the article
//! editor (Markdown in pt-BR and English, draft or published, a preview
//! drawn on the server by its own submit button, so it works without
//! JavaScript), and categories and sections.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{field_errors, notice, path_id, see_other, unprocessable};
use crate::{
    AppState,
    error::AppError,
    service::{
        admin::FieldErrors,
        hc::{self as hc_service, ArticleInput, GroupInput, HcError},
    },
    store::hc::{AdminArticleRow, CategoryRow, SectionRow},
    web::{Admin, Ctx, Layout, markdown::render_markdown, render, timeline::format_datetime},
};

const NOTICES: [(&str, &str); 2] = [
    ("created", "hc.admin.done.created"),
    ("saved", "hc.admin.done.saved"),
];

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn admin_time_zone(state: &AppState, ctx: &Ctx) -> jiff::tz::TimeZone {
    ctx.session
        .as_ref()
        .and_then(|s| jiff::tz::TimeZone::get(&s.user.time_zone).ok())
        .unwrap_or_else(|| state.config.time_zone())
}

// ---------------------------------------------------------------------------
// Article list

#[derive(Template)]
#[template(path = "admin/hc_articles.html")]
pub struct ArticlesPage {
    layout: Layout,
    section: &'static str,
    articles: Vec<(AdminArticleRow, String)>,
}

/// `GET /admin/hc`: every article with its place, status and languages.
pub async fn list_articles(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let tz = admin_time_zone(&state, &ctx);
    let articles = hc_service::admin_articles(&state)
        .await?
        .into_iter()
        .map(|a| {
            let updated = format_datetime(a.updated_at.0, &tz, ctx.lang);
            (a, updated)
        })
        .collect();
    render(&ArticlesPage {
        layout: Layout::new(&state, &ctx),
        section: "hc",
        articles,
    })
}

// ---------------------------------------------------------------------------
// Article editor

/// The article form as posted; `action` is `preview` or `save`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArticleForm {
    action: String,
    section_id: String,
    position: String,
    status: String,
    title_pt: String,
    body_pt: String,
    title_en: String,
    body_en: String,
}

impl ArticleForm {
    fn split(self) -> (bool, ArticleInput) {
        (
            self.action == "preview",
            ArticleInput {
                section_id: self.section_id,
                position: self.position,
                status: self.status,
                title_pt: self.title_pt,
                body_pt: self.body_pt,
                title_en: self.title_en,
                body_en: self.body_en,
            },
        )
    }
}

/// The rendered Markdown of each language, for the preview.
#[derive(Debug)]
pub struct Preview {
    pt: String,
    en: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/hc_article_edit.html")]
pub struct ArticleEditPage {
    layout: Layout,
    section: &'static str,
    /// `None` for a new article.
    article_id: Option<i64>,
    /// The public address, for an existing article.
    public_url: Option<String>,
    categories: Vec<CategoryRow>,
    sections: Vec<SectionRow>,
    form: ArticleInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
    preview: Option<Preview>,
}
field_errors!(ArticleEditPage);

impl ArticleEditPage {
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "templates pass loop fields by reference"
    )]
    fn sections_of(&self, category: &i64) -> Vec<&SectionRow> {
        self.sections
            .iter()
            .filter(|s| s.category_id == *category)
            .collect()
    }

    fn action(&self) -> String {
        match self.article_id {
            Some(id) => format!("/admin/hc/articles/{id}"),
            None => "/admin/hc/articles".to_owned(),
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one page, drawn from several states"
)]
async fn editor(
    state: &AppState,
    ctx: &Ctx,
    article_id: Option<i64>,
    public_url: Option<String>,
    form: ArticleInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
    preview: Option<Preview>,
) -> Result<Response, AppError> {
    render(&ArticleEditPage {
        layout: Layout::new(state, ctx),
        section: "hc",
        article_id,
        public_url,
        categories: hc_service::categories(state).await?,
        sections: hc_service::sections(state).await?,
        form,
        errors,
        notice,
        preview,
    })
}

fn preview_of(input: &ArticleInput) -> Preview {
    Preview {
        pt: render_markdown(&input.body_pt),
        en: (!input.body_en.trim().is_empty()).then(|| render_markdown(&input.body_en)),
    }
}

/// `GET /admin/hc/articles/new`.
pub async fn new_article(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let form = ArticleInput {
        status: "draft".to_owned(),
        position: "0".to_owned(),
        ..ArticleInput::default()
    };
    editor(&state, &ctx, None, None, form, Vec::new(), None, None).await
}

/// `POST /admin/hc/articles`: preview, or create.
pub async fn create_article(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Form(form): Form<ArticleForm>,
) -> Result<Response, AppError> {
    let (preview, input) = form.split();
    if preview {
        let rendered = preview_of(&input);
        return editor(
            &state,
            &ctx,
            None,
            None,
            input,
            Vec::new(),
            None,
            Some(rendered),
        )
        .await;
    }
    match hc_service::save_article(&state, None, Some(session.user.id), &input).await {
        Ok(id) => Ok(see_other(&format!("/admin/hc/articles/{id}"), "created")),
        Err(HcError::Invalid(errors)) => {
            unprocessable(editor(&state, &ctx, None, None, input, errors, None, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /admin/hc/articles/{id}`.
pub async fn show_article(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    let row = hc_service::article_row(&state, id).await?;
    let public_url = Some(format!("/hc/articles/{}-{}", row.id, row.slug));
    let done = notice(query.done.as_deref(), &NOTICES);
    editor(
        &state,
        &ctx,
        Some(id),
        public_url,
        ArticleInput::from_row(&row),
        Vec::new(),
        done,
        None,
    )
    .await
}

/// `POST /admin/hc/articles/{id}`: preview, or save.
pub async fn update_article(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
    Form(form): Form<ArticleForm>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    let row = hc_service::article_row(&state, id).await?;
    let public_url = Some(format!("/hc/articles/{}-{}", row.id, row.slug));
    let (preview, input) = form.split();
    if preview {
        let rendered = preview_of(&input);
        return editor(
            &state,
            &ctx,
            Some(id),
            public_url,
            input,
            Vec::new(),
            None,
            Some(rendered),
        )
        .await;
    }
    match hc_service::save_article(&state, Some(id), None, &input).await {
        Ok(id) => Ok(see_other(&format!("/admin/hc/articles/{id}"), "saved")),
        Err(HcError::Invalid(errors)) => unprocessable(
            editor(
                &state,
                &ctx,
                Some(id),
                public_url,
                input,
                errors,
                None,
                None,
            )
            .await,
        ),
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// Categories and sections

#[derive(Template)]
#[template(path = "admin/hc_structure.html")]
pub struct StructurePage {
    layout: Layout,
    section: &'static str,
    categories: Vec<CategoryRow>,
    sections: Vec<SectionRow>,
    notice: Option<&'static str>,
}

impl StructurePage {
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "templates pass loop fields by reference"
    )]
    fn sections_of(&self, category: &i64) -> Vec<&SectionRow> {
        self.sections
            .iter()
            .filter(|s| s.category_id == *category)
            .collect()
    }
}

/// `GET /admin/hc/categories`: categories with their sections.
pub async fn list_structure(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    render(&StructurePage {
        layout: Layout::new(&state, &ctx),
        section: "hc",
        categories: hc_service::categories(&state).await?,
        sections: hc_service::sections(&state).await?,
        notice: notice(query.done.as_deref(), &NOTICES),
    })
}

/// The category or section form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupForm {
    category_id: String,
    name_pt: String,
    name_en: String,
    description_pt: String,
    description_en: String,
    position: String,
}

impl GroupForm {
    fn input(self) -> GroupInput {
        GroupInput {
            category_id: self.category_id,
            name_pt: self.name_pt,
            name_en: self.name_en,
            description_pt: self.description_pt,
            description_en: self.description_en,
            position: self.position,
        }
    }
}

/// Whether a group page is about a category or a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    Category,
    Section,
}

#[derive(Template)]
#[template(path = "admin/hc_group_edit.html")]
pub struct GroupEditPage {
    layout: Layout,
    section: &'static str,
    is_section: bool,
    /// `None` for a new one.
    id: Option<i64>,
    categories: Vec<CategoryRow>,
    form: GroupInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(GroupEditPage);

impl GroupEditPage {
    fn action(&self) -> String {
        let base = if self.is_section {
            "/admin/hc/sections"
        } else {
            "/admin/hc/categories"
        };
        match self.id {
            Some(id) => format!("{base}/{id}"),
            None => base.to_owned(),
        }
    }

    fn heading(&self) -> &str {
        self.layout.t.t(match (self.is_section, self.id.is_some()) {
            (false, false) => "hc.admin.new_category",
            (false, true) => "hc.admin.edit_category",
            (true, false) => "hc.admin.new_section",
            (true, true) => "hc.admin.edit_section",
        })
    }
}

async fn group_page(
    state: &AppState,
    ctx: &Ctx,
    kind: GroupKind,
    id: Option<i64>,
    form: GroupInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    render(&GroupEditPage {
        layout: Layout::new(state, ctx),
        section: "hc",
        is_section: kind == GroupKind::Section,
        id,
        categories: hc_service::categories(state).await?,
        form,
        errors,
        notice,
    })
}

/// `GET /admin/hc/categories/new`.
pub async fn new_category(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let form = GroupInput {
        position: "0".to_owned(),
        ..GroupInput::default()
    };
    group_page(
        &state,
        &ctx,
        GroupKind::Category,
        None,
        form,
        Vec::new(),
        None,
    )
    .await
}

/// `GET /admin/hc/sections/new`.
pub async fn new_section(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let form = GroupInput {
        position: "0".to_owned(),
        ..GroupInput::default()
    };
    group_page(
        &state,
        &ctx,
        GroupKind::Section,
        None,
        form,
        Vec::new(),
        None,
    )
    .await
}

async fn save_group(
    state: &AppState,
    ctx: &Ctx,
    kind: GroupKind,
    id: Option<i64>,
    input: GroupInput,
) -> Result<Response, AppError> {
    let result = match kind {
        GroupKind::Category => hc_service::save_category(state, id, &input).await,
        GroupKind::Section => hc_service::save_section(state, id, &input).await,
    };
    match result {
        Ok(_) => Ok(see_other(
            "/admin/hc/categories",
            if id.is_some() { "saved" } else { "created" },
        )),
        Err(HcError::Invalid(errors)) => {
            unprocessable(group_page(state, ctx, kind, id, input, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /admin/hc/categories`.
pub async fn create_category(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<GroupForm>,
) -> Result<Response, AppError> {
    save_group(&state, &ctx, GroupKind::Category, None, form.input()).await
}

/// `POST /admin/hc/sections`.
pub async fn create_section(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<GroupForm>,
) -> Result<Response, AppError> {
    save_group(&state, &ctx, GroupKind::Section, None, form.input()).await
}

/// `GET /admin/hc/categories/{id}`.
pub async fn show_category(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    let row = hc_service::category_row(&state, id).await?;
    let form = GroupInput::from_category(&row);
    group_page(
        &state,
        &ctx,
        GroupKind::Category,
        Some(id),
        form,
        Vec::new(),
        None,
    )
    .await
}

/// `POST /admin/hc/categories/{id}`.
pub async fn update_category(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    hc_service::category_row(&state, id).await?;
    save_group(&state, &ctx, GroupKind::Category, Some(id), form.input()).await
}

/// `GET /admin/hc/sections/{id}`.
pub async fn show_section(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    let row = hc_service::section_row(&state, id).await?;
    let form = GroupInput::from_section(&row);
    group_page(
        &state,
        &ctx,
        GroupKind::Section,
        Some(id),
        form,
        Vec::new(),
        None,
    )
    .await
}

/// `POST /admin/hc/sections/{id}`.
pub async fn update_section(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(raw): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, AppError> {
    let id = path_id(&raw)?;
    hc_service::section_row(&state, id).await?;
    save_group(&state, &ctx, GroupKind::Section, Some(id), form.input()).await
}
