//! Choosing the best available seats of a plan: pure functions of the free seats, row by row,
//! so that they are tested on their own and run inside the write transaction that holds what
//! they chose (`holds.rs` reads the free seats a slice at a time, front rows first).
//!
//! "Best" follows the plan's order: sections best first, rows front first. Adjacent seats come
//! first: the first row (in that order) with a run of `n` free seats side by side gives the run
//! nearest its middle. Only when no row has such a run are the seats split: the best free seats
//! in plan order, each row's from its middle out.

/// Where a seat is in its show's plan: section, row and position, each counted from 0 (the
/// plan's unique key for a seat).
pub(crate) type Place = (i64, i64, i64);

/// A row of a show's plan as the chooser sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FreeRow {
    pub(crate) section: i64,
    pub(crate) row: i64,
    /// The positions of the row's first and last seats, free or not: its middle is theirs.
    pub(crate) first: i64,
    pub(crate) last: i64,
    /// The positions of its free seats, ascending (a gap is a seat taken, or an aisle).
    pub(crate) free: Vec<i64>,
}

impl FreeRow {
    fn place(&self, position: i64) -> Place {
        (self.section, self.row, position)
    }

    /// The middle of the row, in positions (doubled, to stay whole).
    fn middle2(&self) -> i64 {
        self.first + self.last
    }

    /// The run of `n` adjacent free seats nearest the row's middle, if it has one.
    fn run(&self, n: usize) -> Option<Vec<Place>> {
        let middle = self.middle2();
        self.free
            .windows(n)
            .filter(|w| w.windows(2).all(|p| p[1] == p[0] + 1))
            .min_by_key(|w| (w[0] + w[n - 1] - middle).abs())
            .map(|w| w.iter().map(|&p| self.place(p)).collect())
    }
}

/// The run of `n` adjacent free seats in the first of `rows` (in plan order) that has one.
pub(crate) fn adjacent(rows: &[FreeRow], n: usize) -> Option<Vec<Place>> {
    if n == 0 {
        return None;
    }
    rows.iter().find_map(|r| r.run(n))
}

/// The best `n` free seats of `rows` (every row with a free seat, in plan order) taken apart:
/// plan order, each row's from its middle out; `None` when fewer than `n` are free.
fn split(rows: &[FreeRow], n: usize) -> Option<Vec<Place>> {
    if n == 0 {
        return None;
    }
    let mut chosen = Vec::with_capacity(n);
    for row in rows {
        let middle = row.middle2();
        let mut free = row.free.clone();
        free.sort_by_key(|&p| ((2 * p - middle).abs(), p));
        for p in free {
            if chosen.len() == n {
                return Some(chosen);
            }
            chosen.push(row.place(p));
        }
    }
    (chosen.len() == n).then_some(chosen)
}

/// The best `n` free seats of `rows` (every row with a free seat, in plan order), or `None`
/// when fewer than `n` are free.
pub(crate) fn best_available(rows: &[FreeRow], n: usize) -> Option<Vec<Place>> {
    adjacent(rows, n).or_else(|| split(rows, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan drawn as text: one line per row (`|` between sections), `.` free, `x` taken,
    /// ` ` no seat (an aisle).
    fn plan(drawing: &str) -> Vec<FreeRow> {
        let mut rows = Vec::new();
        for (section, lines) in drawing.split('|').enumerate() {
            for (row, line) in lines.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                let seats: Vec<(i64, char)> = line
                    .trim_matches('/')
                    .chars()
                    .enumerate()
                    .filter(|(_, c)| *c != ' ')
                    .map(|(p, c)| (p as i64, c))
                    .collect();
                rows.push(FreeRow {
                    section: section as i64,
                    row: row as i64,
                    first: seats.first().map_or(0, |s| s.0),
                    last: seats.last().map_or(0, |s| s.0),
                    free: seats.iter().filter(|s| s.1 == '.').map(|s| s.0).collect(),
                });
            }
        }
        rows
    }

    #[test]
    fn the_front_row_of_the_best_section_gives_the_run_nearest_its_middle() {
        let spots = plan("/........./\n/........./\n|/....../");
        let ids = best_available(&spots, 3).unwrap();
        assert_eq!(ids, [(0, 0, 3), (0, 0, 4), (0, 0, 5)]);
    }

    #[test]
    fn seats_stay_together_in_a_worse_row_or_section_rather_than_split() {
        let spots = plan("/x.x.x.x./\n/xx..xxx./\n|/..../");
        let ids = best_available(&spots, 2).unwrap();
        assert_eq!(ids, [(0, 1, 2), (0, 1, 3)]);
        let ids = best_available(&spots, 4).unwrap();
        assert_eq!(ids, [(1, 0, 0), (1, 0, 1), (1, 0, 2), (1, 0, 3)]);
    }

    #[test]
    fn an_aisle_or_a_taken_seat_breaks_a_run() {
        let spots = plan("/.. ../\n/x...x/");
        let ids = best_available(&spots, 3).unwrap();
        assert_eq!(ids, [(0, 1, 1), (0, 1, 2), (0, 1, 3)]);
    }

    #[test]
    fn with_no_run_long_enough_the_best_free_seats_are_taken_middle_out() {
        let spots = plan("/.x.x./\n/x.x.x/");
        let ids = best_available(&spots, 4).unwrap();
        assert_eq!(ids, [(0, 0, 2), (0, 0, 0), (0, 0, 4), (0, 1, 1)]);
    }

    #[test]
    fn more_seats_than_are_free_is_none() {
        let spots = plan("/x.x./");
        assert_eq!(best_available(&spots, 3), None);
        assert_eq!(best_available(&spots, 0), None);
        assert_eq!(best_available(&spots, 2).map(|v| v.len()), Some(2));
    }
}
