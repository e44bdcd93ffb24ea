//! Administration use cases: organizations, users and their memberships and
//! groups, deactivation, triage questions, business hours and branding.
//!
//! Callers are admins (the web layer checks the role before calling);
//! every function validates its input first and writes nothing when a field
//! is refused, returning `(field, message key)` pairs for the form. Nothing
//! here knows about HTTP.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, PoisonError, RwLock},
};

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    config::Config,
    domain::{self, Email, GroupId, Lang, OrgId, Role, UserId},
    service::{
        calendar::{self, BusinessHours},
        random_hex,
    },
    store::{
        self, StoreError,
        admin::{ChoiceOption, NewStaffedUser, OrgUpdate, QuestionRow, QuestionValues},
    },
};

/// Fields to mark on a form: (field name, message key).
pub type FieldErrors = Vec<(&'static str, &'static str)>;

/// Why an admin action did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AdminError::NotFound,
            other => AdminError::Store(other),
        }
    }
}

fn invalid(field: &'static str, key: &'static str) -> AdminError {
    AdminError::Invalid(vec![(field, key)])
}

fn done(errors: FieldErrors) -> Result<(), AdminError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Invalid(errors))
    }
}

/// A trimmed single-line text of 1 to `max` characters, or the message key
/// that says what is wrong with it. Control characters (NUL above all,
/// which PostgreSQL refuses in text) are never meant.
fn line(value: &str, max: usize) -> Result<&str, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        Err("form.required")
    } else if value.chars().count() > max {
        Err("form.too_long")
    } else if value.chars().any(char::is_control) {
        Err("admin.errors.bad_characters")
    } else {
        Ok(value)
    }
}

/// Reads a checkbox-like value: `on`, `true`, `yes` or `1`.
pub fn truthy(value: &str) -> bool {
    matches!(value.trim(), "on" | "true" | "yes" | "1")
}

// ---------------------------------------------------------------------------
// Organizations

/// The organization form.
#[derive(Clone, Debug, Default)]
pub struct OrgInput {
    pub name: String,
    pub external_id: String,
    pub members_see_org_tickets: bool,
    /// On edit: give every current member the new default too.
    pub apply_to_members: bool,
}

fn check_org(input: &OrgInput) -> Result<(&str, Option<&str>), AdminError> {
    let mut errors = FieldErrors::new();
    let name = line(&input.name, 200).map_err(|key| errors.push(("name", key)));
    let external_id = if input.external_id.trim().is_empty() {
        Ok(None)
    } else {
        line(&input.external_id, 200)
            .map(Some)
            .map_err(|key| errors.push(("external_id", key)))
    };
    done(errors)?;
    match (name, external_id) {
        (Ok(name), Ok(external_id)) => Ok((name, external_id)),
        _ => Err(AdminError::Invalid(Vec::new())),
    }
}

fn external_id_taken(error: StoreError) -> AdminError {
    match error {
        StoreError::Conflict(_) => invalid("external_id", "admin.errors.external_id_taken"),
        other => other.into(),
    }
}

/// Creates an organization.
pub async fn create_org(state: &AppState, input: &OrgInput) -> Result<OrgId, AdminError> {
    let (name, external_id) = check_org(input)?;
    store::orgs::create(
        &state.db,
        name,
        external_id,
        input.members_see_org_tickets,
        state.clock.now(),
    )
    .await
    .map_err(external_id_taken)
}

/// Changes an organization's name, external id and default view
/// permission.
pub async fn update_org(state: &AppState, id: OrgId, input: &OrgInput) -> Result<(), AdminError> {
    let (name, external_id) = check_org(input)?;
    store::admin::update_org(
        &state.db,
        id,
        &OrgUpdate {
            name,
            external_id,
            members_see_org_tickets: input.members_see_org_tickets,
            apply_to_members: input.apply_to_members,
        },
        state.clock.now(),
    )
    .await
    .map_err(external_id_taken)
}

// ---------------------------------------------------------------------------
// Users

/// The groups every help desk starts with (DESIGN §2), offered even before
/// they exist; choosing one creates it.
pub const DEFAULT_GROUPS: [&str; 2] = ["Suporte", "Tech"];

/// Group names to offer: the existing ones and the defaults.
pub async fn group_choices(state: &AppState) -> Result<Vec<String>, StoreError> {
    let mut names: BTreeSet<String> = store::admin::list_groups(&state.db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    names.extend(DEFAULT_GROUPS.iter().map(|g| (*g).to_owned()));
    Ok(names.into_iter().collect())
}

/// How a staff member will sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordChoice {
    /// A password is generated and shown once.
    Generate,
    /// No local password: the person signs in through the host platform.
    Invite,
}

/// The new-user form.
#[derive(Clone, Debug, Default)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    /// `generate` or `invite` (staff only; customers always sign in by SSO).
    pub password: String,
    /// An organization id, or empty.
    pub organization: String,
    /// `default`, `yes` or `no`.
    pub org_view: String,
    /// Group names (staff only).
    pub groups: Vec<String>,
}

/// A user just created, with the password to show once.
#[derive(Clone, Debug)]
pub struct CreatedUser {
    pub id: UserId,
    pub password: Option<String>,
}

/// Reads the organization-view choice: `None` is the organization's default.
fn org_view(value: &str) -> Result<Option<bool>, &'static str> {
    match value.trim() {
        "" | "default" => Ok(None),
        "yes" => Ok(Some(true)),
        "no" => Ok(Some(false)),
        _ => Err("form.choose_one"),
    }
}

async fn check_org_choice(
    state: &AppState,
    value: &str,
    errors: &mut FieldErrors,
) -> Result<Option<OrgId>, StoreError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let found = match value.parse::<i64>() {
        Ok(id) => store::admin::find_org(&state.db, OrgId(id)).await?,
        Err(_) => None,
    };
    if found.is_none() {
        errors.push(("organization", "form.choose_one"));
    }
    Ok(found.map(|o| o.id))
}

/// Creates a user, with a first membership and groups, in one transaction.
/// Staff get a generated password (returned, to be shown once) unless
/// invited to sign in through the host platform.
pub async fn create_user(
    state: &AppState,
    input: &NewUserInput,
) -> Result<CreatedUser, AdminError> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(&input.email);
    if input.email.trim().is_empty() {
        errors.push(("email", "form.required"));
    } else if email.is_none() {
        errors.push(("email", "admin.errors.bad_email"));
    }
    let name = line(&input.name, 200).map_err(|key| errors.push(("name", key)));
    let role = Role::from_key(input.role.trim());
    if role.is_none() {
        errors.push(("role", "form.choose_one"));
    }
    let staff = role.is_some_and(Role::is_staff);
    let password = match input.password.trim() {
        "generate" if staff => Some(PasswordChoice::Generate),
        "invite" | "" if staff => Some(PasswordChoice::Invite),
        "" | "invite" => None,
        _ => {
            errors.push(("password", "form.choose_one"));
            None
        }
    };
    let organization = check_org_choice(state, &input.organization, &mut errors).await?;
    let view = org_view(&input.org_view).map_err(|key| errors.push(("org_view", key)));
    let choices = group_choices(state).await?;
    let mut groups: Vec<&str> = Vec::new();
    for group in &input.groups {
        let group = group.trim();
        if !choices.iter().any(|c| c == group) {
            errors.push(("groups", "form.choose_one"));
        } else if !groups.contains(&group) {
            groups.push(group);
        }
    }
    if !groups.is_empty() && role.is_some() && !staff {
        errors.push(("groups", "admin.errors.groups_staff_only"));
    }
    if let Some(email) = &email
        && store::users::find_by_email(&state.db, &email.lower)
            .await?
            .is_some()
    {
        errors.push(("email", "admin.errors.email_taken"));
    }
    done(errors)?;
    let (Some(email), Ok(name), Some(role), Ok(view)) = (email, name, role, view) else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    let password = (password == Some(PasswordChoice::Generate)).then(|| random_hex(10));
    let hash = match &password {
        Some(password) => Some(state.passwords.hash(password).await?),
        None => None,
    };
    let now = state.clock.now();
    let mut group_ids: Vec<GroupId> = Vec::with_capacity(groups.len());
    for group in groups {
        group_ids.push(store::admin::ensure_group(&state.db, group, now).await?);
    }
    let id = store::admin::create_user(
        &state.db,
        &NewStaffedUser {
            email: &email,
            name,
            role,
            locale: state.config.lang().code(),
            time_zone: &state.config.default_time_zone,
            password_hash: hash.as_deref(),
            membership: organization.map(|org| (org, view)),
            groups: &group_ids,
        },
        now,
    )
    .await
    .map_err(|error| match error {
        StoreError::Conflict(_) => invalid("email", "admin.errors.email_taken"),
        StoreError::NotFound => invalid("organization", "form.choose_one"),
        other @ StoreError::Other(_) => other.into(),
    })?;
    Ok(CreatedUser { id, password })
}

/// Changes a user's name and role. Admins cannot take away their own admin
/// role: someone must always be left to manage the help desk.
pub async fn update_user(
    state: &AppState,
    actor: UserId,
    id: UserId,
    name: &str,
    role: &str,
) -> Result<(), AdminError> {
    let mut errors = FieldErrors::new();
    let name = line(name, 200).map_err(|key| errors.push(("name", key)));
    let role = Role::from_key(role.trim());
    match role {
        None => errors.push(("role", "form.choose_one")),
        Some(role) if id == actor && role != Role::Admin => {
            errors.push(("role", "admin.errors.own_role"));
        }
        Some(_) => {}
    }
    done(errors)?;
    let (Ok(name), Some(role)) = (name, role) else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    store::admin::update_user(&state.db, id, name, role, state.clock.now()).await?;
    Ok(())
}

/// Deactivates (ending every session of the user at once) or reactivates a
/// user. Admins cannot deactivate themselves.
pub async fn set_user_active(
    state: &AppState,
    actor: UserId,
    id: UserId,
    active: bool,
) -> Result<(), AdminError> {
    if id == actor && !active {
        return Err(invalid("active", "admin.errors.own_account"));
    }
    let ended = store::admin::set_active(&state.db, id, active, state.clock.now()).await?;
    tracing::info!(user = %id, active, sessions_ended = ended, "user activation changed");
    Ok(())
}

/// Adds the user to an organization with the chosen view permission.
pub async fn add_membership(
    state: &AppState,
    user: UserId,
    organization: &str,
    view: &str,
) -> Result<(), AdminError> {
    let mut errors = FieldErrors::new();
    if organization.trim().is_empty() {
        errors.push(("organization", "form.choose_one"));
    }
    let org = check_org_choice(state, organization, &mut errors).await?;
    let view = org_view(view).map_err(|key| errors.push(("org_view", key)));
    if let Some(org) = org
        && store::users::memberships(&state.db, user)
            .await?
            .iter()
            .any(|m| m.organization_id == org)
    {
        errors.push(("organization", "admin.errors.already_member"));
    }
    done(errors)?;
    let (Some(org), Ok(view)) = (org, view) else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    store::admin::add_membership(&state.db, user, org, view, state.clock.now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => invalid("organization", "admin.errors.already_member"),
            other => other.into(),
        })
}

/// Sets whether the member sees the organization's tickets.
pub async fn set_membership_permission(
    state: &AppState,
    user: UserId,
    org: OrgId,
    can_see_org_tickets: bool,
) -> Result<(), AdminError> {
    Ok(store::admin::set_membership_permission(&state.db, user, org, can_see_org_tickets).await?)
}

/// Takes the user out of an organization.
pub async fn remove_membership(
    state: &AppState,
    user: UserId,
    org: OrgId,
) -> Result<(), AdminError> {
    Ok(store::admin::remove_membership(&state.db, user, org).await?)
}

/// Puts a staff member in a group, created when new.
pub async fn add_to_group(state: &AppState, user: UserId, name: &str) -> Result<(), AdminError> {
    let name = line(name, 100).map_err(|key| invalid("group", key))?;
    let target = store::users::find(&state.db, user)
        .await?
        .ok_or(AdminError::NotFound)?;
    if !target.role().is_staff() {
        return Err(invalid("group", "admin.errors.groups_staff_only"));
    }
    let group = store::admin::ensure_group(&state.db, name, state.clock.now()).await?;
    Ok(store::admin::add_to_group(&state.db, user, group).await?)
}

/// Takes the user out of a group.
pub async fn remove_from_group(
    state: &AppState,
    user: UserId,
    group: GroupId,
) -> Result<(), AdminError> {
    Ok(store::admin::remove_from_group(&state.db, user, group).await?)
}

// ---------------------------------------------------------------------------
// Triage questions

/// What a question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionKind {
    /// One of a list of options.
    Choice,
    /// Free text.
    Text,
    /// One of the customer's organizations (asked only when they have
    /// several).
    Organization,
    /// Files.
    Attachment,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 4] = [
        QuestionKind::Choice,
        QuestionKind::Text,
        QuestionKind::Organization,
        QuestionKind::Attachment,
    ];

    pub fn key(self) -> &'static str {
        match self {
            QuestionKind::Choice => "choice",
            QuestionKind::Text => "text",
            QuestionKind::Organization => "organization",
            QuestionKind::Attachment => "attachment",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Keys of the built-in questions whose answers fill the ticket's own
/// fields; they can be reworded and moved, but must stay mandatory and
/// active, since a ticket cannot exist without them.
pub const REQUIRED_KEYS: [&str; 4] = ["organization", "type", "subject", "description"];

/// One initial question of a new ticket (DESIGN §2, triage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageQuestion {
    pub id: i64,
    /// Names the question in stored answers: `organization`, `type`,
    /// `subject`, `description` and `attachments` for the built-in ones
    /// (which fill the ticket's fields), `q-…` for those admins add.
    pub key: String,
    pub position: i64,
    pub kind: QuestionKind,
    pub mandatory: bool,
    pub text_pt: String,
    pub text_en: String,
    /// The options of a choice; for `type` their values are the ticket type
    /// keys (`incident`, `support`).
    pub options: Vec<ChoiceOption>,
    pub active: bool,
}

impl TriageQuestion {
    fn from_row(row: QuestionRow) -> Self {
        Self {
            id: row.id,
            kind: QuestionKind::from_key(&row.kind).unwrap_or(QuestionKind::Text),
            key: row.key,
            position: row.position,
            mandatory: row.mandatory,
            text_pt: row.text_pt,
            text_en: row.text_en,
            options: row.options.0,
            active: row.active,
        }
    }

    /// The question in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::PtBr => &self.text_pt,
            Lang::En => &self.text_en,
        }
    }

    /// An option's label in `lang`.
    pub fn option_text(option: &ChoiceOption, lang: Lang) -> &str {
        match lang {
            Lang::PtBr => &option.text_pt,
            Lang::En => &option.text_en,
        }
    }

    /// Whether the question must stay mandatory and active.
    pub fn is_required(&self) -> bool {
        REQUIRED_KEYS.contains(&self.key.as_str())
    }

    /// Whether admins may edit the options (not those of the ticket type,
    /// whose values are the ticket's).
    pub fn options_editable(&self) -> bool {
        self.kind == QuestionKind::Choice && self.key != "type"
    }

    /// The options as the form shows them: `pt | en`, one per line.
    pub fn options_text(&self) -> String {
        self.options
            .iter()
            .map(|o| format!("{} | {}", o.text_pt, o.text_en))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The active initial questions in the order they are asked: what the
/// portal's new-ticket form and the chat triage ask.
pub async fn triage_questions(state: &AppState) -> Result<Vec<TriageQuestion>, StoreError> {
    Ok(store::admin::list_questions(&state.db, true)
        .await?
        .into_iter()
        .map(TriageQuestion::from_row)
        .collect())
}

/// Every question, inactive ones included, in order.
pub async fn all_triage_questions(state: &AppState) -> Result<Vec<TriageQuestion>, StoreError> {
    Ok(store::admin::list_questions(&state.db, false)
        .await?
        .into_iter()
        .map(TriageQuestion::from_row)
        .collect())
}

/// One question, active or not.
pub async fn triage_question(state: &AppState, id: i64) -> Result<TriageQuestion, AdminError> {
    store::admin::find_question(&state.db, id)
        .await?
        .map(TriageQuestion::from_row)
        .ok_or(AdminError::NotFound)
}

/// The question form.
#[derive(Clone, Debug, Default)]
pub struct QuestionInput {
    /// Only read when creating.
    pub kind: String,
    pub text_pt: String,
    pub text_en: String,
    /// For choices: one option per line, `texto | text` (the English text
    /// may be left out, then the Portuguese one is used).
    pub options: String,
    pub mandatory: bool,
    pub active: bool,
}

const MAX_OPTIONS: usize = 20;

/// A stable value for an option, from its Portuguese text: lower-case ASCII
/// letters and digits joined by dashes, accents dropped.
fn option_value(text: &str) -> String {
    super::slug(text, usize::MAX, "opcao")
}

fn parse_options(text: &str) -> Result<Vec<ChoiceOption>, &'static str> {
    let mut options: Vec<ChoiceOption> = Vec::new();
    for raw in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (pt, en) = raw.split_once('|').unwrap_or((raw, ""));
        let pt = line(pt, 100)?;
        let en = if en.trim().is_empty() {
            pt
        } else {
            line(en, 100)?
        };
        let value = option_value(pt);
        if options.iter().any(|o| o.value == value) {
            return Err("admin.errors.duplicate_option");
        }
        options.push(ChoiceOption {
            value,
            text_pt: pt.to_owned(),
            text_en: en.to_owned(),
        });
    }
    if options.len() < 2 {
        return Err("admin.errors.two_options");
    }
    if options.len() > MAX_OPTIONS {
        return Err("admin.errors.too_many_options");
    }
    Ok(options)
}

struct CheckedQuestion<'a> {
    text_pt: &'a str,
    text_en: &'a str,
    options: Option<Vec<ChoiceOption>>,
}

fn check_question(
    input: &QuestionInput,
    kind: Option<QuestionKind>,
    options_editable: bool,
    mut errors: FieldErrors,
) -> Result<CheckedQuestion<'_>, AdminError> {
    let text_pt = line(&input.text_pt, 300).map_err(|key| errors.push(("text_pt", key)));
    let text_en = line(&input.text_en, 300).map_err(|key| errors.push(("text_en", key)));
    let options = if kind == Some(QuestionKind::Choice) && options_editable {
        parse_options(&input.options)
            .map(Some)
            .map_err(|key| errors.push(("options", key)))
    } else {
        Ok(None)
    };
    done(errors)?;
    match (text_pt, text_en, options) {
        (Ok(text_pt), Ok(text_en), Ok(options)) => Ok(CheckedQuestion {
            text_pt,
            text_en,
            options,
        }),
        _ => Err(AdminError::Invalid(Vec::new())),
    }
}

/// Adds a question at the end of the list. There is at most one
/// organization question and one attachment question.
pub async fn create_triage_question(
    state: &AppState,
    input: &QuestionInput,
) -> Result<i64, AdminError> {
    let mut errors = FieldErrors::new();
    let kind = QuestionKind::from_key(input.kind.trim());
    match kind {
        None => errors.push(("kind", "form.choose_one")),
        Some(kind @ (QuestionKind::Organization | QuestionKind::Attachment)) => {
            if all_triage_questions(state)
                .await?
                .iter()
                .any(|q| q.kind == kind)
            {
                errors.push(("kind", "admin.errors.single_kind"));
            }
        }
        Some(_) => {}
    }
    let checked = check_question(input, kind, true, errors)?;
    let Some(kind) = kind else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    let key = match kind {
        QuestionKind::Organization => "organization".to_owned(),
        QuestionKind::Attachment => "attachments".to_owned(),
        QuestionKind::Choice | QuestionKind::Text => format!("q-{}", random_hex(6)),
    };
    store::admin::create_question(
        &state.db,
        &QuestionValues {
            key: &key,
            kind: kind.key(),
            mandatory: input.mandatory,
            text_pt: checked.text_pt,
            text_en: checked.text_en,
            options: checked.options.as_deref().unwrap_or_default(),
            active: input.active,
        },
    )
    .await
    .map_err(|error| match error {
        StoreError::Conflict(_) => invalid("kind", "admin.errors.single_kind"),
        other => other.into(),
    })
}

/// Rewords a question, changes its options (choices other than the ticket
/// type), whether it is mandatory, and whether it is asked at all. The
/// built-in questions the ticket needs stay mandatory and active.
pub async fn update_triage_question(
    state: &AppState,
    id: i64,
    input: &QuestionInput,
) -> Result<(), AdminError> {
    let question = triage_question(state, id).await?;
    let mut errors = FieldErrors::new();
    if question.is_required() {
        if !input.mandatory {
            errors.push(("mandatory", "admin.errors.question_required"));
        }
        if !input.active {
            errors.push(("active", "admin.errors.question_required"));
        }
    }
    let checked = check_question(
        input,
        Some(question.kind),
        question.options_editable(),
        errors,
    )?;
    let options = checked.options.unwrap_or(question.options);
    store::admin::update_question(
        &state.db,
        id,
        &QuestionValues {
            key: &question.key,
            kind: question.kind.key(),
            mandatory: input.mandatory,
            text_pt: checked.text_pt,
            text_en: checked.text_en,
            options: &options,
            active: input.active,
        },
    )
    .await?;
    Ok(())
}

/// Moves a question one place up or down.
pub async fn move_triage_question(state: &AppState, id: i64, up: bool) -> Result<(), AdminError> {
    Ok(store::admin::move_question(&state.db, id, up).await?)
}

// ---------------------------------------------------------------------------
// Business hours

/// The stored business hours: [`BusinessHours`] as `calendar` reads it,
/// plus the holidays' names under `holiday_names`. Unknown fields are
/// ignored when `calendar` reads the setting, so both share one key and one
/// write; a date without a name shows the national holiday's name, if any.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredHours {
    #[serde(flatten)]
    hours: BusinessHours,
    #[serde(default)]
    holiday_names: BTreeMap<Date, String>,
}

async fn load_hours(state: &AppState) -> Result<StoredHours, StoreError> {
    if let Some(stored) = store::settings::get::<StoredHours>(&state.db, calendar::SETTING).await? {
        return Ok(stored);
    }
    Ok(StoredHours {
        hours: calendar::business_hours(state).await?,
        holiday_names: BTreeMap::new(),
    })
}

async fn save_hours(state: &AppState, hours: &StoredHours) -> Result<(), StoreError> {
    store::settings::put(&state.db, calendar::SETTING, hours, state.clock.now()).await?;
    state.hub.cached_rows_changed();
    Ok(())
}

/// One weekday's hours as the form shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayHours {
    pub open: bool,
    /// `HH:MM`.
    pub start: String,
    pub end: String,
}

/// The business hours as the admin page shows them.
#[derive(Clone, Debug)]
pub struct HoursView {
    pub time_zone: String,
    /// Monday first.
    pub days: [DayHours; 7],
    /// Sorted by date, with names.
    pub holidays: Vec<(Date, String)>,
}

fn hh_mm(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

fn holiday_name(names: &BTreeMap<Date, String>, date: Date) -> String {
    names.get(&date).cloned().unwrap_or_else(|| {
        domain::brazil_national_holidays(date.year())
            .into_iter()
            .find(|(d, _)| *d == date)
            .map(|(_, name)| name.to_owned())
            .unwrap_or_default()
    })
}

/// The business hours in force, for the form. A day with several stored
/// intervals shows from the first opening to the last closing.
pub async fn business_hours_view(state: &AppState) -> Result<HoursView, StoreError> {
    let stored = load_hours(state).await?;
    let days = std::array::from_fn(|i| {
        let intervals = &stored.hours.weekly[i];
        match (intervals.first(), intervals.last()) {
            (Some((start, _)), Some((_, end))) => DayHours {
                open: true,
                start: hh_mm(*start),
                end: hh_mm(*end),
            },
            _ => DayHours {
                open: false,
                start: "09:00".to_owned(),
                end: "18:00".to_owned(),
            },
        }
    });
    let holidays = stored
        .hours
        .holidays
        .iter()
        .map(|d| (*d, holiday_name(&stored.holiday_names, *d)))
        .collect();
    Ok(HoursView {
        time_zone: stored.hours.time_zone,
        days,
        holidays,
    })
}

/// Field names of the weekday inputs, Monday first.
pub const START_FIELDS: [&str; 7] = [
    "start_0", "start_1", "start_2", "start_3", "start_4", "start_5", "start_6",
];
pub const END_FIELDS: [&str; 7] = [
    "end_0", "end_1", "end_2", "end_3", "end_4", "end_5", "end_6",
];

fn parse_time(value: &str) -> Option<Time> {
    let value = value.trim();
    if value.is_empty() || value.len() > 8 {
        return None;
    }
    value.parse::<Time>().ok()
}

/// Saves the weekly hours and the time zone (the holidays are kept).
pub async fn save_weekly_hours(
    state: &AppState,
    time_zone: &str,
    days: &[DayHours; 7],
) -> Result<(), AdminError> {
    let mut errors = FieldErrors::new();
    let time_zone = time_zone.trim();
    if time_zone.is_empty() {
        errors.push(("time_zone", "form.required"));
    } else if time_zone.len() > 64 || jiff::tz::TimeZone::get(time_zone).is_err() {
        errors.push(("time_zone", "admin.errors.bad_time_zone"));
    }
    let mut weekly: [Vec<(Time, Time)>; 7] = Default::default();
    for (i, day) in days.iter().enumerate() {
        if !day.open {
            continue;
        }
        let start = parse_time(&day.start);
        let end = parse_time(&day.end);
        if start.is_none() {
            errors.push((START_FIELDS[i], "admin.errors.bad_time"));
        }
        if end.is_none() {
            errors.push((END_FIELDS[i], "admin.errors.bad_time"));
        }
        if let (Some(start), Some(end)) = (start, end) {
            if start < end {
                weekly[i].push((start, end));
            } else {
                errors.push((END_FIELDS[i], "admin.errors.closes_before_opening"));
            }
        }
    }
    if errors.is_empty() && weekly.iter().all(Vec::is_empty) {
        errors.push(("days", "admin.errors.no_open_day"));
    }
    done(errors)?;
    let mut stored = load_hours(state).await?;
    stored.hours.time_zone = time_zone.to_owned();
    stored.hours.weekly = weekly;
    if stored.hours.calendar().is_err() {
        return Err(invalid("days", "admin.errors.closes_before_opening"));
    }
    save_hours(state, &stored).await?;
    Ok(())
}

/// Adds (or renames) a holiday.
pub async fn add_holiday(state: &AppState, date: &str, name: &str) -> Result<(), AdminError> {
    let mut errors = FieldErrors::new();
    let date = match date.trim() {
        "" => {
            errors.push(("date", "form.required"));
            None
        }
        value => value
            .parse::<Date>()
            .ok()
            .filter(|d| (1900..=2200).contains(&d.year()))
            .or_else(|| {
                errors.push(("date", "form.bad_date"));
                None
            }),
    };
    let name = line(name, 100).map_err(|key| errors.push(("holiday_name", key)));
    done(errors)?;
    let (Some(date), Ok(name)) = (date, name) else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    let mut stored = load_hours(state).await?;
    stored.hours.holidays.insert(date);
    stored.holiday_names.insert(date, name.to_owned());
    save_hours(state, &stored).await?;
    Ok(())
}

/// Removes a holiday; `NotFound` when the date is not one.
pub async fn remove_holiday(state: &AppState, date: &str) -> Result<(), AdminError> {
    let date = date
        .trim()
        .parse::<Date>()
        .map_err(|_| AdminError::NotFound)?;
    let mut stored = load_hours(state).await?;
    if !stored.hours.holidays.remove(&date) {
        return Err(AdminError::NotFound);
    }
    stored.holiday_names.remove(&date);
    save_hours(state, &stored).await?;
    Ok(())
}

/// The years the national-holiday button accepts.
pub const HOLIDAY_YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

/// Adds Brazil's national holidays of `year`, the movable ones (Carnaval,
/// Sexta-feira Santa, Corpus Christi) included. Dates already listed keep
/// their names. Returns how many dates were new.
pub async fn add_national_holidays(state: &AppState, year: &str) -> Result<usize, AdminError> {
    let year = year
        .trim()
        .parse::<i16>()
        .ok()
        .filter(|y| HOLIDAY_YEARS.contains(y))
        .ok_or_else(|| invalid("year", "admin.errors.bad_year"))?;
    let mut stored = load_hours(state).await?;
    let mut added = 0;
    for (date, name) in domain::brazil_national_holidays(year) {
        if stored.hours.holidays.insert(date) {
            added += 1;
        }
        stored
            .holiday_names
            .entry(date)
            .or_insert_with(|| name.to_owned());
    }
    save_hours(state, &stored).await?;
    Ok(added)
}

// ---------------------------------------------------------------------------
// Branding

/// The setting key.
pub const BRANDING_SETTING: &str = "branding";

/// The header's colour when none is chosen (the stylesheet's `--brand`).
pub const DEFAULT_PRIMARY_COLOR: &str = "#1f5fbf";

/// What the pages show of the company running the help desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub product_name: String,
    pub support_phone: String,
    /// `#rrggbb`, dark enough for white text on it.
    pub primary_color: String,
    pub host_platform_name: String,
}

impl Branding {
    /// The configured values, used until an admin saves others.
    pub fn from_config(config: &Config) -> Self {
        Self {
            product_name: config.product_name.clone(),
            support_phone: config.support_phone.clone(),
            primary_color: DEFAULT_PRIMARY_COLOR.to_owned(),
            host_platform_name: config.host_platform_name.clone(),
        }
    }

    /// The primary colour's six hex digits, for the stylesheet's URL.
    pub fn color_hex(&self) -> &str {
        self.primary_color.trim_start_matches('#')
    }
}

/// The six hex digits of `#rrggbb` (or `rrggbb`), lower-cased.
pub fn parse_color(value: &str) -> Option<String> {
    let hex = value.trim().trim_start_matches('#');
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

fn channels(hex: &str) -> [u8; 3] {
    std::array::from_fn(|i| {
        u8::from_str_radix(hex.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0)
    })
}

/// WCAG 2 contrast ratio of white text on `hex`.
fn contrast_with_white(hex: &str) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = channels(hex);
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

/// The stylesheet that paints the brand colour: the page links it by the
/// colour's hex digits, so the URL alone decides the content and it can be
/// cached for good. The darker shade (hover) is three quarters of each
/// channel.
pub fn brand_stylesheet(hex: &str) -> String {
    let [r, g, b] = channels(hex);
    let dark = |c: u8| u8::try_from(u16::from(c) * 3 / 4).unwrap_or(c);
    format!(
        ":root {{ --brand: #{hex}; --brand-dark: #{:02x}{:02x}{:02x}; }}\n",
        dark(r),
        dark(g),
        dark(b)
    )
}

/// The branding this node shows now.
pub fn current_branding(state: &AppState) -> Branding {
    state
        .branding
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

fn set_current(state: &AppState, branding: Branding) {
    *state
        .branding
        .write()
        .unwrap_or_else(PoisonError::into_inner) = branding;
}

/// Reloads the stored branding into this node's state (at start, then
/// periodically: another node's save reaches this one at its next refresh).
pub async fn refresh_branding(state: &AppState) -> Result<(), StoreError> {
    if let Some(stored) = store::settings::get::<Branding>(&state.db, BRANDING_SETTING).await? {
        set_current(state, stored);
    }
    Ok(())
}

/// Refreshes the branding every `jobs_interval_secs` on this node, for as
/// long as the process runs.
pub fn spawn_branding_refresh(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let period = std::time::Duration::from_secs(u64::from(state.config.jobs_interval_secs));
        let mut every = tokio::time::interval(period);
        loop {
            every.tick().await;
            if let Err(error) = refresh_branding(&state).await {
                tracing::warn!(%error, "reloading the branding failed; will retry");
            }
        }
    })
}

/// A fresh lock holding the configured branding, for [`AppState::new`].
pub fn initial_branding(config: &Config) -> Arc<RwLock<Branding>> {
    Arc::new(RwLock::new(Branding::from_config(config)))
}

/// Validates and stores the branding, and shows it on this node at once.
pub async fn save_branding(state: &AppState, input: &Branding) -> Result<(), AdminError> {
    let mut errors = FieldErrors::new();
    let product_name =
        line(&input.product_name, 60).map_err(|key| errors.push(("product_name", key)));
    let host_platform_name =
        line(&input.host_platform_name, 60).map_err(|key| errors.push(("host_platform_name", key)));
    let support_phone = line(&input.support_phone, 40)
        .map_err(|key| errors.push(("support_phone", key)))
        .and_then(|phone| {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if allowed && (8..=20).contains(&digits) {
                Ok(phone)
            } else {
                errors.push(("support_phone", "admin.errors.bad_phone"));
                Err(())
            }
        });
    let color = match parse_color(&input.primary_color) {
        None => {
            errors.push(("primary_color", "admin.errors.bad_color"));
            None
        }
        Some(hex) if contrast_with_white(&hex) < 4.5 => {
            errors.push(("primary_color", "admin.errors.light_color"));
            None
        }
        Some(hex) => Some(hex),
    };
    done(errors)?;
    let (Ok(product_name), Ok(host_platform_name), Ok(support_phone), Some(color)) =
        (product_name, host_platform_name, support_phone, color)
    else {
        return Err(AdminError::Invalid(Vec::new()));
    };
    let branding = Branding {
        product_name: product_name.to_owned(),
        support_phone: support_phone.to_owned(),
        primary_color: format!("#{color}"),
        host_platform_name: host_platform_name.to_owned(),
    };
    store::settings::put(&state.db, BRANDING_SETTING, &branding, state.clock.now()).await?;
    set_current(state, branding);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_are_plain_ascii() {
        assert_eq!(
            option_value("Nota Fiscal Eletrônica"),
            "nota-fiscal-eletronica"
        );
        assert_eq!(option_value("  Ação!  "), "acao");
        assert_eq!(option_value("???"), "opcao");
    }

    #[test]
    fn options_need_two_distinct_lines() {
        assert_eq!(parse_options("Sim | Yes"), Err("admin.errors.two_options"));
        assert_eq!(
            parse_options("Sim | Yes\nsim"),
            Err("admin.errors.duplicate_option")
        );
        let options = parse_options("Sim | Yes\n\nNão").expect("valid");
        assert_eq!(options[1].value, "nao");
        assert_eq!(options[1].text_en, "Não");
    }

    #[test]
    fn header_colours_must_carry_white_text() {
        assert!(contrast_with_white("1f5fbf") >= 4.5);
        assert!(contrast_with_white("ffff00") < 4.5);
        assert_eq!(parse_color(" #1F5FBF "), Some("1f5fbf".to_owned()));
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_color("red"), None);
    }

    #[test]
    fn the_stylesheet_darkens_the_hover_shade() {
        assert_eq!(
            brand_stylesheet("1f5fbf"),
            ":root { --brand: #1f5fbf; --brand-dark: #17478f; }\n"
        );
    }

    #[test]
    fn stored_hours_keep_the_calendar_readable() {
        let hours = BusinessHours::default_for("America/Sao_Paulo", 2026);
        let mut names = BTreeMap::new();
        names.insert(jiff::civil::date(2026, 2, 16), "Carnaval".to_owned());
        let json = serde_json::to_string(&StoredHours {
            hours: hours.clone(),
            holiday_names: names.clone(),
        })
        .expect("serialize");
        let plain: BusinessHours = serde_json::from_str(&json).expect("calendar reads it");
        assert_eq!(plain, hours);
        let back: StoredHours = serde_json::from_str(&json).expect("admin reads it");
        assert_eq!(back.holiday_names, names);
        let old: StoredHours =
            serde_json::from_str(&serde_json::to_string(&hours).expect("serialize"))
                .expect("reads a value saved without names");
        assert!(old.holiday_names.is_empty());
    }
}
