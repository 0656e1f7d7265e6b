//! Charts drawn by the server as SVG: no script, readable by screen readers through a title, a
//! description and a table of the same numbers.

use maud::{Markup, html};

// A narrow drawing with large text: at a phone's 390 px the text is still about 14 px.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 64.0;
const FONT: &str = "17";
const TEXT: &str = "#212b32";

/// How each series is told apart without colour: its line's dash pattern and its marker.
const STYLES: [(&str, Marker); 3] = [
    ("", Marker::Circle),
    ("10 5", Marker::Square),
    ("3 4", Marker::Triangle),
];

#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
}

/// Half a marker's width and height: every marker fills the same square, in the chart and in
/// its legend.
const MARK: f64 = 4.5;

fn marker(kind: Marker, x: f64, y: f64, colour: &str) -> Markup {
    match kind {
        Marker::Circle => html! { circle cx=(x) cy=(y) r=(MARK) fill=(colour) stroke="#ffffff" stroke-width="1" {} },
        Marker::Square => html! {
            rect x=(x - MARK) y=(y - MARK) width=(2.0 * MARK) height=(2.0 * MARK) fill=(colour) stroke="#ffffff" stroke-width="1" {}
        },
        Marker::Triangle => html! {
            polygon points=(format!("{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", x, y - MARK, x - MARK, y + MARK, x + MARK, y + MARK)) fill=(colour) stroke="#ffffff" stroke-width="1" {}
        },
    }
}

/// Each series' line width: the first widest, so a line drawn later over the same values leaves
/// the earlier one showing on both sides of it.
fn line_width(series: usize) -> f64 {
    (6.0 - 2.0 * series as f64).max(2.0)
}

/// Which points have a date below them: at most five, evenly spread, always the last; one too
/// close to the last gives way to it.
fn labelled(points: usize) -> Vec<usize> {
    if points == 0 {
        return Vec::new();
    }
    let every = points.div_ceil(5).max(1);
    let last = points - 1;
    let mut at: Vec<usize> = (0..points)
        .step_by(every)
        .filter(|i| last - i >= every || *i == last)
        .collect();
    if at.last() != Some(&last) {
        at.push(last);
    }
    at
}

/// A date label's anchor: the first starts at its point and the last ends at it, so neither is
/// cut by the drawing's edge.
fn anchor(i: usize, points: usize) -> &'static str {
    if points > 1 && i + 1 == points {
        "end"
    } else if points > 1 && i == 0 {
        "start"
    } else {
        "middle"
    }
}

/// The three series of the weekly trend, each with its colour (NHS palette) and name, in the
/// order of a trend [`Point`]'s values.
pub const SERIES: [(&str, &str); 3] = [
    ("#d5281b", "Practices below requirement"),
    ("#005eb8", "Open cases"),
    ("#007f3b", "Compliant cases"),
];

/// One point of a line chart: its date and a value for each series, in the chart's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub date: chrono::NaiveDate,
    pub values: Vec<f64>,
}

impl From<&crate::operations::icb::TrendPoint> for Point {
    fn from(point: &crate::operations::icb::TrendPoint) -> Self {
        Point {
            date: point.date.0,
            values: vec![
                f64::from(point.non_compliant_practices),
                f64::from(point.open_cases),
                f64::from(point.compliant_cases),
            ],
        }
    }
}

fn y_scale(max: f64) -> impl Fn(f64) -> f64 {
    move |value| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value / max.max(1.0))
}

/// A line chart of some series of points, with the same numbers in a table below it.
pub struct Lines<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub date_heading: &'a str,
    /// What the vertical axis counts.
    pub value_heading: &'a str,
    /// (colour, name) of each of a point's values; a series' swatch is styled by its position
    /// (`cl-swatch--N`).
    pub series: &'a [(&'a str, &'a str)],
}

/// Week-by-week lines: practices below requirement, open and compliant cases.
pub fn trend(points: &[Point]) -> Markup {
    lines(
        &Lines {
            id: "trend",
            title: "Practices below requirement, open and compliant cases, week by week",
            date_heading: "Week ending",
            value_heading: "Practices or cases",
            series: &SERIES,
        },
        points,
    )
}

/// A practice's dashboard weeks: the slots the 111 provider could see against the requirement.
pub fn practice_weeks(points: &[Point]) -> Markup {
    lines(
        &Lines {
            id: "practice-weeks",
            title: "Slots a day visible to 111 against the requirement, week by week",
            date_heading: "Report date",
            value_heading: "Slots a day",
            series: &[("#d5281b", "Required a day"), ("#005eb8", "Visible to 111")],
        },
        points,
    )
}

pub fn lines(chart: &Lines<'_>, points: &[Point]) -> Markup {
    let series = chart.series;
    let value = |point: &Point, index: usize| point.values.get(index).copied().unwrap_or(0.0);
    let max = points
        .iter()
        .flat_map(|p| p.values.iter().copied())
        .fold(0.0f64, f64::max);
    let y = y_scale(max);
    let step = if points.len() > 1 {
        (WIDTH - LEFT - RIGHT) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| LEFT + step * i as f64;
    let ticks: Vec<f64> = (0..=4).map(|i| (max / 4.0 * f64::from(i)).round()).collect();
    let every = points.len().div_ceil(5).max(1);
    let dated = labelled(points.len());
    html! {
        figure class="cl-chart" id={(chart.id) "-chart"} {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-labelledby={(chart.id) "-title " (chart.id) "-desc"} {
                title id={(chart.id) "-title"} { (chart.title) }
                desc id={(chart.id) "-desc"} { "The same numbers are in the table below the chart." }
                @for tick in &ticks {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(*tick)) y2=(y(*tick)) stroke="#d8dde0" {}
                    text x=(LEFT - 8.0) y=(y(*tick) + 6.0) text-anchor="end" font-size=(FONT) fill=(TEXT) { (tick) }
                }
                text class="cl-axis-title" transform={"translate(16," ((TOP + HEIGHT - BOTTOM) / 2.0) ") rotate(-90)"} text-anchor="middle" font-size=(FONT) fill=(TEXT) { (chart.value_heading) }
                text class="cl-axis-title" x=((LEFT + WIDTH - RIGHT) / 2.0) y=(HEIGHT - 6.0) text-anchor="middle" font-size=(FONT) fill=(TEXT) { (chart.date_heading) }
                @for i in &dated {
                    text class="cl-date" x=(x(*i)) y=(HEIGHT - BOTTOM + 24.0) text-anchor=(anchor(*i, points.len())) font-size=(FONT) fill=(TEXT) { (short_date(points[*i].date)) }
                }
                // Every line first, widest first, then every marker on top: no line hides another.
                @for (n, (colour, _)) in series.iter().enumerate() {
                    @let (dash, _) = STYLES[n % STYLES.len()];
                    @let path = points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(value(p, n)))).collect::<Vec<_>>().join(" ");
                    polyline points=(path) fill="none" stroke=(colour) stroke-width=(line_width(n)) stroke-linejoin="round" stroke-dasharray=[(!dash.is_empty()).then_some(dash)] {}
                }
                @for (n, (colour, _)) in series.iter().enumerate() {
                    @let (_, kind) = STYLES[n % STYLES.len()];
                    @for (i, p) in points.iter().enumerate() {
                        @if points.len() <= 30 || i % every == 0 || i + 1 == points.len() {
                            (marker(kind, x(i), y(value(p, n)), colour))
                        }
                    }
                }
            }
            figcaption class="cl-legend" {
                @for (n, (colour, name)) in series.iter().enumerate() {
                    @let (dash, kind) = STYLES[n % STYLES.len()];
                    span class="cl-legend__item" {
                        svg class="cl-legend__key" viewBox="0 0 36 14" width="36" height="14" aria-hidden="true" focusable="false" {
                            line x1="0" x2="36" y1="7" y2="7" stroke=(colour) stroke-width=(line_width(n).min(4.0)) stroke-dasharray=[(!dash.is_empty()).then_some(dash)] {}
                            (marker(kind, 18.0, 7.0, colour))
                        }
                        " " (name)
                    }
                }
            }
        }
        details class="nhsuk-details" {
            summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { "The numbers in the chart" } }
            div class="nhsuk-details__text" {
                div class="cl-table-scroll" role="region" aria-label=(chart.title) tabindex="0" {
                    table class="nhsuk-table" id={(chart.id) "-table"} {
                        thead class="nhsuk-table__head" { tr { th scope="col" { (chart.date_heading) } @for (_, name) in series { th scope="col" class="nhsuk-table__header--numeric" { (name) } } } }
                        tbody class="nhsuk-table__body" {
                            @for point in points {
                                tr class="nhsuk-table__row" {
                                    td class="nhsuk-table__cell" { (point.date) }
                                    @for n in 0..series.len() { td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (value(point, n)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn short_date(date: chrono::NaiveDate) -> String {
    date.format("%-d %b").to_string()
}

/// How many cases became compliant within each week of being opened: `counts[w]` in week `w + 1`.
pub fn histogram(counts: &[i64]) -> Markup {
    if counts.iter().all(|count| *count == 0) {
        return html! { p { "No case has become compliant yet." } };
    }
    let weeks = counts.len();
    let max = counts.iter().copied().max().unwrap_or(1) as f64;
    let y = y_scale(max);
    let band = (WIDTH - LEFT - RIGHT) / weeks as f64;
    html! {
        figure class="cl-chart" id="compliance-histogram" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-labelledby="hist-title hist-desc" {
                title id="hist-title" { "Cases by weeks from opening to compliance" }
                desc id="hist-desc" {
                    @for (week, count) in counts.iter().enumerate() {
                        (count) " in week " (week + 1) ". "
                    }
                }
                // The vertical axis: its line, gridlines and counts (whole numbers), as the trend's.
                @for tick in histogram_ticks(max) {
                    line class="cl-grid" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(tick)) y2=(y(tick)) stroke="#d8dde0" {}
                    text class="cl-tick" x=(LEFT - 8.0) y=(y(tick) + 6.0) text-anchor="end" font-size=(FONT) fill=(TEXT) { (tick) }
                }
                line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(y(0.0)) stroke="#4c6272" {}
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(0.0)) y2=(y(0.0)) stroke="#4c6272" {}
                text class="cl-axis-title" transform={"translate(16," ((TOP + HEIGHT - BOTTOM) / 2.0) ") rotate(-90)"} text-anchor="middle" font-size=(FONT) fill=(TEXT) { "Cases" }
                text class="cl-axis-title" x=((LEFT + WIDTH - RIGHT) / 2.0) y=(HEIGHT - 6.0) text-anchor="middle" font-size=(FONT) fill=(TEXT) { "Weeks from opening to compliance" }
                @for (week, count) in counts.iter().enumerate() {
                    @let top = y(*count as f64);
                    rect x=(LEFT + band * week as f64 + 4.0) y=(top) width=((band - 8.0).max(1.0)) height=(y(0.0) - top) fill="#005eb8" {}
                    text x=(LEFT + band * (week as f64 + 0.5)) y=(top - 6.0) text-anchor="middle" font-size=(FONT) fill=(TEXT) { (count) }
                    @if weeks <= 8 || week % weeks.div_ceil(8) == 0 {
                        text x=(LEFT + band * (week as f64 + 0.5)) y=(HEIGHT - BOTTOM + 24.0) text-anchor="middle" font-size=(FONT) fill=(TEXT) { (week + 1) }
                    }
                }
            }
        }
    }
}

/// The histogram's counts on its vertical axis: 0, the top, and whole steps between (at most five).
fn histogram_ticks(max: f64) -> Vec<f64> {
    let step = (max / 4.0).ceil().max(1.0);
    let mut ticks = Vec::new();
    let mut tick = 0.0;
    while tick <= max {
        ticks.push(tick);
        tick += step;
    }
    ticks
}

/// The weeks worth showing by default: from the first to one past the last that differs from the
/// week before (a long flat tail to today says nothing).
pub fn with_activity(points: &[Point]) -> usize {
    let changed = |a: &Point, b: &Point| a.values != b.values;
    let last = points
        .windows(2)
        .rposition(|pair| changed(&pair[0], &pair[1]))
        .map_or(0, |i| i + 1);
    (last + 2).min(points.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_range_ends_a_week_after_the_last_change() {
        let week = |open: i32| Point {
            date: chrono::NaiveDate::MIN,
            values: vec![f64::from(open), 0.0],
        };
        let points = vec![week(1), week(3), week(2), week(2), week(2), week(2)];
        assert_eq!(with_activity(&points), 4);
        assert_eq!(with_activity(&[week(1)]), 1);
        assert_eq!(with_activity(&[]), 0);
    }

    #[test]
    fn the_last_date_is_labelled_whole_and_the_first_from_its_start() {
        assert_eq!(labelled(0), Vec::<usize>::new());
        assert_eq!(labelled(1), vec![0]);
        assert_eq!(labelled(5), vec![0, 1, 2, 3, 4]);
        // 12 weeks: every third, and the last; the ninth is too close to it and gives way.
        assert_eq!(labelled(12), vec![0, 3, 6, 11]);
        for points in 1..60 {
            let at = labelled(points);
            assert_eq!(at.last(), Some(&(points - 1)), "{points}");
            assert!(at.len() <= 6, "{points}: {at:?}");
        }
        assert_eq!(anchor(11, 12), "end");
        assert_eq!(anchor(0, 12), "start");
        assert_eq!(anchor(6, 12), "middle");
    }

    #[test]
    fn markers_are_one_size_lines_do_not_hide_each_other_and_the_histogram_has_an_axis() {
        let size = |markup: String| {
            if markup.contains("<circle") {
                2.0 * MARK
            } else if markup.contains("<rect") {
                let width = markup
                    .split("width=\"")
                    .nth(1)
                    .unwrap_or("0")
                    .split('"')
                    .next()
                    .unwrap_or("0");
                width.parse::<f64>().unwrap_or(0.0)
            } else {
                let xs: Vec<f64> = markup
                    .split("points=\"")
                    .nth(1)
                    .unwrap_or("")
                    .split('"')
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .filter_map(|p| p.split(',').next()?.parse().ok())
                    .collect();
                xs.iter().copied().fold(f64::MIN, f64::max) - xs.iter().copied().fold(f64::MAX, f64::min)
            }
        };
        let sizes: Vec<f64> = [Marker::Circle, Marker::Square, Marker::Triangle]
            .into_iter()
            .map(|kind| size(marker(kind, 10.0, 10.0, "#000").into_string()))
            .collect();
        assert!(sizes.iter().all(|s| (*s - 2.0 * MARK).abs() < 0.01), "{sizes:?}");
        assert!(line_width(0) > line_width(1) && line_width(1) > line_width(2));
        let chart = histogram(&[0, 3, 7, 2]).into_string();
        for tick in ["\">0</text>", "\">2</text>", "\">4</text>", "\">6</text>"] {
            assert!(
                chart.contains("class=\"cl-tick\"") && chart.contains(tick),
                "{tick}: {chart}"
            );
        }
    }
}
