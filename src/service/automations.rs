//! The automations' settings, which admins change at run time (stored under
//! the setting `automations`): the triage timeout, auto-solve after N
//! business days in *Aguardando Sua Resposta* with a reminder before it, and
//! the reopen window of solved tickets. The jobs read them on every sweep, so
//! a change takes effect at the next tick on every node.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    config::Config,
    store::{self, StoreError},
};

/// The setting key.
pub const SETTING: &str = "automations";

/// What the automations do, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationSettings {
    /// A triage with no answer for this long becomes *Abandono na Triagem*.
    pub triage_timeout_minutes: u32,
    /// A ticket this many business days in *Aguardando Sua Resposta*
    /// becomes *Solucionado*.
    pub auto_solve_business_days: u32,
    /// The customer is reminded this many business days before that.
    pub reminder_business_days_before: u32,
    /// A customer's reply reopens a ticket solved at most this many days ago.
    pub reopen_window_days: u32,
}

/// The stored form: every field optional, so a value saved by an older
/// version (or edited by hand) still loads, with defaults for what it lacks.
#[derive(Debug, Default, Deserialize)]
struct Stored {
    triage_timeout_minutes: Option<u32>,
    auto_solve_business_days: Option<u32>,
    reminder_business_days_before: Option<u32>,
    reopen_window_days: Option<u32>,
}

/// Bounds the admin form enforces.
pub const TRIAGE_TIMEOUT_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
pub const BUSINESS_DAYS: std::ops::RangeInclusive<u32> = 1..=60;
pub const REOPEN_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 0..=365;

/// A field the admin form must mark, with the message key to show there.
pub type FieldError = (&'static str, &'static str);

/// Why saving failed.
#[derive(Debug, thiserror::Error)]
pub enum AutomationsError {
    /// (field, message key) pairs, in the order of the form.
    #[error("invalid automation settings")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AutomationSettings {
    /// The defaults: 30 minutes, 5 business days with a reminder one day
    /// before, and the configured reopen window.
    pub fn defaults(config: &Config) -> Self {
        Self {
            triage_timeout_minutes: 30,
            auto_solve_business_days: 5,
            reminder_business_days_before: 1,
            reopen_window_days: config.reopen_window_days,
        }
    }

    /// Every field outside its bounds, or the reminder not before the
    /// auto-solve, as (field, message key).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !TRIAGE_TIMEOUT_MINUTES.contains(&self.triage_timeout_minutes) {
            errors.push(("triage_timeout_minutes", "automations.triage_timeout_range"));
        }
        let solve_ok = BUSINESS_DAYS.contains(&self.auto_solve_business_days);
        if !solve_ok {
            errors.push((
                "auto_solve_business_days",
                "automations.business_days_range",
            ));
        }
        if !BUSINESS_DAYS.contains(&self.reminder_business_days_before) {
            errors.push((
                "reminder_business_days_before",
                "automations.business_days_range",
            ));
        } else if solve_ok && self.reminder_business_days_before >= self.auto_solve_business_days {
            errors.push((
                "reminder_business_days_before",
                "automations.reminder_before_auto_solve",
            ));
        }
        if !REOPEN_WINDOW_DAYS.contains(&self.reopen_window_days) {
            errors.push(("reopen_window_days", "automations.reopen_window_range"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn triage_timeout(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.triage_timeout_minutes))
    }

    /// Business days from entering *Aguardando Sua Resposta* to the reminder.
    pub fn reminder_after_business_days(&self) -> u32 {
        self.auto_solve_business_days
            .saturating_sub(self.reminder_business_days_before)
    }

    /// The reopen window, in calendar days of 24 hours.
    pub fn reopen_window(&self) -> SignedDuration {
        SignedDuration::from_hours(24 * i64::from(self.reopen_window_days))
    }
}

/// The settings in force: the stored ones, completed with the defaults.
pub async fn load(state: &AppState) -> Result<AutomationSettings, StoreError> {
    let defaults = AutomationSettings::defaults(&state.config);
    let stored = super::node_cache::setting::<Stored>(state, SETTING)
        .await?
        .unwrap_or_default();
    Ok(AutomationSettings {
        triage_timeout_minutes: stored
            .triage_timeout_minutes
            .unwrap_or(defaults.triage_timeout_minutes),
        auto_solve_business_days: stored
            .auto_solve_business_days
            .unwrap_or(defaults.auto_solve_business_days),
        reminder_business_days_before: stored
            .reminder_business_days_before
            .unwrap_or(defaults.reminder_business_days_before),
        reopen_window_days: stored
            .reopen_window_days
            .unwrap_or(defaults.reopen_window_days),
    })
}

/// Validates and stores the settings; nothing is stored when a field is
/// refused.
pub async fn save(state: &AppState, settings: &AutomationSettings) -> Result<(), AutomationsError> {
    settings.validate().map_err(AutomationsError::Invalid)?;
    store::settings::put(&state.db, SETTING, settings, state.clock.now()).await?;
    state.hub.cached_rows_changed();
    Ok(())
}

/// The reopen window in force, for the portal's reply rules.
pub async fn reopen_window(state: &AppState) -> Result<SignedDuration, StoreError> {
    Ok(load(state).await?.reopen_window())
}
