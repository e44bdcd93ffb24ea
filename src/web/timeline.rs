//! The ticket's life as an inline SVG chart (one bar per stay in a status, on a time axis),
//! the status colours the HTML badges share with it, and the date formats every page uses.
//! Pure string functions over `domain` values: no I/O, no clock (the caller passes `now`).
//!
//! The SVG goes inline into pages whose CSP forbids inline styles and scripts, so it uses only
//! presentation attributes (`fill`, `stroke`, `font-size`) and class names, loads nothing, and
//! carries its own text alternative (`<title>`, `<desc>`) for screen readers.

use std::fmt::Write as _;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan as _};

use crate::domain::{Lang, StatusSpan, TicketStatus, format_duration};

/// The drawing's coordinate width; it scales to the container (`width="100%"`).
const WIDTH: f64 = 720.0;
/// Left and right ends of the time axis, leaving room for centred tick labels.
const AXIS_LEFT: f64 = 40.0;
const AXIS_RIGHT: f64 = 680.0;
const BAR_TOP: f64 = 10.0;
const BAR_HEIGHT: f64 = 28.0;
const AXIS_Y: f64 = 46.0;
const TICK_LENGTH: f64 = 5.0;
const TICK_LABEL_Y: f64 = 62.0;
const LEGEND_TOP: f64 = 80.0;
const LEGEND_ROW: f64 = 20.0;
const LEGEND_COLUMN: f64 = 320.0;
const SWATCH: f64 = 12.0;
/// Narrower bars would vanish: a stay of a few seconds in a week-long chart still shows.
const MIN_BAR_WIDTH: f64 = 2.0;
/// Tick labels are at most about 90 units wide, so six fit along the axis without touching.
const MAX_TICKS: f64 = 6.0;
/// A tick label this close to an axis end is anchored at its edge instead of centred, so it
/// stays inside the drawing.
const LABEL_HALF_WIDTH: f64 = 46.0;

const TEXT_COLOUR: &str = "#1f2937";
const AXIS_COLOUR: &str = "#6b7280";

/// The colour of a status, in the timeline and on the HTML status badges alike. Each has a
/// contrast of at least 4.5:1 with white, so it can carry white badge text and stands out
/// on a white page; the hues follow the colour-blind-safe Okabe–Ito palette where they can.
/// Colour is never the only cue: labels always go with it.
pub fn status_colour(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Sent => "#0072b2",
        TicketStatus::InProgress => "#00796b",
        TicketStatus::WithTech => "#6a3d9a",
        TicketStatus::AwaitingReply => "#b34e00",
        TicketStatus::Solved => "#2e7d32",
        TicketStatus::AbandonedTriage => "#5f6368",
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_en(dt: DateTime) -> &'static str {
    usize::try_from(dt.month() - 1)
        .ok()
        .and_then(|i| MONTHS_EN.get(i))
        .copied()
        .unwrap_or("")
}

/// 12-hour clock time, "2:30 PM".
fn time_en(dt: DateTime) -> String {
    let hour = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    let meridiem = if dt.hour() < 12 { "AM" } else { "PM" };
    format!("{hour}:{:02} {meridiem}", dt.minute())
}

/// A date and time as people read them in `lang`, on the wall clock of `tz`:
/// pt-BR "24/11/2026 14:30", en "Nov 24, 2026 2:30 PM".
pub fn format_datetime(at: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let dt = tz.to_datetime(at);
    match lang {
        Lang::PtBr => format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            dt.day(),
            dt.month(),
            dt.year(),
            dt.hour(),
            dt.minute()
        ),
        Lang::En => format!(
            "{} {}, {} {}",
            month_en(dt),
            dt.day(),
            dt.year(),
            time_en(dt)
        ),
    }
}

/// The calendar date of `at` on the wall clock of `tz`: pt-BR "24/11/2026", en "Nov 24, 2026".
pub fn format_date(at: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let dt = tz.to_datetime(at);
    match lang {
        Lang::PtBr => format!("{:02}/{:02}/{}", dt.day(), dt.month(), dt.year()),
        Lang::En => format!("{} {}, {}", month_en(dt), dt.day(), dt.year()),
    }
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn chart_title(lang: Lang) -> &'static str {
    match lang {
        Lang::PtBr => "Linha do tempo do ticket",
        Lang::En => "Ticket timeline",
    }
}

/// One span in words: "Enviado: 24/11/2026 10:00 – 24/11/2026 11:30 (1 h 30 min)"; a span
/// still going on ends "agora" / "now".
fn describe_span(span: &StatusSpan, tz: &TimeZone, lang: Lang) -> String {
    let end = if span.current {
        match lang {
            Lang::PtBr => "agora".to_owned(),
            Lang::En => "now".to_owned(),
        }
    } else {
        format_datetime(span.end, tz, lang)
    };
    format!(
        "{}: {} – {} ({})",
        span.status.label(lang),
        format_datetime(span.start, tz, lang),
        end,
        format_duration(span.end.duration_since(span.start), lang)
    )
}

/// The ticket's time in each status as an inline SVG: bars on a time axis from the first
/// span's start to the last span's end (`now` for a status still current), tick labels in
/// `tz`, a legend, and a text alternative listing every span.
pub fn timeline_svg(spans: &[StatusSpan], now: Timestamp, lang: Lang, tz: &TimeZone) -> String {
    let (Some(start), Some(mut end)) = (
        spans.iter().map(|s| s.start).min(),
        spans.iter().map(|s| s.end).max(),
    ) else {
        return empty_svg(lang);
    };
    if spans.iter().any(|s| s.current) {
        end = end.max(now);
    }
    let axis = Axis::new(start, end);

    let status_order: Vec<TicketStatus> = TicketStatus::ALL
        .into_iter()
        .filter(|status| spans.iter().any(|s| s.status == *status))
        .collect();
    let height = status_order
        .chunks(2)
        .fold(LEGEND_TOP, |height, _| height + LEGEND_ROW);

    let mut svg = String::with_capacity(2048 + spans.len() * 256);
    let description: Vec<String> = spans.iter().map(|s| describe_span(s, tz, lang)).collect();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" role=\"img\" \
         lang=\"{lang}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
         font-family=\"sans-serif\" font-size=\"12\">\
         <title>{title}</title><desc>{desc}</desc>",
        lang = lang.code(),
        title = escape(chart_title(lang)),
        desc = escape(&description.join("; ")),
    );

    // Widened bars are drawn last: drawn in time order, the next bar would cover them.
    let mut bars: Vec<(&StatusSpan, &String, Bar)> = spans
        .iter()
        .zip(&description)
        .map(|(span, text)| (span, text, axis.bar(span.start, span.end)))
        .collect();
    bars.sort_by_key(|(_, _, bar)| bar.widened);
    svg.push_str("<g class=\"timeline-bars\">");
    for (span, text, Bar { x, width, .. }) in bars {
        let _ = write!(
            svg,
            "<rect class=\"span status-{key}{current}\" x=\"{x:.1}\" y=\"{BAR_TOP}\" \
             width=\"{width:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{fill}\">\
             <title>{text}</title></rect>",
            key = span.status.key(),
            current = if span.current { " current" } else { "" },
            fill = status_colour(span.status),
            text = escape(text),
        );
    }
    svg.push_str("</g>");

    let _ = write!(
        svg,
        "<g class=\"timeline-axis\"><line x1=\"{AXIS_LEFT}\" y1=\"{AXIS_Y}\" \
         x2=\"{AXIS_RIGHT}\" y2=\"{AXIS_Y}\" stroke=\"{AXIS_COLOUR}\"/>"
    );
    for tick in ticks(start, end, tz) {
        let x = axis.x(tick.at);
        let anchor = if x - AXIS_LEFT < LABEL_HALF_WIDTH {
            "start"
        } else if AXIS_RIGHT - x < LABEL_HALF_WIDTH {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{AXIS_Y}\" x2=\"{x:.1}\" y2=\"{y2}\" \
             stroke=\"{AXIS_COLOUR}\"/><text x=\"{x:.1}\" y=\"{TICK_LABEL_Y}\" \
             text-anchor=\"{anchor}\" font-size=\"11\" fill=\"{TEXT_COLOUR}\">{label}</text>",
            y2 = AXIS_Y + TICK_LENGTH,
            label = escape(&tick.label(tz, lang)),
        );
    }
    svg.push_str("</g>");

    svg.push_str("<g class=\"timeline-legend\">");
    let mut row_top = LEGEND_TOP;
    for pair in status_order.chunks(2) {
        let mut left = AXIS_LEFT;
        for status in pair {
            let _ = write!(
                svg,
                "<rect class=\"legend-swatch\" x=\"{left}\" y=\"{row_top}\" width=\"{SWATCH}\" \
                 height=\"{SWATCH}\" fill=\"{fill}\"/><text x=\"{text_x}\" y=\"{text_y}\" \
                 fill=\"{TEXT_COLOUR}\">{label}</text>",
                fill = status_colour(*status),
                text_x = left + SWATCH + 6.0,
                text_y = row_top + SWATCH - 2.0,
                label = escape(status.label(lang)),
            );
            left += LEGEND_COLUMN;
        }
        row_top += LEGEND_ROW;
    }
    svg.push_str("</g></svg>");
    svg
}

fn empty_svg(lang: Lang) -> String {
    let text = match lang {
        Lang::PtBr => "Sem histórico",
        Lang::En => "No history",
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline timeline-empty\" \
         role=\"img\" lang=\"{code}\" viewBox=\"0 0 {WIDTH} 40\" width=\"100%\" \
         font-family=\"sans-serif\" font-size=\"12\"><title>{title}</title><desc>{text}</desc>\
         <text x=\"{mid}\" y=\"24\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\">{text}</text>\
         </svg>",
        code = lang.code(),
        title = escape(chart_title(lang)),
        text = escape(text),
        mid = WIDTH / 2.0,
    )
}

/// Maps instants to x coordinates along the axis.
struct Axis {
    start: Timestamp,
    /// Never zero, so a chart of one instant still divides.
    seconds: f64,
}

impl Axis {
    fn new(start: Timestamp, end: Timestamp) -> Self {
        let seconds = end.duration_since(start).as_secs_f64();
        Self {
            start,
            seconds: if seconds > 0.0 { seconds } else { 1.0 },
        }
    }

    fn x(&self, at: Timestamp) -> f64 {
        let fraction = (at.duration_since(self.start).as_secs_f64() / self.seconds).clamp(0.0, 1.0);
        AXIS_LEFT + fraction * (AXIS_RIGHT - AXIS_LEFT)
    }

    /// The bar from `start` to `end`, widened to `MIN_BAR_WIDTH` and kept on the axis.
    fn bar(&self, start: Timestamp, end: Timestamp) -> Bar {
        let x = self.x(start);
        let width = self.x(end) - x;
        if width >= MIN_BAR_WIDTH {
            Bar {
                x,
                width,
                widened: false,
            }
        } else {
            Bar {
                x: x.min(AXIS_RIGHT - MIN_BAR_WIDTH),
                width: MIN_BAR_WIDTH,
                widened: true,
            }
        }
    }
}

/// Where a span's bar goes.
struct Bar {
    x: f64,
    width: f64,
    /// Too short to see at its true length, so drawn `MIN_BAR_WIDTH` wide.
    widened: bool,
}

/// Distance between ticks, from a quarter hour to five years; the first that keeps the count
/// at `MAX_TICKS` or fewer is used. There is no 12-hour step: from a day and a half on, plain
/// dates read better than half of the labels saying "00:00". Days and months step on the local calendar, so ticks sit on
/// local midnights and month starts even across daylight-saving changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Seconds(i64),
    Days(i32),
    Months(i32),
}

const STEPS: [Step; 16] = [
    Step::Seconds(15 * 60),
    Step::Seconds(30 * 60),
    Step::Seconds(3_600),
    Step::Seconds(2 * 3_600),
    Step::Seconds(3 * 3_600),
    Step::Seconds(6 * 3_600),
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(60),
];

impl Step {
    fn approx_seconds(self) -> f64 {
        match self {
            Step::Seconds(s) => SignedDuration::from_secs(s).as_secs_f64(),
            Step::Days(d) => f64::from(d) * 86_400.0,
            Step::Months(m) => f64::from(m) * 2_629_746.0,
        }
    }

    fn for_range(start: Timestamp, end: Timestamp) -> Step {
        let seconds = end.duration_since(start).as_secs_f64();
        STEPS
            .into_iter()
            .find(|step| seconds / step.approx_seconds() <= MAX_TICKS)
            .unwrap_or(Step::Months(60))
    }
}

struct Tick {
    at: Timestamp,
    /// Under a day apart, ticks show the time as well as the date.
    with_time: bool,
}

impl Tick {
    /// pt-BR "24/11" or "24/11 14:30", en "11/24" or "11/24 2:30 PM".
    fn label(&self, tz: &TimeZone, lang: Lang) -> String {
        let dt = tz.to_datetime(self.at);
        let date = match lang {
            Lang::PtBr => format!("{:02}/{:02}", dt.day(), dt.month()),
            Lang::En => format!("{:02}/{:02}", dt.month(), dt.day()),
        };
        if !self.with_time {
            return date;
        }
        match lang {
            Lang::PtBr => format!("{date} {:02}:{:02}", dt.hour(), dt.minute()),
            Lang::En => format!("{date} {}", time_en(dt)),
        }
    }
}

/// Tick marks within `[start, end]`, aligned to round local times; when none falls inside
/// (a chart of a few minutes), a single tick at `start`.
fn ticks(start: Timestamp, end: Timestamp, tz: &TimeZone) -> Vec<Tick> {
    // Bounds the loop whatever the step: a few more than MAX_TICKS can occur near the limits.
    const LIMIT: usize = 24;
    let step = Step::for_range(start, end);
    let with_time = matches!(step, Step::Seconds(_));
    let local_start = tz.to_datetime(start);
    let mut candidate = first_candidate(local_start, step);
    let mut out = Vec::new();
    for _ in 0..LIMIT * 2 {
        let Some(local) = candidate else { break };
        let Ok(at) = tz.to_timestamp(local) else {
            break;
        };
        if at > end || out.len() >= LIMIT {
            break;
        }
        if at >= start && out.last().is_none_or(|t: &Tick| t.at < at) {
            out.push(Tick { at, with_time });
        }
        candidate = next_candidate(local, step);
    }
    if out.is_empty() {
        out.push(Tick {
            at: start,
            with_time: true,
        });
    }
    out
}

/// The first round local time at or after `local`: the next multiple of the step since
/// midnight, the next midnight, or the next first of a month.
fn first_candidate(local: DateTime, step: Step) -> Option<DateTime> {
    let midnight = local.date().to_datetime(Time::midnight());
    match step {
        Step::Seconds(seconds) => {
            let since_midnight = local.duration_since(midnight);
            let whole = since_midnight.as_secs();
            let elapsed = if since_midnight.subsec_nanos() > 0 {
                whole + 1
            } else {
                whole
            };
            let first = (elapsed + seconds - 1) / seconds * seconds;
            midnight.checked_add(SignedDuration::from_secs(first)).ok()
        }
        Step::Days(_) => {
            if local == midnight {
                Some(midnight)
            } else {
                local
                    .date()
                    .tomorrow()
                    .ok()
                    .map(|d| d.to_datetime(Time::midnight()))
            }
        }
        Step::Months(_) => {
            let first_of_month: Date = local.date().first_of_month();
            let start = first_of_month.to_datetime(Time::midnight());
            if start == local {
                Some(start)
            } else {
                start.checked_add(1.month()).ok()
            }
        }
    }
}

fn next_candidate(local: DateTime, step: Step) -> Option<DateTime> {
    match step {
        Step::Seconds(seconds) => local.checked_add(SignedDuration::from_secs(seconds)).ok(),
        Step::Days(days) => local.checked_add(days.days()).ok(),
        Step::Months(months) => local.checked_add(months.months()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp in test")
    }

    fn sao_paulo() -> TimeZone {
        TimeZone::get("America/Sao_Paulo").expect("bundled zone")
    }

    fn span(status: TicketStatus, start: &str, end: &str, current: bool) -> StatusSpan {
        StatusSpan {
            status,
            start: ts(start),
            end: ts(end),
            current,
        }
    }

    /// A ticket's day: sent, worked on, waiting for the customer, solved (still current).
    fn sample() -> Vec<StatusSpan> {
        vec![
            span(
                TicketStatus::Sent,
                "2026-11-24T13:00:00Z",
                "2026-11-24T14:30:00Z",
                false,
            ),
            span(
                TicketStatus::InProgress,
                "2026-11-24T14:30:00Z",
                "2026-11-25T12:00:00Z",
                false,
            ),
            span(
                TicketStatus::AwaitingReply,
                "2026-11-25T12:00:00Z",
                "2026-11-26T18:00:00Z",
                false,
            ),
            span(
                TicketStatus::Solved,
                "2026-11-26T18:00:00Z",
                "2026-11-27T13:00:00Z",
                true,
            ),
        ]
    }

    /// The value of `name="…"` in each element starting with `prefix`.
    fn attribute_values(svg: &str, prefix: &str, name: &str) -> Vec<String> {
        svg.match_indices(prefix)
            .map(|(i, _)| {
                let element = &svg[i..];
                let element = &element[..element.find('>').expect("element closes")];
                let key = format!(" {name}=\"");
                let from = element.find(&key).expect("attribute present") + key.len();
                let rest = &element[from..];
                rest[..rest.find('"').expect("attribute closes")].to_owned()
            })
            .collect()
    }

    #[test]
    fn pt_br_datetime_and_date_use_day_first_and_24_hours() {
        let tz = sao_paulo();
        let at = ts("2026-11-24T17:30:00Z");
        assert_eq!(format_datetime(at, &tz, Lang::PtBr), "24/11/2026 14:30");
        assert_eq!(format_date(at, &tz, Lang::PtBr), "24/11/2026");
        let morning = ts("2026-03-05T11:05:00Z");
        assert_eq!(
            format_datetime(morning, &tz, Lang::PtBr),
            "05/03/2026 08:05"
        );
    }

    #[test]
    fn english_datetime_and_date_use_month_names_and_12_hours() {
        let tz = sao_paulo();
        assert_eq!(
            format_datetime(ts("2026-11-24T17:30:00Z"), &tz, Lang::En),
            "Nov 24, 2026 2:30 PM"
        );
        assert_eq!(
            format_date(ts("2026-11-24T17:30:00Z"), &tz, Lang::En),
            "Nov 24, 2026"
        );
        assert_eq!(
            format_datetime(ts("2026-01-02T03:07:00Z"), &tz, Lang::En),
            "Jan 2, 2026 12:07 AM"
        );
        assert_eq!(
            format_datetime(ts("2026-07-01T15:00:00Z"), &tz, Lang::En),
            "Jul 1, 2026 12:00 PM"
        );
    }

    #[test]
    fn shortly_after_midnight_utc_is_still_the_previous_day_in_sao_paulo() {
        let tz = sao_paulo();
        let at = ts("2026-11-25T02:30:00Z");
        assert_eq!(format_date(at, &tz, Lang::PtBr), "24/11/2026");
        assert_eq!(format_datetime(at, &tz, Lang::PtBr), "24/11/2026 23:30");
        assert_eq!(format_date(at, &tz, Lang::En), "Nov 24, 2026");
        assert_eq!(format_datetime(at, &tz, Lang::En), "Nov 24, 2026 11:30 PM");
        assert_eq!(format_date(at, &TimeZone::UTC, Lang::PtBr), "25/11/2026");
    }

    #[test]
    fn one_bar_per_span_in_its_status_colour() {
        let spans = sample();
        let svg = timeline_svg(&spans, ts("2026-11-27T13:00:00Z"), Lang::PtBr, &sao_paulo());
        assert_eq!(svg.matches("<rect class=\"span ").count(), spans.len());
        let fills = attribute_values(&svg, "<rect class=\"span ", "fill");
        let expected: Vec<&str> = spans.iter().map(|s| status_colour(s.status)).collect();
        assert_eq!(fills, expected);
        assert!(svg.contains("<rect class=\"span status-solved current\""));
        assert_eq!(svg.matches("<rect class=\"legend-swatch\"").count(), 4);
    }

    #[test]
    fn bars_are_placed_by_time_along_the_whole_axis() {
        let spans = sample();
        let svg = timeline_svg(&spans, ts("2026-11-27T13:00:00Z"), Lang::PtBr, &sao_paulo());
        let xs: Vec<f64> = attribute_values(&svg, "<rect class=\"span ", "x")
            .iter()
            .map(|x| x.parse().expect("number"))
            .collect();
        let widths: Vec<f64> = attribute_values(&svg, "<rect class=\"span ", "width")
            .iter()
            .map(|w| w.parse().expect("number"))
            .collect();
        assert!((xs[0] - AXIS_LEFT).abs() < 0.1);
        assert!((xs[3] + widths[3] - AXIS_RIGHT).abs() < 0.2);
        for i in 1..xs.len() {
            assert!(
                (xs[i - 1] + widths[i - 1] - xs[i]).abs() < 0.2,
                "bars {i} touch"
            );
        }
        // 1 h 30 of 72 h.
        assert!((widths[0] - 640.0 * 1.5 / 72.0).abs() < 0.1);
    }

    #[test]
    fn title_and_desc_describe_every_span() {
        let spans = sample();
        let tz = sao_paulo();
        let svg = timeline_svg(&spans, ts("2026-11-27T13:00:00Z"), Lang::PtBr, &tz);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("width=\"100%\""));
        assert!(svg.contains("viewBox=\"0 0 720 "));
        assert!(svg.contains("<title>Linha do tempo do ticket</title>"));
        assert!(svg.contains(
            "<desc>Enviado: 24/11/2026 10:00 – 24/11/2026 11:30 (1 h 30 min); \
             Em Tratativa: 24/11/2026 11:30 – 25/11/2026 09:00 (21 h 30 min); \
             Aguardando Sua Resposta: 25/11/2026 09:00 – 26/11/2026 15:00 (1 d 6 h); \
             Solucionado: 26/11/2026 15:00 – agora (19 h)</desc>"
        ));
        let english = timeline_svg(&spans, ts("2026-11-27T13:00:00Z"), Lang::En, &tz);
        assert!(english.contains("<title>Ticket timeline</title>"));
        assert!(
            english.contains(
                "<desc>Sent: Nov 24, 2026 10:00 AM – Nov 24, 2026 11:30 AM (1 h 30 min); "
            )
        );
        assert!(english.contains("Solved: Nov 26, 2026 3:00 PM – now (19 h)</desc>"));
        assert!(english.contains(">Awaiting your reply</text>"));
    }

    #[test]
    fn svg_has_no_scripts_styles_or_external_references() {
        for lang in Lang::ALL {
            let svg = timeline_svg(&sample(), ts("2026-11-27T13:00:00Z"), lang, &sao_paulo());
            for forbidden in [
                "<script",
                "style=",
                "<style",
                "href",
                "<image",
                "url(",
                "<foreignObject",
            ] {
                assert!(!svg.contains(forbidden), "{forbidden} in {svg}");
            }
        }
    }

    #[test]
    fn tick_labels_are_local_dates_day_first_in_portuguese_month_first_in_english() {
        let tz = sao_paulo();
        let now = ts("2026-11-27T13:00:00Z");
        let pt = timeline_svg(&sample(), now, Lang::PtBr, &tz);
        let en = timeline_svg(&sample(), now, Lang::En, &tz);
        // Three days: one tick per local midnight.
        for label in ["25/11", "26/11", "27/11"] {
            assert!(pt.contains(&format!(">{label}</text>")), "{label} in {pt}");
        }
        for label in ["11/25", "11/26", "11/27"] {
            assert!(en.contains(&format!(">{label}</text>")), "{label} in {en}");
        }
        let midnight = Axis::new(ts("2026-11-24T13:00:00Z"), now).x(ts("2026-11-25T03:00:00Z"));
        assert!(pt.contains(&format!("<text x=\"{midnight:.1}\"")));
    }

    #[test]
    fn short_timelines_label_ticks_with_times() {
        let tz = sao_paulo();
        let spans = [span(
            TicketStatus::Sent,
            "2026-11-24T13:10:00Z",
            "2026-11-24T15:50:00Z",
            true,
        )];
        let svg = timeline_svg(&spans, ts("2026-11-24T15:50:00Z"), Lang::PtBr, &tz);
        for label in ["24/11 10:30", "24/11 11:00", "24/11 12:30"] {
            assert!(
                svg.contains(&format!(">{label}</text>")),
                "{label} in {svg}"
            );
        }
        let svg = timeline_svg(&spans, ts("2026-11-24T15:50:00Z"), Lang::En, &tz);
        assert!(svg.contains(">11/24 11:00 AM</text>"), "{svg}");
        let tiny = [span(
            TicketStatus::Sent,
            "2026-11-24T13:01:00Z",
            "2026-11-24T13:05:00Z",
            true,
        )];
        let svg = timeline_svg(&tiny, ts("2026-11-24T13:05:00Z"), Lang::PtBr, &tz);
        assert!(svg.contains(
            "text-anchor=\"start\" font-size=\"11\" fill=\"#1f2937\">24/11 10:01</text>"
        ));
    }

    #[test]
    fn long_timelines_tick_on_month_starts() {
        let tz = sao_paulo();
        let spans = [span(
            TicketStatus::WithTech,
            "2026-01-10T12:00:00Z",
            "2026-12-20T12:00:00Z",
            false,
        )];
        let svg = timeline_svg(&spans, ts("2026-12-20T12:00:00Z"), Lang::PtBr, &tz);
        let labels = svg.matches("font-size=\"11\"").count();
        assert!((2..=7).contains(&labels), "{labels} ticks in {svg}");
        for label in ["01/02", "01/04", "01/12"] {
            assert!(
                svg.contains(&format!(">{label}</text>")),
                "{label} in {svg}"
            );
        }
    }

    #[test]
    fn very_short_spans_still_get_a_visible_bar() {
        let spans = [
            span(
                TicketStatus::Sent,
                "2026-11-24T13:00:00Z",
                "2026-11-24T13:00:01Z",
                false,
            ),
            span(
                TicketStatus::InProgress,
                "2026-11-24T13:00:01Z",
                "2026-12-24T13:00:00Z",
                false,
            ),
            span(
                TicketStatus::Solved,
                "2026-12-24T13:00:00Z",
                "2026-12-24T13:00:01Z",
                true,
            ),
        ];
        let svg = timeline_svg(&spans, ts("2026-12-24T13:00:01Z"), Lang::PtBr, &sao_paulo());
        let widths = attribute_values(&svg, "<rect class=\"span ", "width");
        assert_eq!(widths.len(), 3);
        let sent = "<rect class=\"span status-sent\"";
        let solved = "<rect class=\"span status-solved current\"";
        assert_eq!(attribute_values(&svg, sent, "width"), ["2.0"]);
        assert_eq!(attribute_values(&svg, solved, "width"), ["2.0"]);
        assert_eq!(
            attribute_values(&svg, solved, "x"),
            ["678.0"],
            "the last bar stays on the axis"
        );
        let in_progress = svg.find("status-in_progress").expect("long bar drawn");
        let first_tiny = svg.find(sent).expect("tiny bar drawn");
        assert!(in_progress < first_tiny, "tiny bars are drawn on top");
    }

    #[test]
    fn current_span_runs_to_now_when_now_is_later() {
        let spans = [span(
            TicketStatus::Sent,
            "2026-11-24T13:00:00Z",
            "2026-11-24T14:00:00Z",
            true,
        )];
        let svg = timeline_svg(&spans, ts("2026-11-24T15:00:00Z"), Lang::PtBr, &sao_paulo());
        assert_eq!(
            attribute_values(&svg, "<rect class=\"span ", "width"),
            ["320.0"]
        );
    }

    #[test]
    fn no_spans_draw_a_small_no_history_chart() {
        let now = ts("2026-11-24T13:00:00Z");
        let pt = timeline_svg(&[], now, Lang::PtBr, &sao_paulo());
        assert!(pt.contains("role=\"img\""));
        assert!(pt.contains(">Sem histórico</text>"));
        assert!(pt.contains("<desc>Sem histórico</desc>"));
        assert!(!pt.contains("<rect"));
        let en = timeline_svg(&[], now, Lang::En, &sao_paulo());
        assert!(en.contains(">No history</text>"));
    }

    #[test]
    fn escape_covers_the_xml_specials() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn status_colours_are_distinct_and_readable_with_white_text() {
        fn luminance(hex: &str) -> f64 {
            let channel = |i: usize| {
                let value = u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour");
                let c = f64::from(value) / 255.0;
                if c <= 0.040_45 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
        }
        let mut seen = Vec::new();
        for status in TicketStatus::ALL {
            let colour = status_colour(status);
            assert_eq!(colour.len(), 7);
            let contrast = 1.05 / (luminance(colour) + 0.05);
            assert!(
                contrast >= 4.5,
                "{status}: {colour} has contrast {contrast:.2}"
            );
            assert!(!seen.contains(&colour), "{colour} used twice");
            seen.push(colour);
        }
    }
}
