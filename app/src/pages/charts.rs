//! Charts as server-rendered SVG: the geometry is computed here, the template draws rectangles.

use kernel::Timestamp;
use reporting_api::{ShowSales, TimeBucket};

/// One row of the sales-per-show chart.
pub(crate) struct SalesBar {
    pub(crate) y: i64,
    pub(crate) label: String,
    pub(crate) sold_w: i64,
    pub(crate) held_x: i64,
    pub(crate) held_w: i64,
    pub(crate) text: String,
    pub(crate) text_y: i64,
}

/// The sales-per-show chart.
pub(crate) struct SalesChart {
    pub(crate) height: i64,
    pub(crate) bars: Vec<SalesBar>,
}

const LABEL_W: i64 = 190;
const BAR_W: i64 = 330;
const ROW_H: i64 = 30;

/// Horizontal bars: seats sold, then seats held, against each show's capacity.
pub(crate) fn sales(shows: &[ShowSales]) -> SalesChart {
    let bars = shows
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let cap = s.capacity.max(1);
            let sold_w = BAR_W * s.seats_sold / cap;
            let held_w = (BAR_W * s.seats_held / cap).min(BAR_W - sold_w);
            let y = i as i64 * ROW_H + 6;
            let mut label: String = s.title.chars().take(26).collect();
            if s.title.chars().count() > 26 {
                label.push('…');
            }
            SalesBar {
                y,
                label,
                sold_w,
                held_x: LABEL_W + sold_w,
                held_w,
                text: format!("{} / {}", s.seats_sold, s.capacity),
                text_y: y + 13,
            }
        })
        .collect::<Vec<_>>();
    SalesChart {
        height: (bars.len() as i64 * ROW_H).max(ROW_H) + 6,
        bars,
    }
}

/// One hour of the timeline chart.
pub(crate) struct HourBar {
    pub(crate) x: i64,
    pub(crate) confirmed_y: i64,
    pub(crate) confirmed_h: i64,
    pub(crate) other_y: i64,
    pub(crate) other_h: i64,
    pub(crate) label: Option<String>,
    pub(crate) title: String,
}

/// The bookings-per-hour chart.
pub(crate) struct TimelineChart {
    pub(crate) bars: Vec<HourBar>,
    pub(crate) max: i64,
    pub(crate) bar_w: i64,
}

const CHART_H: i64 = 140;
const HOUR: i64 = 3_600_000_000;

/// Vertical bars per hour from the first to the last hour with bookings (at most 48), the
/// confirmed part darker; empty hours are drawn empty, not skipped.
pub(crate) fn timeline(buckets: &[TimeBucket]) -> TimelineChart {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return TimelineChart {
            bars: Vec::new(),
            max: 0,
            bar_w: 10,
        };
    };
    let start = first
        .start
        .as_micros()
        .max(last.start.as_micros() - 47 * HOUR);
    let hours = ((last.start.as_micros() - start) / HOUR + 1) as usize;
    let max = buckets.iter().map(|b| b.placed).max().unwrap_or(0).max(1);
    let bar_w = (520 / hours.max(1) as i64).clamp(4, 40);
    let bars = (0..hours)
        .map(|i| {
            let t = start + i as i64 * HOUR;
            let b = buckets.iter().find(|b| b.start.as_micros() == t);
            let (placed, confirmed) = b.map_or((0, 0), |b| (b.placed, b.confirmed));
            let total_h = CHART_H * placed / max;
            let confirmed_h = CHART_H * confirmed / max;
            let hour = Timestamp::from_micros(t).to_offset_date_time();
            let label = (i % 6 == 0 || hours <= 6).then(|| format!("{:02}:00", hour.hour()));
            HourBar {
                x: 40 + i as i64 * bar_w,
                confirmed_y: 10 + CHART_H - confirmed_h,
                confirmed_h,
                other_y: 10 + CHART_H - total_h,
                other_h: total_h - confirmed_h,
                label,
                title: format!(
                    "{:02}:00 — {placed} placed, {confirmed} confirmed",
                    hour.hour()
                ),
            }
        })
        .collect();
    TimelineChart { bars, max, bar_w }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(sold: i64, held: i64, capacity: i64) -> ShowSales {
        ShowSales {
            show_id: uuid::Uuid::nil(),
            title: "A very long title that will not fit the label".into(),
            venue: "v".into(),
            time_zone: "UTC".into(),
            starts_at: Timestamp::from_micros(0),
            status: "scheduled".into(),
            capacity,
            seats_sold: sold,
            seats_held: held,
            seats_left: capacity - sold - held,
            admitted: 0,
            bookings: 1,
            revenue_cents: 0,
            refunds_cents: 0,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn sold_and_held_seats_never_draw_past_the_capacity() {
        let chart = sales(&[show(50, 50, 100), show(100, 0, 100), show(0, 0, 0)]);
        assert_eq!((chart.bars[0].sold_w, chart.bars[0].held_w), (165, 165));
        assert_eq!((chart.bars[1].sold_w, chart.bars[1].held_w), (330, 0));
        assert!(chart.bars[0].label.ends_with('…'));
    }

    #[test]
    fn empty_hours_between_bookings_are_drawn_empty() {
        let b = |h: i64, placed| TimeBucket {
            start: Timestamp::from_micros(h * HOUR),
            placed,
            confirmed: placed,
            cancelled: 0,
        };
        let chart = timeline(&[b(10, 4), b(13, 2)]);
        assert_eq!(chart.bars.len(), 4);
        assert_eq!(chart.bars[1].confirmed_h, 0);
        assert_eq!(chart.bars[0].confirmed_h, CHART_H);
    }
}
