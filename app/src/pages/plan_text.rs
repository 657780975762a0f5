//! A seating plan as an admin types it in a form, one line per section or row:
//!
//! ```text
//! [Stalls] 45.00
//! A: 1-12
//! B: 1-14 unavailable 7 8
//! [Balcony] 25.00
//! AA: 101-110
//! BB: 12-1
//! ```
//!
//! A section line names it in brackets and gives its price (written as people write money); a
//! row line gives its label, a colon, and its seats left to right: number ranges (`1-12`, or
//! `12-1` numbered from the right) and single labels (`12A`), then optionally `unavailable` and
//! the seats that are not sold. Blank lines and lines starting with `#` are ignored. The text
//! becomes the API's sections (the bookings module judges the plan), and each error the module
//! names by path (`sections[1].rows[0].seats`) is said again by line.

use bookings_api::{NewRow, NewSection, RowSeats, VenueSection};
use kernel::FieldErrors;

use super::format;

/// The most seats a row line may write, its ranges together (as many as a row holds).
const MAX_SEATS: usize = bookings_api::MAX_ROW_SEATS;

/// The plan's sections, and for each section and row the line it came from.
pub(crate) struct Parsed {
    pub(crate) sections: Vec<NewSection>,
    lines: Vec<(usize, Vec<usize>)>,
}

impl Parsed {
    /// The module's errors, each on the line it is about: `line 3: …`.
    pub(crate) fn by_line(&self, errors: &FieldErrors) -> Vec<String> {
        errors
            .iter()
            .map(|e| {
                let line = self.line_of(&e.field);
                let what = e
                    .field
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .split('[')
                    .next()
                    .unwrap_or_default()
                    .replace('_', " ");
                match line {
                    Some(n) => format!("line {n}: {what} {}", e.message),
                    None => format!("{} {}", e.field.replace('_', " "), e.message),
                }
            })
            .collect()
    }

    /// The line a field path (`sections[1].rows[0].seats`) names.
    fn line_of(&self, path: &str) -> Option<usize> {
        let index = |key: &str| -> Option<usize> {
            let at = path.find(&format!("{key}["))? + key.len() + 1;
            path[at..].split(']').next()?.parse().ok()
        };
        let (section_line, rows) = self.lines.get(index("sections")?)?;
        match index("rows") {
            Some(r) => rows.get(r).copied(),
            None => Some(*section_line),
        }
    }
}

/// The seats a row line lists: ranges of seat numbers (`1-12`, or `12-1` numbered down) and
/// labels; a word that is no range of numbers (`-1`, `A-B`) is a label like any other.
fn seats(words: &[&str], line: usize) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for w in words {
        match w
            .split_once('-')
            .map(|(a, b)| (a.parse::<u32>(), b.parse::<u32>()))
        {
            Some((Ok(from), Ok(to))) => {
                if from.abs_diff(to) as usize >= MAX_SEATS {
                    return Err(format!(
                        "line {line}: the range {w} is longer than a row can be ({MAX_SEATS} seats)"
                    ));
                }
                if from <= to {
                    out.extend((from..=to).map(|n| n.to_string()));
                } else {
                    out.extend((to..=from).rev().map(|n| n.to_string()));
                }
            }
            // A number then a dash promises a range: `1-x` is a typing mistake, not a seat.
            Some((Ok(_), Err(_))) => {
                return Err(format!(
                    "line {line}: {w} is not a range of seat numbers (like 1-12)"
                ));
            }
            _ => out.push((*w).to_owned()),
        }
        if out.len() > MAX_SEATS {
            return Err(format!(
                "line {line}: more seats than a row can hold ({MAX_SEATS})"
            ));
        }
    }
    Ok(out)
}

/// The plan in `text`, or what is wrong with its lines (each said by number).
pub(crate) fn parse(text: &str) -> Result<Parsed, Vec<String>> {
    let mut sections: Vec<NewSection> = Vec::new();
    let mut lines: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some((name, price)) = rest.split_once(']') else {
                errors.push(format!(
                    "line {n}: a section line is [Name] and a price, like [Stalls] 45.00"
                ));
                continue;
            };
            let price = match format::parse_amount(price.trim()) {
                Ok(cents) => Some(cents),
                Err(why) => {
                    errors.push(format!("line {n}: the price {why}"));
                    None
                }
            };
            sections.push(NewSection {
                name: name.trim().to_owned(),
                price_cents: price,
                rows: Vec::new(),
            });
            lines.push((n, Vec::new()));
            continue;
        }
        let Some((label, rest)) = line.split_once(':') else {
            errors.push(format!(
                "line {n}: a row line is a label, a colon and its seats, like A: 1-12"
            ));
            continue;
        };
        let (Some(section), Some((_, rows))) = (sections.last_mut(), lines.last_mut()) else {
            errors.push(format!(
                "line {n}: a row needs a section line before it, like [Stalls] 45.00"
            ));
            continue;
        };
        let words: Vec<&str> = rest
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let (listed, unavailable) = match words
            .iter()
            .position(|w| w.eq_ignore_ascii_case("unavailable"))
        {
            Some(at) => (&words[..at], &words[at + 1..]),
            None => (&words[..], &[][..]),
        };
        match (seats(listed, n), seats(unavailable, n)) {
            (Ok(listed), Ok(unavailable)) => {
                section.rows.push(NewRow {
                    label: label.trim().to_owned(),
                    seats: Some(RowSeats::Labels(listed)),
                    unavailable,
                });
                rows.push(n);
            }
            (Err(e), _) | (_, Err(e)) => errors.push(e),
        }
    }
    if sections.is_empty() && errors.is_empty() {
        errors.push(
            "write at least one section and its rows, like [Stalls] 45.00 then A: 1-12".into(),
        );
    }
    if errors.is_empty() {
        Ok(Parsed { sections, lines })
    } else {
        Err(errors)
    }
}

/// Consecutive numbers as a range: `["1", "2", "3", "5"]` is `1-3 5`.
fn compact(labels: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(i64, i64)> = None;
    let flush = |run: &mut Option<(i64, i64)>, out: &mut Vec<String>| {
        if let Some((a, b)) = run.take() {
            out.push(if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            });
        }
    };
    for label in labels {
        match (label.parse::<i64>(), run) {
            (Ok(n), Some((a, b))) if n == b + 1 && a <= b => run = Some((a, n)),
            (Ok(n), _) => {
                flush(&mut run, &mut out);
                run = Some((n, n));
            }
            (Err(_), _) => {
                flush(&mut run, &mut out);
                out.push(label.clone());
            }
        }
    }
    flush(&mut run, &mut out);
    out.join(" ")
}

/// A venue's plan as the text its form edits.
pub(crate) fn text_of(sections: &[VenueSection]) -> String {
    let mut out = String::new();
    for s in sections {
        out.push_str(&format!(
            "[{}] {}.{:02}\n",
            s.name,
            s.price_cents / 100,
            s.price_cents % 100
        ));
        for r in &s.rows {
            out.push_str(&format!("{}: {}", r.label, compact(&r.seats)));
            if !r.unavailable.is_empty() {
                out.push_str(&format!(" unavailable {}", r.unavailable.join(" ")));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "# the main house\n[Stalls] 45.00\nA: 1-4\nB: 1-5 unavailable 3\n\n[Balcony] 25,50\nAA: 4-1, 12A\n";

    #[test]
    fn a_plan_reads_sections_rows_ranges_and_unavailable_seats() {
        let parsed = parse(PLAN).unwrap();
        let s = &parsed.sections;
        assert_eq!(
            (s[0].name.as_str(), s[0].price_cents),
            ("Stalls", Some(4_500))
        );
        assert_eq!(s[1].price_cents, Some(2_550));
        let Some(RowSeats::Labels(aa)) = &s[1].rows[0].seats else {
            panic!("labels expected");
        };
        assert_eq!(aa, &["4", "3", "2", "1", "12A"]);
        assert_eq!(s[0].rows[1].unavailable, ["3"]);
    }

    #[test]
    fn a_plan_survives_being_written_back_as_text() {
        let parsed = parse(PLAN).unwrap();
        let venue: Vec<VenueSection> = parsed
            .sections
            .iter()
            .map(|s| VenueSection {
                name: s.name.clone(),
                price_cents: s.price_cents.unwrap(),
                rows: s
                    .rows
                    .iter()
                    .map(|r| bookings_api::VenueRow {
                        label: r.label.clone(),
                        seats: match &r.seats {
                            Some(RowSeats::Labels(l)) => l.clone(),
                            _ => Vec::new(),
                        },
                        unavailable: r.unavailable.clone(),
                    })
                    .collect(),
            })
            .collect();
        let text = text_of(&venue);
        assert_eq!(
            text,
            "[Stalls] 45.00\nA: 1-4\nB: 1-5 unavailable 3\n[Balcony] 25.50\nAA: 4 3 2 1 12A\n"
        );
        assert_eq!(parse(&text).unwrap().sections.len(), 2);
    }

    #[test]
    fn bad_lines_are_said_by_number_and_module_errors_find_their_line() {
        let errors = parse("A: 1-3\n[Stalls 45\n[Pit] lots\nB 1-3")
            .err()
            .unwrap();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].starts_with("line 1: a row needs a section"),
            "{errors:?}"
        );
        assert!(errors[2].starts_with("line 3: the price"), "{errors:?}");
        let parsed = parse("[Stalls] 10\nA: 1-3\n\nB: 1 1").unwrap();
        let module = FieldErrors::single("sections[0].rows[1].seats", "name seat 1 twice");
        assert_eq!(parsed.by_line(&module), ["line 4: seats name seat 1 twice"]);
        assert!(parse("[Stalls] 10\nA: 1-9999").is_err());
        // Numbers no arithmetic may overflow on, and no row longer than a row can be.
        assert!(
            parse("[Stalls] 10\nA: 9223372036854775807--1").is_ok_and(|p| {
                matches!(&p.sections[0].rows[0].seats, Some(RowSeats::Labels(l)) if l.len() == 1)
            })
        );
        assert!(parse("[Stalls] 10\nA: 1-400 401-800").is_err());
        let typo = parse("[Stalls] 10\nA: 1-x").err().unwrap();
        assert_eq!(
            typo,
            ["line 2: 1-x is not a range of seat numbers (like 1-12)"]
        );
    }
}
