//! The business-hours calendar used for time in each status and for the
//! automations' deadlines. Admins edit it (stored under the setting
//! `business_hours`); until they do, it is weekdays 9–18 in the configured
//! time zone without Brazil's national holidays.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    domain::{self, BusinessCalendar},
    store::StoreError,
};

/// The setting key.
pub const SETTING: &str = "business_hours";

/// The calendar as stored: a time zone, working intervals per weekday
/// (index 0 = Monday) and holiday dates.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BusinessHours {
    pub time_zone: String,
    pub weekly: [Vec<(Time, Time)>; 7],
    pub holidays: BTreeSet<Date>,
}

impl BusinessHours {
    /// Weekdays 9–18 in `time_zone`, with Brazil's national holidays of the
    /// years around `year`.
    pub fn default_for(time_zone: &str, year: i16) -> Self {
        let day = vec![(
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(18, 0, 0, 0),
        )];
        let mut holidays = BTreeSet::new();
        for y in year.saturating_sub(3)..=year.saturating_add(1) {
            holidays.extend(
                domain::brazil_national_holidays(y)
                    .into_iter()
                    .map(|(date, _)| date),
            );
        }
        Self {
            time_zone: time_zone.to_owned(),
            weekly: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
            holidays,
        }
    }

    /// The calendar these settings describe; an invalid stored value (which
    /// the admin form refuses) falls back to the default zone's calendar.
    pub fn calendar(&self) -> Result<BusinessCalendar, domain::CalendarError> {
        let tz = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        BusinessCalendar::new(tz, self.weekly.clone(), self.holidays.clone())
    }
}

/// The stored business hours, or the default.
pub async fn business_hours(state: &AppState) -> Result<BusinessHours, StoreError> {
    if let Some(stored) = super::node_cache::setting::<BusinessHours>(state, SETTING).await? {
        return Ok(stored);
    }
    let tz = state.config.time_zone();
    let year = state.clock.now().to_zoned(tz).year();
    Ok(BusinessHours::default_for(
        &state.config.default_time_zone,
        year,
    ))
}

/// The business calendar in force.
pub async fn business_calendar(state: &AppState) -> Result<BusinessCalendar, StoreError> {
    let hours = business_hours(state).await?;
    Ok(hours.calendar().unwrap_or_else(|error| {
        tracing::warn!(%error, "stored business hours are invalid; using weekdays 9-18");
        BusinessCalendar::weekdays_9_to_18(state.config.time_zone())
    }))
}
