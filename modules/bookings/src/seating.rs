//! Choosing the best available seats of a plan: a pure function of the seats and where they
//! stand, so that it is tested on its own and runs inside the write transaction that holds what
//! it chose.
//!
//! "Best" follows the plan's order: sections best first, rows front first. Adjacent seats come
//! first: the first row (in that order) with a run of `n` free seats side by side gives the run
//! nearest its middle. Only when no row has such a run are the seats split: the best free seats
//! in plan order, each row's from its middle out.

/// A seat of a show's plan as the chooser sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spot {
    pub(crate) section: i64,
    pub(crate) row: i64,
    pub(crate) position: i64,
    pub(crate) free: bool,
}

/// Where a seat is in its show's plan: section, row and position, each counted from 0 (the
/// plan's unique key for a seat).
pub(crate) type Place = (i64, i64, i64);

impl Spot {
    fn place(&self) -> Place {
        (self.section, self.row, self.position)
    }
}

/// The rows of `spots` (in plan order), each as a slice.
fn rows(spots: &[Spot]) -> impl Iterator<Item = &[Spot]> {
    spots.chunk_by(|a, b| (a.section, a.row) == (b.section, b.row))
}

/// The middle of a row, in positions (doubled, to stay whole).
fn middle2(row: &[Spot]) -> i64 {
    let first = row.first().map_or(0, |s| s.position);
    let last = row.last().map_or(0, |s| s.position);
    first + last
}

/// The run of `n` adjacent free seats of `row` nearest its middle, if it has one.
fn run_in(row: &[Spot], n: usize) -> Option<&[Spot]> {
    let middle = middle2(row);
    row.windows(n)
        .filter(|w| {
            w.iter().all(|s| s.free) && w.windows(2).all(|p| p[1].position == p[0].position + 1)
        })
        .min_by_key(|w| {
            let centre2 = w[0].position + w[n - 1].position;
            (centre2 - middle).abs()
        })
}

/// The best `n` free seats of `spots` (every seat of a show, in plan order), or `None` when
/// fewer than `n` are free.
pub(crate) fn best_available(spots: &[Spot], n: usize) -> Option<Vec<Place>> {
    if n == 0 || spots.iter().filter(|s| s.free).count() < n {
        return None;
    }
    if let Some(run) = rows(spots).find_map(|row| run_in(row, n)) {
        return Some(run.iter().map(Spot::place).collect());
    }
    let mut chosen = Vec::with_capacity(n);
    for row in rows(spots) {
        let middle = middle2(row);
        let mut free: Vec<&Spot> = row.iter().filter(|s| s.free).collect();
        free.sort_by_key(|s| ((2 * s.position - middle).abs(), s.position));
        for s in free {
            if chosen.len() == n {
                return Some(chosen);
            }
            chosen.push(s.place());
        }
    }
    (chosen.len() == n).then_some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan drawn as text: one line per row (`|` between sections), `.` free, `x` taken,
    /// ` ` no seat (an aisle).
    fn plan(drawing: &str) -> Vec<Spot> {
        let mut spots = Vec::new();
        for (section, rows) in drawing.split('|').enumerate() {
            for (row, line) in rows.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                for (position, c) in line.trim_matches('/').chars().enumerate() {
                    if c == ' ' {
                        continue;
                    }
                    spots.push(Spot {
                        section: section as i64,
                        row: row as i64,
                        position: position as i64,
                        free: c == '.',
                    });
                }
            }
        }
        spots
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
