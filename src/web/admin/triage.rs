//! Triage questions: the ordered list with move up/down, the form to add
//! one, and each question's page.

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
    service::admin::{
        self as admin_service, AdminError, FieldErrors, QuestionInput, QuestionKind,
        TriageQuestion, truthy,
    },
    web::{Admin, Ctx, Layout, render},
};

const NOTICES: [(&str, &str); 3] = [
    ("created", "admin.done.question_created"),
    ("saved", "admin.done.question_saved"),
    ("moved", "admin.done.question_moved"),
];

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The question form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QuestionForm {
    kind: String,
    text_pt: String,
    text_en: String,
    options: String,
    mandatory: String,
    active: String,
}

impl QuestionForm {
    fn input(self) -> QuestionInput {
        QuestionInput {
            kind: self.kind,
            text_pt: self.text_pt,
            text_en: self.text_en,
            options: self.options,
            mandatory: truthy(&self.mandatory),
            active: truthy(&self.active),
        }
    }
}

fn kind_label(layout: &Layout, kind: QuestionKind) -> String {
    layout
        .t
        .t(match kind {
            QuestionKind::Choice => "admin.triage.kind_choice",
            QuestionKind::Text => "admin.triage.kind_text",
            QuestionKind::Organization => "admin.triage.kind_organization",
            QuestionKind::Attachment => "admin.triage.kind_attachment",
        })
        .to_owned()
}

#[derive(Template)]
#[template(path = "admin/triage.html")]
pub struct TriagePage {
    layout: Layout,
    section: &'static str,
    questions: Vec<TriageQuestion>,
    form: QuestionInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(TriagePage);

impl TriagePage {
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "templates pass loop fields by reference"
    )]
    fn kind_label(&self, kind: &QuestionKind) -> String {
        kind_label(&self.layout, *kind)
    }

    /// (key, label) of every kind, for the new-question form.
    fn kinds(&self) -> Vec<(&'static str, String)> {
        QuestionKind::ALL
            .into_iter()
            .map(|k| (k.key(), kind_label(&self.layout, k)))
            .collect()
    }

    fn text<'a>(&self, question: &'a TriageQuestion) -> &'a str {
        question.text(self.layout.t.lang)
    }

    fn options<'a>(&self, question: &'a TriageQuestion) -> Vec<&'a str> {
        question
            .options
            .iter()
            .map(|o| TriageQuestion::option_text(o, self.layout.t.lang))
            .collect()
    }
}

async fn triage_page(
    state: &AppState,
    ctx: &Ctx,
    form: QuestionInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    render(&TriagePage {
        layout: Layout::new(state, ctx),
        section: "triage",
        questions: admin_service::all_triage_questions(state).await?,
        form,
        errors,
        notice,
    })
}

/// `GET /admin/triage-questions`: the questions in the order they are
/// asked.
pub async fn list_triage_questions(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let form = QuestionInput {
        kind: "text".to_owned(),
        mandatory: true,
        active: true,
        ..QuestionInput::default()
    };
    let done = notice(query.done.as_deref(), &NOTICES);
    triage_page(&state, &ctx, form, Vec::new(), done).await
}

/// `POST /admin/triage-questions`: adds a question at the end.
pub async fn create_triage_question(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    let input = form.input();
    match admin_service::create_triage_question(&state, &input).await {
        Ok(_) => Ok(see_other("/admin/triage-questions", "created")),
        Err(AdminError::Invalid(errors)) => {
            unprocessable(triage_page(&state, &ctx, input, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/triage_edit.html")]
pub struct TriageEditPage {
    layout: Layout,
    section: &'static str,
    question: TriageQuestion,
    kind_label: String,
    form: QuestionInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(TriageEditPage);

impl TriageEditPage {
    fn option_texts(&self) -> Vec<&str> {
        self.question
            .options
            .iter()
            .map(|o| TriageQuestion::option_text(o, self.layout.t.lang))
            .collect()
    }
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    form: Option<QuestionInput>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let question = admin_service::triage_question(state, id).await?;
    let form = form.unwrap_or_else(|| QuestionInput {
        kind: question.kind.key().to_owned(),
        text_pt: question.text_pt.clone(),
        text_en: question.text_en.clone(),
        options: question.options_text(),
        mandatory: question.mandatory,
        active: question.active,
    });
    let layout = Layout::new(state, ctx);
    render(&TriageEditPage {
        kind_label: kind_label(&layout, question.kind),
        layout,
        section: "triage",
        question,
        form,
        errors,
        notice,
    })
}

/// `GET /admin/triage-questions/{id}`: one question's form.
pub async fn show_triage_question(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let done = notice(query.done.as_deref(), &NOTICES);
    edit_page(&state, &ctx, id, None, Vec::new(), done).await
}

/// `POST /admin/triage-questions/{id}`: saves the question.
pub async fn update_triage_question(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(id): Path<String>,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let input = form.input();
    match admin_service::update_triage_question(&state, id, &input).await {
        Ok(()) => Ok(see_other("/admin/triage-questions", "saved")),
        Err(AdminError::Invalid(errors)) => {
            unprocessable(edit_page(&state, &ctx, id, Some(input), errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    direction: String,
}

/// `POST /admin/triage-questions/{id}/move`: one place `up` or `down`.
pub async fn move_triage_question(
    State(state): State<AppState>,
    Admin(_ctx, _session): Admin,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let up = match form.direction.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::BadRequest("direction".into())),
    };
    admin_service::move_triage_question(&state, id, up).await?;
    Ok(see_other("/admin/triage-questions", "moved"))
}
