//! Users: the directory with search, creation (with a password shown once,
//! or an invitation to sign in through the host platform), and each user's
//! page: name and role, memberships with their organization view
//! permission, agent groups, deactivation.

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
    domain::{GroupId, OrgId, Role, UserId},
    error::AppError,
    service::admin::{self as admin_service, AdminError, FieldErrors, NewUserInput},
    store::{
        self,
        admin::{Group, OrgRow, UserQuery},
        users::{Membership, User},
    },
    web::{Admin, Ctx, Layout, encode_query_value, render},
};

/// Rows per page of the directory.
const PAGE_SIZE: i64 = 50;

const NOTICES: [(&str, &str); 8] = [
    ("saved", "admin.done.user_saved"),
    ("membership_added", "admin.done.membership_added"),
    ("membership_saved", "admin.done.membership_saved"),
    ("membership_removed", "admin.done.membership_removed"),
    ("group_added", "admin.done.group_added"),
    ("group_removed", "admin.done.group_removed"),
    ("deactivated", "admin.done.user_deactivated"),
    ("reactivated", "admin.done.user_reactivated"),
];

// ---------------------------------------------------------------------------
// Directory

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    role: String,
    status: String,
    after: String,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user_list.html")]
pub struct UserListPage {
    layout: Layout,
    section: &'static str,
    users: Vec<User>,
    q: String,
    role: String,
    status: String,
    next_url: Option<String>,
    filtered: bool,
    /// (key, label) of each role, for the filter.
    roles: Vec<(&'static str, String)>,
}

/// `GET /admin/users`: users by name, searchable by name or e-mail and
/// filtered by role and status.
pub async fn list_users(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let text: String = query
        .q
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned();
    let role = Role::from_key(query.role.trim());
    let active = match query.status.trim() {
        "inactive" => Some(false),
        "all" => None,
        _ => Some(true),
    };
    let status = match active {
        Some(true) => "active",
        Some(false) => "inactive",
        None => "all",
    };
    let after = match query.after.trim().parse::<i64>() {
        Ok(id) => store::users::find(&state.db, UserId(id))
            .await?
            .map(|u| (u.name, u.id.0)),
        Err(_) => None,
    };
    let (users, more) = store::admin::search_users(
        &state.db,
        &UserQuery {
            text: Some(text.clone()).filter(|t| !t.is_empty()),
            role,
            active,
            after,
            limit: PAGE_SIZE,
        },
    )
    .await?;
    let role = role.map(|r| r.key().to_owned()).unwrap_or_default();
    let next_url = more.then(|| users.last()).flatten().map(|last| {
        format!(
            "/admin/users?q={}&role={}&status={status}&after={}",
            encode_query_value(&text),
            encode_query_value(&role),
            last.id
        )
    });
    let layout = Layout::new(&state, &ctx);
    render(&UserListPage {
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.key(), layout.role(r.key())))
            .collect(),
        layout,
        section: "users",
        users,
        filtered: !text.is_empty() || !role.is_empty() || status != "active",
        q: text,
        role,
        status: status.to_owned(),
        next_url,
    })
}

// ---------------------------------------------------------------------------
// New user

/// The new-user form as posted (`groups` may repeat).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
    organization: String,
    org_view: String,
    groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
pub struct NewUserPage {
    layout: Layout,
    section: &'static str,
    form: NewUserInput,
    orgs: Vec<OrgRow>,
    groups: Vec<String>,
    errors: FieldErrors,
}
field_errors!(NewUserPage);

/// The roles with their labels and a line on what each may do.
fn roles(layout: &Layout) -> Vec<(&'static str, String, &str)> {
    Role::ALL
        .into_iter()
        .map(|role| {
            let hint = match role {
                Role::Customer => "admin.users.role_hint_customer",
                Role::Agent => "admin.users.role_hint_agent",
                Role::Admin => "admin.users.role_hint_admin",
            };
            (role.key(), layout.role(role.key()), layout.t.t(hint))
        })
        .collect()
}

impl NewUserPage {
    fn roles(&self) -> Vec<(&'static str, String, &str)> {
        roles(&self.layout)
    }

    fn group_checked(&self, name: &str) -> bool {
        self.form.groups.iter().any(|g| g == name)
    }

    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "templates pass loop fields by reference"
    )]
    fn org_selected(&self, id: &OrgId) -> bool {
        self.form.organization == id.to_string()
    }
}

async fn new_user_page(
    state: &AppState,
    ctx: &Ctx,
    form: NewUserInput,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    render(&NewUserPage {
        layout: Layout::new(state, ctx),
        section: "users",
        form,
        orgs: store::admin::list_orgs(&state.db).await?,
        groups: admin_service::group_choices(state).await?,
        errors,
    })
}

/// `GET /admin/users/new`: the form to create or invite a user.
pub async fn new_user(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let form = NewUserInput {
        role: "customer".to_owned(),
        password: "generate".to_owned(),
        org_view: "default".to_owned(),
        ..NewUserInput::default()
    };
    new_user_page(&state, &ctx, form, Vec::new()).await
}

#[derive(Template)]
#[template(path = "admin/user_created.html")]
pub struct UserCreatedPage {
    layout: Layout,
    section: &'static str,
    user: User,
    password: Option<String>,
}

/// `POST /admin/users`: creates the user. A generated password is shown on
/// the answer to this request only (never stored in the clear, never shown
/// again).
pub async fn create_user(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let input = NewUserInput {
        email: form.email,
        name: form.name,
        role: form.role,
        password: form.password,
        organization: form.organization,
        org_view: form.org_view,
        groups: form.groups,
    };
    match admin_service::create_user(&state, &input).await {
        Ok(created) => {
            tracing::info!(user = %created.id, role = input.role.trim(), "user created by an admin");
            let user = store::users::find(&state.db, created.id)
                .await?
                .ok_or(AppError::NotFound)?;
            render(&UserCreatedPage {
                layout: Layout::new(&state, &ctx),
                section: "users",
                user,
                password: created.password,
            })
        }
        Err(AdminError::Invalid(errors)) => {
            unprocessable(new_user_page(&state, &ctx, input, errors).await)
        }
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// A user's page

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user_edit.html")]
pub struct UserPage {
    layout: Layout,
    section: &'static str,
    user: User,
    /// The values of the details form (as posted, after a refusal).
    name: String,
    role: String,
    memberships: Vec<Membership>,
    /// Organizations the user could join.
    other_orgs: Vec<OrgRow>,
    groups: Vec<Group>,
    /// Groups the user could join.
    other_groups: Vec<String>,
    /// The admin looking at their own account.
    is_self: bool,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(UserPage);

impl UserPage {
    fn roles(&self) -> Vec<(&'static str, String, &str)> {
        roles(&self.layout)
    }

    fn is_staff(&self) -> bool {
        self.user.role().is_staff()
    }
}

struct Details {
    name: String,
    role: String,
}

async fn user_page(
    state: &AppState,
    ctx: &Ctx,
    viewer: UserId,
    id: UserId,
    details: Option<Details>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let user = store::users::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let memberships = store::users::memberships(&state.db, id).await?;
    let other_orgs = store::admin::list_orgs(&state.db)
        .await?
        .into_iter()
        .filter(|o| !memberships.iter().any(|m| m.organization_id == o.id))
        .collect();
    let groups = store::admin::user_groups(&state.db, id).await?;
    let other_groups = admin_service::group_choices(state)
        .await?
        .into_iter()
        .filter(|name| !groups.iter().any(|g| &g.name == name))
        .collect();
    let details = details.unwrap_or_else(|| Details {
        name: user.name.clone(),
        role: user.role.clone(),
    });
    render(&UserPage {
        layout: Layout::new(state, ctx),
        section: "users",
        is_self: viewer == user.id,
        user,
        name: details.name,
        role: details.role,
        memberships,
        other_orgs,
        groups,
        other_groups,
        errors,
        notice,
    })
}

fn user_path(id: UserId) -> String {
    format!("/admin/users/{id}")
}

/// Draws the user's page again with `errors`, or passes other failures on.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    viewer: UserId,
    id: UserId,
    error: AdminError,
    details: Option<Details>,
) -> Result<Response, AppError> {
    match error {
        AdminError::Invalid(errors) => {
            unprocessable(user_page(state, ctx, viewer, id, details, errors, None).await)
        }
        other => Err(other.into()),
    }
}

/// `GET /admin/users/{id}`: the user's settings.
pub async fn show_user(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    let done = notice(query.done.as_deref(), &NOTICES);
    user_page(&state, &ctx, session.user.id, id, None, Vec::new(), done).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailsForm {
    name: String,
    role: String,
}

/// `POST /admin/users/{id}`: changes name and role.
pub async fn update_user(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Path(id): Path<String>,
    Form(form): Form<DetailsForm>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    let viewer = session.user.id;
    match admin_service::update_user(&state, viewer, id, &form.name, &form.role).await {
        Ok(()) => Ok(see_other(&user_path(id), "saved")),
        Err(error) => {
            let details = Details {
                name: form.name,
                role: form.role,
            };
            refused(&state, &ctx, viewer, id, error, Some(details)).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MembershipForm {
    organization: String,
    org_view: String,
}

/// Ensures the user exists before acting on their memberships or groups, so
/// a missing user is a 404 and not a form error.
async fn existing_user(state: &AppState, id: &str) -> Result<UserId, AppError> {
    let id = UserId(path_id(id)?);
    store::users::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(id)
}

/// `POST /admin/users/{id}/memberships`: adds the user to an organization.
pub async fn create_membership(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Path(id): Path<String>,
    Form(form): Form<MembershipForm>,
) -> Result<Response, AppError> {
    let id = existing_user(&state, &id).await?;
    match admin_service::add_membership(&state, id, &form.organization, &form.org_view).await {
        Ok(()) => Ok(see_other(&user_path(id), "membership_added")),
        Err(error) => refused(&state, &ctx, session.user.id, id, error, None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PermissionForm {
    can_see_org_tickets: String,
}

/// `POST /admin/users/{id}/memberships/{org}`: sets whether the member sees
/// the organization's tickets (`can_see_org_tickets` = `yes` or `no`).
pub async fn update_membership(
    State(state): State<AppState>,
    Admin(_ctx, _session): Admin,
    Path((id, org)): Path<(String, String)>,
    Form(form): Form<PermissionForm>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    let org = OrgId(path_id(&org)?);
    let can_see = match form.can_see_org_tickets.trim() {
        "yes" => true,
        "no" => false,
        _ => return Err(AppError::BadRequest("can_see_org_tickets".into())),
    };
    admin_service::set_membership_permission(&state, id, org, can_see).await?;
    Ok(see_other(&user_path(id), "membership_saved"))
}

/// `POST /admin/users/{id}/memberships/{org}/delete`: takes the user out of
/// the organization.
pub async fn delete_membership(
    State(state): State<AppState>,
    Admin(_ctx, _session): Admin,
    Path((id, org)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    let org = OrgId(path_id(&org)?);
    admin_service::remove_membership(&state, id, org).await?;
    Ok(see_other(&user_path(id), "membership_removed"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupForm {
    group: String,
    new_group: String,
}

/// `POST /admin/users/{id}/groups`: puts a staff member in a group (an
/// existing one, or a new one by name).
pub async fn create_group_membership(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Path(id): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, AppError> {
    let id = existing_user(&state, &id).await?;
    let name = if form.new_group.trim().is_empty() {
        &form.group
    } else {
        &form.new_group
    };
    match admin_service::add_to_group(&state, id, name).await {
        Ok(()) => Ok(see_other(&user_path(id), "group_added")),
        Err(error) => refused(&state, &ctx, session.user.id, id, error, None).await,
    }
}

/// `POST /admin/users/{id}/groups/{group}/delete`: takes the user out of a
/// group.
pub async fn delete_group_membership(
    State(state): State<AppState>,
    Admin(_ctx, _session): Admin,
    Path((id, group)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    let group = GroupId(path_id(&group)?);
    admin_service::remove_from_group(&state, id, group).await?;
    Ok(see_other(&user_path(id), "group_removed"))
}

/// `POST /admin/users/{id}/deactivate`: the user can no longer sign in, and
/// their open sessions end at once.
pub async fn deactivate_user(
    State(state): State<AppState>,
    Admin(ctx, session): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    match admin_service::set_user_active(&state, session.user.id, id, false).await {
        Ok(()) => Ok(see_other(&user_path(id), "deactivated")),
        Err(error) => refused(&state, &ctx, session.user.id, id, error, None).await,
    }
}

/// `POST /admin/users/{id}/reactivate`: the user may sign in again.
pub async fn reactivate_user(
    State(state): State<AppState>,
    Admin(_ctx, session): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = UserId(path_id(&id)?);
    admin_service::set_user_active(&state, session.user.id, id, true).await?;
    Ok(see_other(&user_path(id), "reactivated"))
}
