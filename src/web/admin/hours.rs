//! Business hours: the weekly hours and time zone, the holidays, and
//! Brazil's national holidays of a chosen year in one click.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use axum_extra::extract::Form;
use jiff::civil::Date;
use serde::Deserialize;

use super::{field_errors, notice, see_other, unprocessable};
use crate::{
    AppState,
    domain::Lang,
    error::AppError,
    service::admin::{
        self as admin_service, AdminError, DayHours, END_FIELDS, FieldErrors, HoursView,
        START_FIELDS,
    },
    web::{Admin, Ctx, Layout, encode_query_value, render},
};

const NOTICES: [(&str, &str); 4] = [
    ("saved", "admin.done.hours_saved"),
    ("holiday_added", "admin.done.holiday_added"),
    ("holiday_removed", "admin.done.holiday_removed"),
    ("national_added", "admin.done.national_added"),
];

/// Zones offered as suggestions (any IANA name is accepted): Brazil's,
/// then a few common ones.
const ZONES: [&str; 12] = [
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Bahia",
    "America/Fortaleza",
    "America/Recife",
    "America/Belem",
    "America/Cuiaba",
    "America/Porto_Velho",
    "America/Rio_Branco",
    "America/Noronha",
    "America/New_York",
    "UTC",
];

const DAY_KEYS: [&str; 7] = [
    "admin.hours.day_0",
    "admin.hours.day_1",
    "admin.hours.day_2",
    "admin.hours.day_3",
    "admin.hours.day_4",
    "admin.hours.day_5",
    "admin.hours.day_6",
];

#[derive(Debug, Default, Deserialize)]
pub struct HoursQuery {
    done: Option<String>,
    added: Option<usize>,
    year: Option<i16>,
}

/// A weekday row of the form.
pub struct DayRow {
    index: usize,
    label: String,
    hours: DayHours,
    start_field: &'static str,
    end_field: &'static str,
}

/// A year's holidays; past years start collapsed.
pub struct HolidayYear {
    year: i16,
    open: bool,
    holidays: Vec<HolidayRow>,
}

/// A holiday row.
pub struct HolidayRow {
    date: String,
    shown: String,
    weekday: String,
    name: String,
}

#[derive(Template)]
#[template(path = "admin/business_hours.html")]
pub struct HoursPage {
    layout: Layout,
    section: &'static str,
    time_zone: String,
    days: Vec<DayRow>,
    years: Vec<HolidayYear>,
    zones: [&'static str; 12],
    year: String,
    /// The date and name of the holiday form, kept after a refusal.
    holiday_date: String,
    holiday_name: String,
    errors: FieldErrors,
    notice: Option<String>,
}
field_errors!(HoursPage);

fn show_date(date: Date, lang: Lang) -> String {
    match lang {
        Lang::PtBr => format!("{:02}/{:02}/{}", date.day(), date.month(), date.year()),
        Lang::En => date.to_string(),
    }
}

fn weekday_index(date: Date) -> usize {
    usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0)
}

/// What the form shows after a refusal, instead of the stored values.
#[derive(Default)]
struct Posted {
    time_zone: Option<String>,
    days: Option<[DayHours; 7]>,
    holiday_date: String,
    holiday_name: String,
    year: Option<String>,
}

async fn hours_page(
    state: &AppState,
    ctx: &Ctx,
    posted: Posted,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let HoursView {
        time_zone,
        days,
        holidays,
    } = admin_service::business_hours_view(state).await?;
    let layout = Layout::new(state, ctx);
    let lang = layout.t.lang;
    let days = posted.days.unwrap_or(days);
    let days = days
        .into_iter()
        .enumerate()
        .map(|(index, hours)| DayRow {
            index,
            label: layout.t.t(DAY_KEYS[index]).to_owned(),
            hours,
            start_field: START_FIELDS[index],
            end_field: END_FIELDS[index],
        })
        .collect();
    let this_year = state.clock.now().to_zoned(state.config.time_zone()).year();
    let mut years: Vec<HolidayYear> = Vec::new();
    for (date, name) in holidays {
        let row = HolidayRow {
            date: date.to_string(),
            shown: show_date(date, lang),
            weekday: layout.t.t(DAY_KEYS[weekday_index(date)]).to_owned(),
            name,
        };
        match years.last_mut() {
            Some(group) if group.year == date.year() => group.holidays.push(row),
            _ => years.push(HolidayYear {
                year: date.year(),
                open: date.year() >= this_year,
                holidays: vec![row],
            }),
        }
    }
    render(&HoursPage {
        layout,
        section: "hours",
        time_zone: posted.time_zone.unwrap_or(time_zone),
        days,
        years,
        zones: ZONES,
        year: posted.year.unwrap_or_else(|| this_year.to_string()),
        holiday_date: posted.holiday_date,
        holiday_name: posted.holiday_name,
        errors,
        notice,
    })
}

/// `GET /admin/business-hours`: weekly hours, time zone and holidays.
pub async fn show_business_hours(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<HoursQuery>,
) -> Result<Response, AppError> {
    let layout_t = Layout::new(&state, &ctx).t;
    let done = notice(query.done.as_deref(), &NOTICES).map(|key| {
        if key == "admin.done.national_added" {
            let added = query.added.unwrap_or(0).to_string();
            let year = query.year.map(|y| y.to_string()).unwrap_or_default();
            layout_t.fmt(key, &[("count", added.as_str()), ("year", year.as_str())])
        } else {
            layout_t.t(key).to_owned()
        }
    });
    hours_page(&state, &ctx, Posted::default(), Vec::new(), done).await
}

/// `POST /admin/business-hours`: saves the weekly hours and the time zone.
/// A weekday is open when `open_N` is sent (N = 0 for Monday … 6 for
/// Sunday), from `start_N` to `end_N` (`HH:MM`).
pub async fn update_business_hours(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let field = |name: String| form.get(&name).cloned().unwrap_or_default();
    let days: [DayHours; 7] = std::array::from_fn(|i| DayHours {
        open: form.contains_key(&format!("open_{i}")),
        start: field(format!("start_{i}")),
        end: field(format!("end_{i}")),
    });
    let time_zone = field("time_zone".to_owned());
    match admin_service::save_weekly_hours(&state, &time_zone, &days).await {
        Ok(()) => Ok(see_other("/admin/business-hours", "saved")),
        Err(AdminError::Invalid(errors)) => {
            let posted = Posted {
                time_zone: Some(time_zone),
                days: Some(days),
                ..Posted::default()
            };
            unprocessable(hours_page(&state, &ctx, posted, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HolidayForm {
    date: String,
    name: String,
}

/// `POST /admin/business-hours/holidays`: adds a holiday (or renames one).
pub async fn create_holiday(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<HolidayForm>,
) -> Result<Response, AppError> {
    match admin_service::add_holiday(&state, &form.date, &form.name).await {
        Ok(()) => Ok(see_other("/admin/business-hours", "holiday_added")),
        Err(AdminError::Invalid(errors)) => {
            let posted = Posted {
                holiday_date: form.date,
                holiday_name: form.name,
                ..Posted::default()
            };
            unprocessable(hours_page(&state, &ctx, posted, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /admin/business-hours/holidays/delete`: removes the holiday on
/// `date`.
pub async fn delete_holiday(
    State(state): State<AppState>,
    Admin(_ctx, _session): Admin,
    Form(form): Form<HolidayForm>,
) -> Result<Response, AppError> {
    admin_service::remove_holiday(&state, &form.date).await?;
    Ok(see_other("/admin/business-hours", "holiday_removed"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct YearForm {
    year: String,
}

/// `POST /admin/business-hours/national-holidays`: adds Brazil's national
/// holidays of `year`.
pub async fn create_national_holidays(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<YearForm>,
) -> Result<Response, AppError> {
    match admin_service::add_national_holidays(&state, &form.year).await {
        Ok(added) => Ok(see_other(
            &format!(
                "/admin/business-hours?year={}&added={added}",
                encode_query_value(form.year.trim())
            ),
            "national_added",
        )),
        Err(AdminError::Invalid(errors)) => {
            let posted = Posted {
                year: Some(form.year),
                ..Posted::default()
            };
            unprocessable(hours_page(&state, &ctx, posted, errors, None).await)
        }
        Err(other) => Err(other.into()),
    }
}
