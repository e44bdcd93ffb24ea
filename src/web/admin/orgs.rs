//! Organizations: the list with a creation form, and each one's page with
//! its settings and members.

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
    domain::OrgId,
    error::AppError,
    service::admin::{self as admin_service, AdminError, FieldErrors, OrgInput, truthy},
    store::{
        self,
        admin::{OrgMember, OrgRow},
    },
    web::{Admin, Ctx, Layout, render},
};

/// Members listed on an organization's page.
const MEMBERS_SHOWN: i64 = 200;

/// The `done` notices of these pages.
const NOTICES: [(&str, &str); 2] = [
    ("org_created", "admin.done.org_created"),
    ("org_saved", "admin.done.org_saved"),
];

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The organization form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgForm {
    name: String,
    external_id: String,
    members_see_org_tickets: String,
    apply_to_members: String,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        OrgInput {
            name: self.name.clone(),
            external_id: self.external_id.clone(),
            members_see_org_tickets: truthy(&self.members_see_org_tickets),
            apply_to_members: truthy(&self.apply_to_members),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/org_list.html")]
pub struct OrgListPage {
    layout: Layout,
    section: &'static str,
    orgs: Vec<OrgRow>,
    form: OrgInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(OrgListPage);

async fn org_list_page(
    state: &AppState,
    ctx: &Ctx,
    form: OrgInput,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    render(&OrgListPage {
        layout: Layout::new(state, ctx),
        section: "organizations",
        orgs: store::admin::list_orgs(&state.db).await?,
        form,
        errors,
        notice,
    })
}

/// `GET /admin/organizations`: every organization, and the form to add one.
pub async fn list_organizations(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let form = OrgInput {
        members_see_org_tickets: true,
        ..OrgInput::default()
    };
    let done = notice(query.done.as_deref(), &NOTICES);
    org_list_page(&state, &ctx, form, Vec::new(), done).await
}

/// `POST /admin/organizations`: creates an organization.
pub async fn create_organization(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<OrgForm>,
) -> Result<Response, AppError> {
    let input = form.input();
    match admin_service::create_org(&state, &input).await {
        Ok(id) => {
            tracing::info!(organization = %id, "organization created");
            Ok(see_other(
                &format!("/admin/organizations/{id}"),
                "org_created",
            ))
        }
        Err(AdminError::Invalid(errors)) => {
            unprocessable(org_list_page(&state, &ctx, input, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/org_edit.html")]
pub struct OrgEditPage {
    layout: Layout,
    section: &'static str,
    org: OrgRow,
    form: OrgInput,
    members: Vec<OrgMember>,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(OrgEditPage);

async fn org_edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: OrgId,
    form: Option<OrgInput>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let org = store::admin::find_org(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| OrgInput {
        name: org.name.clone(),
        external_id: org.external_id.clone().unwrap_or_default(),
        members_see_org_tickets: org.members_see_org_tickets,
        apply_to_members: false,
    });
    render(&OrgEditPage {
        layout: Layout::new(state, ctx),
        section: "organizations",
        members: store::admin::org_members(&state.db, id, MEMBERS_SHOWN).await?,
        org,
        form,
        errors,
        notice,
    })
}

/// `GET /admin/organizations/{id}`: the organization's settings and members.
pub async fn show_organization(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let id = OrgId(path_id(&id)?);
    let done = notice(query.done.as_deref(), &NOTICES);
    org_edit_page(&state, &ctx, id, None, Vec::new(), done).await
}

/// `POST /admin/organizations/{id}`: saves the organization's settings.
pub async fn update_organization(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Path(id): Path<String>,
    Form(form): Form<OrgForm>,
) -> Result<Response, AppError> {
    let id = OrgId(path_id(&id)?);
    let input = form.input();
    match admin_service::update_org(&state, id, &input).await {
        Ok(()) => Ok(see_other(
            &format!("/admin/organizations/{id}"),
            "org_saved",
        )),
        Err(AdminError::Invalid(errors)) => {
            unprocessable(org_edit_page(&state, &ctx, id, Some(input), errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}
