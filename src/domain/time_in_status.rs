//! Time a ticket spent in each status ("Tempo em cada status" on the ticket page), derived
//! from its append-only status events: timeline segments for the chart, per-status totals in
//! calendar and business time, and compact human durations. Pure: no I/O, no clock (the
//! caller passes `now`).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::business_hours::BusinessCalendar;
use super::status::{Lang, TicketStatus};

/// One recorded status change. `from` is `None` for the event that created the ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub from: Option<TicketStatus>,
    pub to: TicketStatus,
    pub at: Timestamp,
}

/// One uninterrupted stay in a status: a segment of the timeline chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatusSpan {
    pub status: TicketStatus,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The ticket is still in this status; `end` is the `now` it was computed at.
    pub current: bool,
}

/// Everything spent in one status, over all the times the ticket entered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatusTotal {
    pub status: TicketStatus,
    pub calendar: SignedDuration,
    /// Only the time inside the business calendar's working hours.
    pub business: SignedDuration,
    pub times_entered: u32,
    /// The ticket is in this status now.
    pub current: bool,
}

/// The whole derivation for one ticket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TimeInStatus {
    /// In time order; stays of zero length are left out.
    pub spans: Vec<StatusSpan>,
    /// One per status the ticket has entered, in the order it first entered them.
    pub totals: Vec<StatusTotal>,
    /// Events dated after `now`, left out. Non-zero means clocks disagree (another node's
    /// clock ahead of ours, or a bad import): worth logging, never worth a negative duration.
    pub ignored_future_events: usize,
}

/// Derives time in each status from `events`, as of `now`.
///
/// Events are sorted by time first, since storage order is not trusted; the sort is stable,
/// so events sharing an instant keep their given (insertion) order and the later one wins.
/// Each event's `to` status lasts until the next event, and the last one until `now`. Only
/// `to` is read: a `from` that disagrees with the previous event changes nothing, because the
/// events are what happened, whatever each one believed it was leaving.
#[must_use]
pub fn time_in_status(
    events: &[StatusEvent],
    now: Timestamp,
    cal: &BusinessCalendar,
) -> TimeInStatus {
    let mut past: Vec<&StatusEvent> = events.iter().filter(|e| e.at <= now).collect();
    past.sort_by_key(|e| e.at);
    let mut result = TimeInStatus {
        ignored_future_events: events.len() - past.len(),
        ..TimeInStatus::default()
    };

    for (i, event) in past.iter().enumerate() {
        let next = past.get(i + 1);
        let current = next.is_none();
        let start = event.at;
        let end = next.map_or(now, |next| next.at);

        let index = if let Some(index) = result.totals.iter().position(|t| t.status == event.to) {
            index
        } else {
            result.totals.push(StatusTotal {
                status: event.to,
                calendar: SignedDuration::ZERO,
                business: SignedDuration::ZERO,
                times_entered: 0,
                current: false,
            });
            result.totals.len() - 1
        };
        let total = &mut result.totals[index];
        total.times_entered = total.times_entered.saturating_add(1);
        total.calendar += end.duration_since(start);
        total.business += cal.business_duration(start, end);
        total.current |= current;

        if end > start {
            result.spans.push(StatusSpan {
                status: event.to,
                start,
                end,
                current,
            });
        }
    }
    result
}

/// A compact, human reading of a duration for tables: "2 d 3 h", "3 h 05 min", "12 min",
/// "menos de 1 min". A day is 24 hours, even for business time, so totals in the two columns
/// compare directly. Truncated, not rounded, so that 59 min 59 s never reads as "1 h".
/// Zero-valued trailing units are left out ("2 d", "3 h"); negative durations read as the
/// shortest text.
#[must_use]
pub fn format_duration(d: SignedDuration, lang: Lang) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        return match lang {
            Lang::PtBr => "menos de 1 min",
            Lang::En => "less than 1 min",
        }
        .to_owned();
    }
    let days = secs / 86_400;
    let hours = secs % 86_400 / 3_600;
    let mins = secs % 3_600 / 60;
    match (days, hours, mins) {
        (0, 0, mins) => format!("{mins} min"),
        (0, hours, 0) => format!("{hours} h"),
        (0, hours, mins) => format!("{hours} h {mins:02} min"),
        (days, 0, _) => format!("{days} d"),
        (days, hours, _) => format!("{days} d {hours} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::{AwaitingReply, InProgress, Sent, Solved};
    use jiff::tz::TimeZone;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp in test")
    }

    fn event(from: Option<TicketStatus>, to: TicketStatus, at: &str) -> StatusEvent {
        StatusEvent {
            from,
            to,
            at: ts(at),
        }
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    /// Every hour is a business hour, so business time equals calendar time unless a test
    /// says otherwise.
    fn always_open() -> BusinessCalendar {
        let all_day = vec![(
            jiff::civil::time(0, 0, 0, 0),
            jiff::civil::time(23, 59, 59, 999_999_999),
        )];
        let mut cal = BusinessCalendar::weekdays_9_to_18(TimeZone::UTC);
        cal.weekly = std::array::from_fn(|_| all_day.clone());
        cal
    }

    fn total(result: &TimeInStatus, status: TicketStatus) -> StatusTotal {
        *result
            .totals
            .iter()
            .find(|t| t.status == status)
            .expect("status was entered")
    }

    #[test]
    fn a_status_entered_twice_sums_both_stays() {
        let events = [
            event(None, Sent, "2026-03-10T10:00:00Z"),
            event(Some(Sent), InProgress, "2026-03-10T11:00:00Z"),
            event(Some(InProgress), AwaitingReply, "2026-03-10T13:00:00Z"),
            event(Some(AwaitingReply), InProgress, "2026-03-10T16:00:00Z"),
            event(Some(InProgress), Solved, "2026-03-10T17:30:00Z"),
        ];
        let now = ts("2026-03-10T18:00:00Z");
        let result = time_in_status(&events, now, &always_open());

        let in_progress = total(&result, InProgress);
        assert_eq!(in_progress.times_entered, 2);
        assert_eq!(in_progress.calendar, SignedDuration::from_mins(210));
        assert!(!in_progress.current);
        let order: Vec<TicketStatus> = result.totals.iter().map(|t| t.status).collect();
        assert_eq!(order, [Sent, InProgress, AwaitingReply, Solved]);
        assert_eq!(result.spans.len(), 5);
        assert_eq!(result.ignored_future_events, 0);
        let sum: SignedDuration = result.totals.iter().map(|t| t.calendar).sum();
        assert_eq!(sum, hours(8));
    }

    #[test]
    fn the_current_status_runs_until_now() {
        let events = [
            event(None, Sent, "2026-03-10T10:00:00Z"),
            event(Some(Sent), InProgress, "2026-03-10T11:00:00Z"),
        ];
        let now = ts("2026-03-10T15:00:00Z");
        let result = time_in_status(&events, now, &always_open());

        let last = result.spans.last().copied().expect("two spans");
        assert_eq!(last.status, InProgress);
        assert!(last.current);
        assert_eq!(last.end, now);
        assert!(!result.spans[0].current);
        let in_progress = total(&result, InProgress);
        assert!(in_progress.current);
        assert_eq!(in_progress.calendar, hours(4));
        assert!(!total(&result, Sent).current);
    }

    #[test]
    fn business_time_comes_from_the_calendar() {
        // Friday 17:00 to Monday 10:00 in São Paulo, weekdays 09:00–18:00.
        let cal = BusinessCalendar::default();
        let events = [event(None, Sent, "2026-03-13T20:00:00Z")];
        let now = ts("2026-03-16T13:00:00Z");
        let sent = total(&time_in_status(&events, now, &cal), Sent);
        assert_eq!(sent.calendar, hours(65));
        assert_eq!(sent.business, hours(2));
    }

    #[test]
    fn events_out_of_order_are_sorted_first() {
        let events = [
            event(Some(InProgress), Solved, "2026-03-10T14:00:00Z"),
            event(None, Sent, "2026-03-10T10:00:00Z"),
            event(Some(Sent), InProgress, "2026-03-10T12:00:00Z"),
        ];
        let result = time_in_status(&events, ts("2026-03-10T15:00:00Z"), &always_open());
        let statuses: Vec<TicketStatus> = result.spans.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [Sent, InProgress, Solved]);
        assert_eq!(total(&result, Sent).calendar, hours(2));
        assert_eq!(total(&result, InProgress).calendar, hours(2));
        assert_eq!(total(&result, Solved).calendar, hours(1));
        assert!(result.spans.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn future_events_are_ignored_counted_and_never_make_a_negative_duration() {
        let events = [
            event(None, Sent, "2026-03-10T10:00:00Z"),
            event(Some(Sent), InProgress, "2026-03-10T12:00:00Z"),
            event(Some(InProgress), Solved, "2026-03-10T20:00:00Z"),
        ];
        let now = ts("2026-03-10T13:00:00Z");
        let result = time_in_status(&events, now, &always_open());
        assert_eq!(result.ignored_future_events, 1);
        assert!(result.totals.iter().all(|t| t.status != Solved));
        let in_progress = total(&result, InProgress);
        assert!(in_progress.current);
        assert_eq!(in_progress.calendar, hours(1));
        for t in &result.totals {
            assert!(!t.calendar.is_negative() && !t.business.is_negative());
        }
        for s in &result.spans {
            assert!(s.end > s.start);
        }

        let all_future = time_in_status(&events, ts("2026-03-01T00:00:00Z"), &always_open());
        assert_eq!(all_future.ignored_future_events, 3);
        assert!(all_future.spans.is_empty() && all_future.totals.is_empty());
    }

    #[test]
    fn zero_length_stays_count_as_entered_but_draw_no_span() {
        let events = [
            event(None, Sent, "2026-03-10T10:00:00Z"),
            event(Some(Sent), InProgress, "2026-03-10T10:00:00Z"),
            event(Some(InProgress), AwaitingReply, "2026-03-10T11:00:00Z"),
        ];
        let result = time_in_status(&events, ts("2026-03-10T11:00:00Z"), &always_open());
        // Equal instants keep their given order, so the ticket ends up in_progress, not sent.
        let statuses: Vec<TicketStatus> = result.spans.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [InProgress]);
        let sent = total(&result, Sent);
        assert_eq!(
            (sent.times_entered, sent.calendar),
            (1, SignedDuration::ZERO)
        );
        // The status entered at `now` is current even though it has no span yet.
        let awaiting = total(&result, AwaitingReply);
        assert!(awaiting.current);
        assert_eq!(awaiting.times_entered, 1);
        assert_eq!(awaiting.calendar, SignedDuration::ZERO);
    }

    #[test]
    fn no_events_give_an_empty_result() {
        let result = time_in_status(&[], ts("2026-03-10T11:00:00Z"), &always_open());
        assert_eq!(result, TimeInStatus::default());
    }

    #[test]
    fn durations_read_compactly_in_both_languages() {
        let cases = [
            (SignedDuration::from_hours(51), "2 d 3 h"),
            (SignedDuration::from_hours(48), "2 d"),
            (SignedDuration::from_mins(185), "3 h 05 min"),
            (SignedDuration::from_mins(180), "3 h"),
            (SignedDuration::from_mins(12), "12 min"),
            (SignedDuration::from_secs(60), "1 min"),
            (SignedDuration::from_secs(3_599), "59 min"),
            (SignedDuration::from_secs(49 * 3_600 + 59 * 60), "2 d 1 h"),
        ];
        for (d, text) in cases {
            assert_eq!(format_duration(d, Lang::PtBr), text);
            assert_eq!(format_duration(d, Lang::En), text);
        }
        for d in [
            SignedDuration::ZERO,
            SignedDuration::from_secs(59),
            hours(-3),
        ] {
            assert_eq!(format_duration(d, Lang::PtBr), "menos de 1 min");
            assert_eq!(format_duration(d, Lang::En), "less than 1 min");
        }
    }
}
