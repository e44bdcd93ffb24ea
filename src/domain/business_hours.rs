//! Business-hours calendar: weekly working intervals in a time zone, minus holidays, and the
//! arithmetic the help desk needs on it (business time between two instants, deadlines
//! counted in business time or business days), plus Brazil's national holidays. Pure: no
//! I/O, no clock (callers pass the instants).
//!
//! Working intervals are wall-clock times, so "09:00–18:00" means nine to six local time on
//! every day, including the days a DST switch makes 23 or 25 hours long. Each interval
//! boundary is converted to an instant with jiff's "compatible" disambiguation (a time
//! skipped by DST counts as the moment after the gap; a repeated time as its first
//! occurrence), the same rule `civil::DateTime::to_zoned` applies.

use std::collections::BTreeSet;

use jiff::civil::{self, Date, Time, Weekday};
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Span, Timestamp};

/// When the support team works.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    /// Zone the intervals and holidays are read in.
    pub tz: TimeZone,
    /// Working intervals per weekday, index 0 = Monday. Each interval is `[start, end)`;
    /// [`BusinessCalendar::new`] checks that they are non-empty, sorted and disjoint. An
    /// interval cannot reach midnight: end a day at 23:59:59.999999999 if you must.
    pub weekly: [Vec<(Time, Time)>; 7],
    /// Local dates with no working hours at all.
    pub holidays: BTreeSet<Date>,
}

/// A weekly schedule that [`BusinessCalendar::new`] refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("on {day:?}, the interval {start}-{end} must start before it ends")]
    EmptyInterval {
        day: Weekday,
        start: Time,
        end: Time,
    },
    #[error(
        "on {day:?}, the interval starting at {start} begins before the previous one ends at \
         {previous_end}: intervals must be sorted and must not overlap"
    )]
    Overlapping {
        day: Weekday,
        previous_end: Time,
        start: Time,
    },
}

impl Default for BusinessCalendar {
    /// Brazilian office hours: Monday to Friday, 09:00–18:00, `America/Sao_Paulo`, no holidays.
    fn default() -> Self {
        // The zone is in jiff's bundled database, so the lookup cannot fail in practice;
        // UTC−3 is the same rule (Brazil dropped DST in 2019) and keeps this infallible.
        let tz = TimeZone::get("America/Sao_Paulo").unwrap_or(TimeZone::fixed(tz::offset(-3)));
        Self::weekdays_9_to_18(tz)
    }
}

const DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn weekday_index(day: Weekday) -> usize {
    match day {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    }
}

impl BusinessCalendar {
    /// Builds a calendar after checking that every day's intervals are non-empty, sorted and
    /// disjoint (touching is fine: 09:00–12:00 then 12:00–18:00). Overlaps would otherwise
    /// count the shared time twice.
    ///
    /// # Errors
    ///
    /// [`CalendarError`] naming the first offending weekday and interval.
    pub fn new(
        tz: TimeZone,
        weekly: [Vec<(Time, Time)>; 7],
        holidays: BTreeSet<Date>,
    ) -> Result<Self, CalendarError> {
        for (day, intervals) in DAYS.into_iter().zip(&weekly) {
            let mut previous_end: Option<Time> = None;
            for &(start, end) in intervals {
                if start >= end {
                    return Err(CalendarError::EmptyInterval { day, start, end });
                }
                if let Some(previous_end) = previous_end
                    && start < previous_end
                {
                    return Err(CalendarError::Overlapping {
                        day,
                        previous_end,
                        start,
                    });
                }
                previous_end = Some(end);
            }
        }
        Ok(Self {
            tz,
            weekly,
            holidays,
        })
    }

    /// Monday to Friday, 09:00–18:00 in `tz`, no holidays.
    #[must_use]
    pub fn weekdays_9_to_18(tz: TimeZone) -> Self {
        let day = vec![(civil::time(9, 0, 0, 0), civil::time(18, 0, 0, 0))];
        Self {
            tz,
            weekly: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
            holidays: BTreeSet::new(),
        }
    }

    /// The intervals worked on `date`: none on a holiday.
    fn intervals(&self, date: Date) -> &[(Time, Time)] {
        if self.holidays.contains(&date) {
            &[]
        } else {
            &self.weekly[weekday_index(date.weekday())]
        }
    }

    /// `None` only at the edges of jiff's supported range, where there is nothing to count.
    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.tz
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .ok()
    }

    /// The working intervals of `date` as instants, clipped to start no earlier than `from`;
    /// intervals left empty (by the clip, or squeezed out by a DST gap) are skipped.
    fn day_spans(
        &self,
        date: Date,
        from: Timestamp,
    ) -> impl Iterator<Item = (Timestamp, Timestamp)> {
        self.intervals(date)
            .iter()
            .filter_map(move |&(start, end)| {
                let start = self.instant(date, start)?.max(from);
                let end = self.instant(date, end)?;
                (start < end).then_some((start, end))
            })
    }

    /// Whether `date` has any working time.
    #[must_use]
    pub fn is_business_day(&self, date: Date) -> bool {
        self.intervals(date).iter().any(|(start, end)| start < end)
    }

    /// Whether any weekday has working time; without it, no deadline can ever be reached.
    #[must_use]
    pub fn has_working_hours(&self) -> bool {
        self.weekly.iter().flatten().any(|(start, end)| start < end)
    }

    /// Business time elapsed between two instants; zero if `end <= start`.
    ///
    /// One step per local day, or per week where a whole week needs no look at its days (see
    /// [`BusinessCalendar::plain_weeks`]): a year without DST costs a dozen steps.
    #[must_use]
    pub fn business_duration(&self, start: Timestamp, end: Timestamp) -> SignedDuration {
        self.duration_between(start, end, true)
    }

    fn duration_between(
        &self,
        start: Timestamp,
        end: Timestamp,
        whole_weeks: bool,
    ) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if end <= start {
            return total;
        }
        let last = self.tz.to_datetime(end).date();
        let first = self.tz.to_datetime(start).date();
        let mut date = first;
        loop {
            // Days after the first and before the last are never clipped by the range.
            if whole_weeks
                && date > first
                && let Some((weeks, next)) = self.plain_weeks(date, last)
            {
                total += weeks;
                date = next;
                continue;
            }
            for (from, to) in self.day_spans(date, start) {
                let to = to.min(end);
                if to > from {
                    total += to.duration_since(from);
                }
            }
            if date >= last {
                return total;
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => return total,
            }
        }
    }

    /// The business time of the whole weeks of local days from `date` up to `last` (which
    /// they do not include), and the day after them, when the wall clock tells it: one UTC
    /// offset throughout (no DST switch), so the weekly schedule's length per week less the
    /// hours of the holidays among them. `None` when not even one week qualifies, and the
    /// days are counted one by one.
    fn plain_weeks(&self, date: Date, last: Date) -> Option<(SignedDuration, Date)> {
        let from = self.instant(date, Time::midnight())?;
        let mut days = date.until(last).ok()?.get_days();
        // A switch on day `d` leaves the days before `d - 1` on one offset.
        if let Some(switch) = self
            .tz
            .following(from.checked_sub(SignedDuration::from_hours(24)).ok()?)
            .next()
        {
            let day = self.tz.to_datetime(switch.timestamp()).date();
            days = days.min(date.until(day).ok()?.get_days() - 1);
        }
        let weeks = days / 7;
        if weeks < 1 {
            return None;
        }
        let next = date.checked_add(Span::new().days(weeks * 7)).ok()?;
        let length = |day: &[(Time, Time)]| -> SignedDuration {
            day.iter()
                .map(|(start, end)| end.duration_since(*start))
                .sum()
        };
        let week: SignedDuration = self.weekly.iter().map(|day| length(day)).sum();
        let off: SignedDuration = self
            .holidays
            .range(date..next)
            .map(|holiday| length(&self.weekly[weekday_index(holiday.weekday())]))
            .sum();
        Some((week * weeks - off, next))
    }

    /// The first instant by which `duration` of business time has elapsed after `start` (for
    /// deadlines such as "auto-solve after 16 business hours"). A start outside working hours
    /// begins counting at the next working interval. A zero or negative duration gives
    /// `start`. `None` when the calendar has no working hours at all, or the deadline falls
    /// beyond the representable range.
    #[must_use]
    pub fn add_business_duration(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Option<Timestamp> {
        if !self.has_working_hours() {
            return None;
        }
        if duration <= SignedDuration::ZERO {
            return Some(start);
        }
        let mut remaining = duration;
        let mut date = self.tz.to_datetime(start).date();
        loop {
            for (from, to) in self.day_spans(date, start) {
                let available = to.duration_since(from);
                if remaining <= available {
                    return from.checked_add(remaining).ok();
                }
                remaining -= available;
            }
            date = date.tomorrow().ok()?;
        }
    }

    /// The same local wall-clock time as `start`, on the `days`-th business day after
    /// `start`'s local date. A business day is a date with working hours that is not a
    /// holiday; `start`'s own date never counts, whatever the hour, so a ticket set aside on
    /// Friday evening with 1 business day to go is due Monday evening (Saturday morning →
    /// Monday morning). Zero days gives `start`. If that wall-clock time does not exist on the
    /// target date (DST), the compatible rule picks the instant just after the gap.
    /// `None` when no weekday has working hours, or beyond the representable range.
    #[must_use]
    pub fn add_business_days(&self, start: Timestamp, days: u32) -> Option<Timestamp> {
        if days == 0 {
            return Some(start);
        }
        if !self.has_working_hours() {
            return None;
        }
        let local = self.tz.to_datetime(start);
        let mut date = local.date();
        let mut left = days;
        while left > 0 {
            date = date.tomorrow().ok()?;
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        self.instant(date, local.time())
    }
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm,
/// also known as Meeus/Jones/Butcher), from which Brazil's movable holidays follow.
///
/// # Panics
///
/// If `year` is outside jiff's supported range, -9999 to 9999.
#[must_use]
#[expect(
    clippy::many_single_char_names,
    reason = "the letters are the published algorithm's, so it can be checked against it"
)]
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let (month, day) = month_day(n.div_euclid(31), n.rem_euclid(31) + 1);
    civil::date(year, month, day)
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "the Easter algorithm yields month 3 or 4 and a day of 1 to 31"
)]
fn month_day(month: i32, day: i32) -> (i8, i8) {
    (month as i8, day as i8)
}

/// Brazil's national holidays in `year`, sorted by date, each with its official name.
///
/// Carnaval (Monday and Tuesday) and Corpus Christi are legally optional days off
/// ("ponto facultativo") rather than holidays, but are included because support teams in
/// Brazil do not work them; remove them from a calendar that must. The Dia Nacional de
/// Zumbi e da Consciência Negra is national from 2024 on (Lei 14.759/2023). State and
/// municipal holidays are the admin's to add. Empty for years jiff cannot represent.
#[must_use]
pub fn brazil_national_holidays(year: i16) -> Vec<(Date, &'static str)> {
    if Date::new(year, 1, 1).is_err() || Date::new(year, 12, 31).is_err() {
        return Vec::new();
    }
    let fixed: [(i8, i8, &'static str); 9] = [
        (1, 1, "Confraternização Universal"),
        (4, 21, "Tiradentes"),
        (5, 1, "Dia do Trabalho"),
        (9, 7, "Independência do Brasil"),
        (10, 12, "Nossa Senhora Aparecida"),
        (11, 2, "Finados"),
        (11, 15, "Proclamação da República"),
        (11, 20, "Dia Nacional de Zumbi e da Consciência Negra"),
        (12, 25, "Natal"),
    ];
    let easter = easter_sunday(year);
    let movable: [(i64, &'static str); 4] = [
        (-48, "Carnaval (segunda-feira)"),
        (-47, "Carnaval (terça-feira)"),
        (-2, "Sexta-feira Santa"),
        (60, "Corpus Christi"),
    ];
    let mut holidays: Vec<(Date, &'static str)> = fixed
        .into_iter()
        .filter(|&(month, day, _)| !(month == 11 && day == 20 && year < 2024))
        .filter_map(|(month, day, name)| Some((Date::new(year, month, day).ok()?, name)))
        .chain(movable.into_iter().filter_map(|(offset, name)| {
            Some((easter.checked_add(Span::new().days(offset)).ok()?, name))
        }))
        .collect();
    holidays.sort_unstable();
    holidays
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).expect("zone in the bundled database")
    }

    /// A local wall-clock time in `zone` as an instant.
    fn at(zone: &TimeZone, datetime: &str) -> Timestamp {
        let dt: civil::DateTime = datetime.parse().expect("valid datetime in test");
        zone.to_ambiguous_timestamp(dt)
            .compatible()
            .expect("representable")
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn new_york_9_to_17() -> BusinessCalendar {
        let day = vec![(civil::time(9, 0, 0, 0), civil::time(17, 0, 0, 0))];
        let weekly = [
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            Vec::new(),
            Vec::new(),
        ];
        BusinessCalendar::new(tz("America/New_York"), weekly, BTreeSet::new())
            .expect("valid schedule")
    }

    #[test]
    fn default_calendar_is_sao_paulo_weekdays_nine_to_six() {
        let cal = BusinessCalendar::default();
        assert_eq!(cal.tz.iana_name(), Some("America/Sao_Paulo"));
        assert!(cal.holidays.is_empty());
        let nine_to_six = [(civil::time(9, 0, 0, 0), civil::time(18, 0, 0, 0))];
        for (i, day) in cal.weekly.iter().enumerate() {
            if i < 5 {
                assert_eq!(day.as_slice(), nine_to_six.as_slice());
            } else {
                assert!(day.is_empty());
            }
        }
        // A full working week is 45 h.
        let monday = at(&cal.tz, "2026-03-09T00:00");
        let next_monday = at(&cal.tz, "2026-03-16T00:00");
        assert_eq!(cal.business_duration(monday, next_monday), hours(45));
    }

    #[test]
    fn new_refuses_empty_unsorted_and_overlapping_intervals() {
        let t = |h| civil::time(h, 0, 0, 0);
        let week =
            |monday: Vec<(Time, Time)>| [monday, vec![], vec![], vec![], vec![], vec![], vec![]];
        let make = |monday| BusinessCalendar::new(TimeZone::UTC, week(monday), BTreeSet::new());

        assert_eq!(
            make(vec![(t(9), t(9))]).err(),
            Some(CalendarError::EmptyInterval {
                day: Weekday::Monday,
                start: t(9),
                end: t(9),
            })
        );
        assert!(make(vec![(t(18), t(9))]).is_err());
        assert_eq!(
            make(vec![(t(9), t(12)), (t(11), t(18))]).err(),
            Some(CalendarError::Overlapping {
                day: Weekday::Monday,
                previous_end: t(12),
                start: t(11),
            })
        );
        assert!(make(vec![(t(13), t(18)), (t(9), t(12))]).is_err());
        assert!(make(vec![(t(9), t(12)), (t(12), t(18))]).is_ok());
        assert!(make(vec![(t(9), t(12)), (t(13), t(18))]).is_ok());
        let message = make(vec![(t(9), t(9))]).err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("on Monday, the interval 09:00:00-09:00:00 must start before it ends")
        );
    }

    #[test]
    fn business_duration_is_zero_for_empty_or_reversed_ranges() {
        let cal = BusinessCalendar::default();
        let t = at(&cal.tz, "2026-03-10T10:00");
        assert_eq!(cal.business_duration(t, t), SignedDuration::ZERO);
        let later = at(&cal.tz, "2026-03-10T12:00");
        assert_eq!(cal.business_duration(later, t), SignedDuration::ZERO);
        assert_eq!(cal.business_duration(t, later), hours(2));
    }

    #[test]
    fn business_duration_clamps_to_working_hours_within_a_day() {
        let cal = BusinessCalendar::default();
        let start = at(&cal.tz, "2026-03-10T07:00");
        let end = at(&cal.tz, "2026-03-10T20:00");
        assert_eq!(cal.business_duration(start, end), hours(9));
        let lunch = at(&cal.tz, "2026-03-10T12:30");
        assert_eq!(
            cal.business_duration(start, lunch),
            SignedDuration::from_mins(210)
        );
    }

    #[test]
    fn a_weekend_and_a_holiday_are_not_business_time() {
        // 2026-09-04 is a Friday and Monday 2026-09-07 is Independence Day.
        let mut cal = BusinessCalendar::default();
        cal.holidays
            .extend(brazil_national_holidays(2026).into_iter().map(|(d, _)| d));
        assert_eq!(date(2026, 9, 4).weekday(), Weekday::Friday);
        assert!(!cal.is_business_day(date(2026, 9, 7)));
        let start = at(&cal.tz, "2026-09-04T17:00");
        let end = at(&cal.tz, "2026-09-08T10:00");
        assert_eq!(cal.business_duration(start, end), hours(2));
        assert_eq!(end.duration_since(start), hours(24 * 3 + 17));
    }

    #[test]
    fn dst_switch_changes_calendar_time_but_not_business_time() {
        // The US moved clocks forward on Sunday 2026-03-08.
        let cal = new_york_9_to_17();
        let start = at(&cal.tz, "2026-03-06T16:00");
        let end = at(&cal.tz, "2026-03-09T10:00");
        assert_eq!(end.duration_since(start), hours(65));
        assert_eq!(cal.business_duration(start, end), hours(2));
        // And back on Sunday 2026-11-01: the weekend gains an hour, business time does not.
        let start = at(&cal.tz, "2026-10-30T16:00");
        let end = at(&cal.tz, "2026-11-02T10:00");
        assert_eq!(end.duration_since(start), hours(67));
        assert_eq!(cal.business_duration(start, end), hours(2));
    }

    #[test]
    fn an_interval_across_a_dst_gap_lasts_its_real_length() {
        // Working Sunday 01:00–04:00 in New York on the spring-forward night: 02:00–03:00
        // never happens, so only two hours are worked.
        let mut cal = new_york_9_to_17();
        cal.weekly[6] = vec![(civil::time(1, 0, 0, 0), civil::time(4, 0, 0, 0))];
        let start = at(&cal.tz, "2026-03-08T00:00");
        let end = at(&cal.tz, "2026-03-08T12:00");
        assert_eq!(cal.business_duration(start, end), hours(2));
    }

    #[test]
    fn ten_years_of_business_time_add_up() {
        let cal = BusinessCalendar::default();
        let start = at(&cal.tz, "2020-01-01T00:00");
        let end = at(&cal.tz, "2030-01-01T00:00");
        // 2020-01-01 to 2029-12-31: 2609 weekdays of nine hours each.
        assert_eq!(cal.business_duration(start, end), hours(2609 * 9));
    }

    #[test]
    fn add_business_duration_skips_closed_time() {
        let mut cal = BusinessCalendar::default();
        cal.holidays.insert(date(2026, 9, 7));
        let friday_five = at(&cal.tz, "2026-09-04T17:00");
        assert_eq!(
            cal.add_business_duration(friday_five, hours(2)),
            Some(at(&cal.tz, "2026-09-08T10:00"))
        );
        // Ending exactly at closing time gives closing time, not the next morning.
        assert_eq!(
            cal.add_business_duration(friday_five, hours(1)),
            Some(at(&cal.tz, "2026-09-04T18:00"))
        );
        let saturday = at(&cal.tz, "2026-09-05T11:00");
        assert_eq!(
            cal.add_business_duration(saturday, SignedDuration::from_mins(30)),
            Some(at(&cal.tz, "2026-09-08T09:30"))
        );
        assert_eq!(
            cal.add_business_duration(saturday, SignedDuration::ZERO),
            Some(saturday)
        );
        let deadline = cal
            .add_business_duration(friday_five, hours(40))
            .expect("reachable");
        assert_eq!(cal.business_duration(friday_five, deadline), hours(40));
    }

    #[test]
    fn a_calendar_without_working_hours_has_no_deadlines() {
        let cal = BusinessCalendar::new(TimeZone::UTC, Default::default(), BTreeSet::new())
            .expect("an empty schedule is valid");
        let now = at(&TimeZone::UTC, "2026-03-10T10:00");
        assert!(!cal.has_working_hours());
        assert_eq!(cal.add_business_duration(now, hours(1)), None);
        assert_eq!(cal.add_business_days(now, 1), None);
        assert_eq!(
            cal.business_duration(now, at(&TimeZone::UTC, "2027-01-01T00:00")),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn add_business_days_skips_weekends_and_holidays_keeping_the_wall_clock_time() {
        let mut cal = BusinessCalendar::default();
        cal.holidays.insert(date(2026, 9, 7));
        let friday = at(&cal.tz, "2026-09-04T15:30");
        assert_eq!(cal.add_business_days(friday, 0), Some(friday));
        assert_eq!(
            cal.add_business_days(friday, 1),
            Some(at(&cal.tz, "2026-09-08T15:30"))
        );
        assert_eq!(
            cal.add_business_days(friday, 3),
            Some(at(&cal.tz, "2026-09-10T15:30"))
        );
        let saturday_night = at(&cal.tz, "2026-09-05T22:00");
        assert_eq!(
            cal.add_business_days(saturday_night, 1),
            Some(at(&cal.tz, "2026-09-08T22:00"))
        );
    }

    #[test]
    fn add_business_days_keeps_local_time_across_dst() {
        let cal = new_york_9_to_17();
        let friday = at(&cal.tz, "2026-03-06T10:00");
        let monday = cal.add_business_days(friday, 1).expect("reachable");
        assert_eq!(monday, at(&cal.tz, "2026-03-09T10:00"));
        assert_eq!(monday.duration_since(friday), hours(71));
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2025), date(2025, 4, 20));
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2000), date(2000, 4, 23));
        assert_eq!(easter_sunday(2038), date(2038, 4, 25));
        assert_eq!(easter_sunday(2285), date(2285, 3, 22));
        for year in 1900..=2100 {
            assert_eq!(easter_sunday(year).weekday(), Weekday::Sunday);
        }
    }

    #[test]
    fn brazil_holidays_2026_include_fixed_and_movable_dates_in_order() {
        let holidays = brazil_national_holidays(2026);
        let dates: Vec<Date> = holidays.iter().map(|&(d, _)| d).collect();
        assert_eq!(
            dates,
            [
                date(2026, 1, 1),
                date(2026, 2, 16),
                date(2026, 2, 17),
                date(2026, 4, 3),
                date(2026, 4, 21),
                date(2026, 5, 1),
                date(2026, 6, 4),
                date(2026, 9, 7),
                date(2026, 10, 12),
                date(2026, 11, 2),
                date(2026, 11, 15),
                date(2026, 11, 20),
                date(2026, 12, 25),
            ]
        );
        let name = |d| holidays.iter().find(|&&(h, _)| h == d).map(|&(_, n)| n);
        assert_eq!(name(date(2026, 2, 16)), Some("Carnaval (segunda-feira)"));
        assert_eq!(name(date(2026, 2, 17)), Some("Carnaval (terça-feira)"));
        assert_eq!(name(date(2026, 4, 3)), Some("Sexta-feira Santa"));
        assert_eq!(name(date(2026, 6, 4)), Some("Corpus Christi"));
        assert_eq!(name(date(2026, 4, 21)), Some("Tiradentes"));
    }

    #[test]
    fn consciencia_negra_is_national_only_from_2024() {
        let has_nov_20 = |year| {
            brazil_national_holidays(year)
                .iter()
                .any(|&(d, _)| d == date(year, 11, 20))
        };
        assert!(!has_nov_20(2023));
        assert!(has_nov_20(2024));
        assert_eq!(brazil_national_holidays(2023).len(), 12);
        assert!(brazil_national_holidays(10_000).is_empty());
    }

    #[test]
    fn whole_weeks_count_the_same_as_day_by_day() {
        let mut holidays = BTreeSet::new();
        holidays.insert(civil::date(2026, 4, 3));
        holidays.insert(civil::date(2026, 12, 25));
        let mut calendars = vec![
            BusinessCalendar::default(),
            new_york_9_to_17(),
            BusinessCalendar::weekdays_9_to_18(TimeZone::UTC),
        ];
        calendars.push(BusinessCalendar {
            holidays,
            ..new_york_9_to_17()
        });
        // Every day across 02:00, the hour New York's DST switches skip and repeat.
        let night = vec![(civil::time(0, 30, 0, 0), civil::time(5, 0, 0, 0))];
        calendars.push(
            BusinessCalendar::new(
                tz("America/New_York"),
                std::array::from_fn(|_| night.clone()),
                BTreeSet::new(),
            )
            .expect("valid schedule"),
        );
        // Ranges from minutes to two years, starting at every hour of a week, across
        // New York's DST switches of March and November.
        let base = at(&TimeZone::UTC, "2025-12-29T00:00");
        for cal in &calendars {
            for offset in (0..24 * 7).step_by(5) {
                let start = base + SignedDuration::from_hours(offset);
                for length in [1, 7, 50, 24 * 8, 24 * 45, 24 * 200, 24 * 730] {
                    let end =
                        start + SignedDuration::from_hours(length) + SignedDuration::from_mins(17);
                    assert_eq!(
                        cal.duration_between(start, end, true),
                        cal.duration_between(start, end, false),
                        "{start} to {end} in {:?}",
                        cal.tz.iana_name()
                    );
                }
            }
        }
    }
}
