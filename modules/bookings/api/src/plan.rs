//! Venues and their seating: how a venue is seated (general admission with a capacity, or a
//! plan of sections, rows and numbered seats), as received and as validated. A plan is checked
//! once, at the edge, with every bad field named by its path (`sections[1].rows[0].seats`), so
//! that past the edge a plan cannot be empty, hold two seats of one label in a row, or price a
//! section beyond what a booking can carry.

use std::collections::BTreeSet;

use kernel::{FieldErrors, Zone};
use serde::{Deserialize, Serialize};

use crate::{Capacity, Label, MAX_CAPACITY, SeatPrice};

/// The most sections in a plan.
pub const MAX_SECTIONS: usize = 50;
/// The most rows in a section.
pub const MAX_ROWS: usize = 200;
/// The most seats in a row.
pub const MAX_ROW_SEATS: usize = 500;
/// The longest row or seat label.
pub const MAX_SEAT_LABEL_CHARS: usize = 8;

/// A row's or a seat's label as printed on a ticket (`C`, `12`, `AA`, `101B`): 1 to
/// [`MAX_SEAT_LABEL_CHARS`] letters, digits, `-` or `.`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeatLabel(String);
kernel::plain_value!(SeatLabel, String, parse: |s: String| SeatLabel::parse(&s), plain: |l: &SeatLabel| l.0.clone());

impl SeatLabel {
    /// The label, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<SeatLabel, String> {
        let s = raw.trim();
        if s.is_empty() {
            Err("is required".into())
        } else if s.chars().count() > MAX_SEAT_LABEL_CHARS {
            Err(format!("must be at most {MAX_SEAT_LABEL_CHARS} characters"))
        } else if !s
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        {
            Err("must be letters, digits, '-' or '.'".into())
        } else {
            Ok(SeatLabel(s.to_owned()))
        }
    }

    /// As printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many seats a row has, or their labels, as received.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum RowSeats {
    /// Seats numbered 1 to this count (1 to 500).
    #[cfg_attr(feature = "openapi", schema(title = "count"))]
    Count(i64),
    /// The seats' labels, left to right.
    #[cfg_attr(feature = "openapi", schema(title = "labels"))]
    Labels(Vec<String>),
}

/// A row of a section, as received: front rows first.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewRow {
    /// The row's label (`A`, `AA`, `12`).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 8)
    )]
    pub label: String,
    /// A count (seats `1` to `n`) or the seats' labels, left to right; adjacent seats are next
    /// to each other.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub seats: Option<RowSeats>,
    /// Labels of seats that exist but are not sold (a broken seat, a camera position).
    pub unavailable: Vec<String>,
}

/// A section of a plan, as received: best sections first.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewSection {
    /// Its name (`Stalls`, `Balcony`), unique in the venue.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 120)
    )]
    pub name: String,
    /// The price of each of its seats, in cents: 0 to 1 000 000 (a show may price it again).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 0, maximum = 1_000_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
    /// Its rows, front first.
    #[cfg_attr(feature = "openapi", schema(required = true, min_items = 1))]
    pub rows: Vec<NewRow>,
}

/// One seat of a validated plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSeat {
    /// Its label in the row.
    pub label: SeatLabel,
    /// False for a seat that exists but is not sold.
    pub available: bool,
}

/// One row of a validated plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRow {
    /// Its label.
    pub label: SeatLabel,
    /// Its seats, left to right.
    pub seats: Vec<PlanSeat>,
}

/// One section of a validated plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSection {
    /// Its name.
    pub name: Label,
    /// The price of each seat.
    pub price: SeatPrice,
    /// Its rows, front first.
    pub rows: Vec<PlanRow>,
}

/// A validated seating plan: 1 to [`MAX_SECTIONS`] sections with unique names, best first, each
/// of 1 to [`MAX_ROWS`] rows with unique labels, each of 1 to [`MAX_ROW_SEATS`] seats with
/// unique labels; at least one seat for sale and at most [`MAX_CAPACITY`] seats in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatingPlan(Vec<PlanSection>);
kernel::plain_value!(SeatingPlan, Vec<PlanSection>, parse: SeatingPlan::new, plain: |p: &SeatingPlan| p.0.clone());

impl SeatingPlan {
    /// The plan of these sections, or what is wrong with them (as one message).
    pub fn new(sections: Vec<PlanSection>) -> Result<SeatingPlan, String> {
        let plan = SeatingPlan(sections);
        let mut e = FieldErrors::new();
        plan.check(&mut e);
        match e.iter().next() {
            Some(first) => Err(format!("{} {}", first.field, first.message)),
            None => Ok(plan),
        }
    }

    fn check(&self, e: &mut FieldErrors) {
        if self.0.is_empty() {
            e.add("sections", "must hold at least one section");
        } else if self.0.len() > MAX_SECTIONS {
            e.add("sections", format!("must be at most {MAX_SECTIONS}"));
        }
        let mut names = BTreeSet::new();
        for (i, s) in self.0.iter().enumerate() {
            if !names.insert(s.name.as_str().to_lowercase()) {
                e.add(
                    format!("sections[{i}].name"),
                    "is the name of another section",
                );
            }
            if s.rows.is_empty() {
                e.add(format!("sections[{i}].rows"), "must hold at least one row");
            } else if s.rows.len() > MAX_ROWS {
                e.add(
                    format!("sections[{i}].rows"),
                    format!("must be at most {MAX_ROWS}"),
                );
            }
            let mut rows = BTreeSet::new();
            for (r, row) in s.rows.iter().enumerate() {
                let at = format!("sections[{i}].rows[{r}]");
                if !rows.insert(row.label.as_str()) {
                    e.add(
                        format!("{at}.label"),
                        "is the label of another row of the section",
                    );
                }
                if row.seats.is_empty() {
                    e.add(format!("{at}.seats"), "must hold at least one seat");
                } else if row.seats.len() > MAX_ROW_SEATS {
                    e.add(
                        format!("{at}.seats"),
                        format!("must be at most {MAX_ROW_SEATS}"),
                    );
                }
                let mut seats = BTreeSet::new();
                if let Some(twice) = row.seats.iter().find(|s| !seats.insert(s.label.as_str())) {
                    e.add(
                        format!("{at}.seats"),
                        format!("name seat {} twice", twice.label.as_str()),
                    );
                }
            }
        }
        let all: usize = self.seats().count();
        let for_sale = self.seats().filter(|s| s.3.available).count();
        if e.is_empty() && for_sale == 0 {
            e.add("sections", "must hold at least one seat for sale");
        }
        if all > MAX_CAPACITY as usize {
            e.add(
                "sections",
                format!("must hold at most {MAX_CAPACITY} seats in all"),
            );
        }
    }

    /// The sections, best first.
    pub fn sections(&self) -> &[PlanSection] {
        &self.0
    }

    /// Every seat with its section's and row's positions: (section, row, position, seat).
    pub fn seats(&self) -> impl Iterator<Item = (usize, usize, usize, &PlanSeat)> {
        self.0.iter().enumerate().flat_map(|(s, section)| {
            section.rows.iter().enumerate().flat_map(move |(r, row)| {
                row.seats
                    .iter()
                    .enumerate()
                    .map(move |(p, seat)| (s, r, p, seat))
            })
        })
    }

    /// How many seats are for sale.
    pub fn capacity(&self) -> i64 {
        self.seats().filter(|s| s.3.available).count() as i64
    }
}

/// The seats of a row as received: `n` numbered 1 to `n`, or the labels given.
fn row_seats(row: &NewRow, at: &str, e: &mut FieldErrors) -> Option<Vec<PlanSeat>> {
    let labels: Vec<SeatLabel> = match &row.seats {
        None => {
            e.add(format!("{at}.seats"), "is required");
            return None;
        }
        Some(RowSeats::Count(n)) if !(1..=MAX_ROW_SEATS as i64).contains(n) => {
            e.add(
                format!("{at}.seats"),
                format!("must be between 1 and {MAX_ROW_SEATS}"),
            );
            return None;
        }
        Some(RowSeats::Count(n)) => (1..=*n).map(|i| SeatLabel(i.to_string())).collect(),
        Some(RowSeats::Labels(labels)) => {
            let mut parsed = Vec::with_capacity(labels.len());
            for (k, raw) in labels.iter().enumerate() {
                parsed.push(e.check(&format!("{at}.seats[{k}]"), SeatLabel::parse(raw))?);
            }
            parsed
        }
    };
    let mut unavailable = BTreeSet::new();
    for (k, raw) in row.unavailable.iter().enumerate() {
        let field = format!("{at}.unavailable[{k}]");
        let label = e.check(&field, SeatLabel::parse(raw))?;
        if !labels.contains(&label) {
            e.add(
                field,
                format!("names seat {}, which the row does not have", label.as_str()),
            );
            return None;
        }
        unavailable.insert(label);
    }
    Some(
        labels
            .into_iter()
            .map(|label| PlanSeat {
                available: !unavailable.contains(&label),
                label,
            })
            .collect(),
    )
}

/// A plan as received, validated: every bad field at once, each named by its path.
pub fn seating_plan(sections: &[NewSection], e: &mut FieldErrors) -> Option<SeatingPlan> {
    let before = e.iter().count();
    if sections.len() > MAX_SECTIONS {
        e.add("sections", format!("must be at most {MAX_SECTIONS}"));
        return None;
    }
    let mut plan = Vec::with_capacity(sections.len());
    // Counted as rows are read, so an oversized plan is refused before it is built whole.
    let mut seats_so_far = 0usize;
    for (i, s) in sections.iter().enumerate() {
        let at = format!("sections[{i}]");
        let name = e.check(&format!("{at}.name"), Label::parse(&s.name));
        let price = e.check(
            &format!("{at}.price_cents"),
            s.price_cents
                .ok_or_else(|| "is required".to_owned())
                .and_then(SeatPrice::new),
        );
        if s.rows.len() > MAX_ROWS {
            e.add(format!("{at}.rows"), format!("must be at most {MAX_ROWS}"));
            continue;
        }
        let mut rows = Vec::with_capacity(s.rows.len());
        for (r, row) in s.rows.iter().enumerate() {
            let at = format!("{at}.rows[{r}]");
            let label = e.check(&format!("{at}.label"), SeatLabel::parse(&row.label));
            let seats = row_seats(row, &at, e);
            seats_so_far += seats.as_ref().map_or(0, Vec::len);
            if seats_so_far > MAX_CAPACITY as usize {
                e.add(
                    "sections",
                    format!("must hold at most {MAX_CAPACITY} seats in all"),
                );
                return None;
            }
            if let (Some(label), Some(seats)) = (label, seats) {
                rows.push(PlanRow { label, seats });
            }
        }
        if let (Some(name), Some(price)) = (name, price) {
            plan.push(PlanSection { name, price, rows });
        }
    }
    if e.iter().count() > before {
        return None;
    }
    let plan = SeatingPlan(plan);
    plan.check(e);
    (e.iter().count() == before).then_some(plan)
}

/// How a venue is seated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Seating {
    /// No seat numbers: a number of people.
    GeneralAdmission {
        /// How many.
        capacity: Capacity,
    },
    /// Numbered seats in sections and rows.
    Reserved {
        /// The plan.
        plan: SeatingPlan,
    },
}

impl Seating {
    /// The seats for sale.
    pub fn capacity(&self) -> i64 {
        match self {
            Seating::GeneralAdmission { capacity } => capacity.get(),
            Seating::Reserved { plan } => plan.capacity(),
        }
    }

    /// The seating a venue (or a change of one) asks for: a capacity or sections, not both;
    /// `None` (with the errors added) when neither is valid.
    pub fn of(
        capacity: Option<i64>,
        sections: Option<&[NewSection]>,
        e: &mut FieldErrors,
    ) -> Option<Seating> {
        match (capacity, sections) {
            (Some(_), Some(_)) => {
                e.add(
                    "sections",
                    "give a capacity (general admission) or sections (numbered seats), not both",
                );
                None
            }
            (Some(c), None) => e
                .check("capacity", Capacity::new(c))
                .map(|capacity| Seating::GeneralAdmission { capacity }),
            (None, Some(sections)) => {
                seating_plan(sections, e).map(|plan| Seating::Reserved { plan })
            }
            (None, None) => None,
        }
    }
}

/// A venue to open, as received: general admission (`capacity`) or a plan (`sections`).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewVenue {
    /// 1 to 120 characters, unique among venues (in any letter case).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 120)
    )]
    pub name: String,
    /// Its IANA time zone (`Europe/Paris`): every show there is shown in it.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 64)
    )]
    pub time_zone: String,
    /// For general admission: how many people, 1 to 100 000. Not with `sections`.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 1, maximum = 100_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub capacity: Option<i64>,
    /// For numbered seats: the sections, best first. Not with `capacity`.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub sections: Option<Vec<NewSection>>,
}

/// Changes to a venue; absent fields stay as they are. A new seating applies to shows
/// scheduled from then on: a show keeps the plan it was scheduled with.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VenuePatch {
    /// A new name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub name: Option<String>,
    /// A new IANA time zone.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub time_zone: Option<String>,
    /// General admission with this capacity. Not with `sections`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub capacity: Option<i64>,
    /// Numbered seats in these sections. Not with `capacity`.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub sections: Option<Vec<NewSection>>,
}

/// A venue to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenVenue {
    /// Its name.
    pub name: Label,
    /// Its time zone.
    pub zone: Zone,
    /// How it is seated.
    pub seating: Seating,
}

impl TryFrom<NewVenue> for OpenVenue {
    type Error = FieldErrors;

    fn try_from(input: NewVenue) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", Label::parse(&input.name));
        let zone = e.check("time_zone", Zone::parse(&input.time_zone));
        let seating = Seating::of(input.capacity, input.sections.as_deref(), &mut e);
        if input.capacity.is_none() && input.sections.is_none() {
            e.add(
                "capacity",
                "is required for general admission (or give sections for numbered seats)",
            );
        }
        match (name, zone, seating) {
            (Some(name), Some(zone), Some(seating)) if e.is_empty() => Ok(OpenVenue {
                name,
                zone,
                seating,
            }),
            _ => Err(e),
        }
    }
}

/// Changes to a venue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeVenue {
    /// A new name.
    pub name: Option<Label>,
    /// A new time zone.
    pub zone: Option<Zone>,
    /// A new seating.
    pub seating: Option<Seating>,
}

impl TryFrom<VenuePatch> for ChangeVenue {
    type Error = FieldErrors;

    fn try_from(patch: VenuePatch) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let change = ChangeVenue {
            name: patch
                .name
                .as_deref()
                .and_then(|n| e.check("name", Label::parse(n))),
            zone: patch
                .time_zone
                .as_deref()
                .and_then(|z| e.check("time_zone", Zone::parse(z))),
            seating: Seating::of(patch.capacity, patch.sections.as_deref(), &mut e),
        };
        e.into_result()?;
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, seats: RowSeats) -> NewRow {
        NewRow {
            label: label.into(),
            seats: Some(seats),
            unavailable: Vec::new(),
        }
    }

    fn section(name: &str, price: i64, rows: Vec<NewRow>) -> NewSection {
        NewSection {
            name: name.into(),
            price_cents: Some(price),
            rows,
        }
    }

    fn fields(e: &FieldErrors) -> Vec<String> {
        e.iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn a_plan_numbers_counted_rows_and_keeps_labelled_ones_in_order() {
        let mut e = FieldErrors::new();
        let mut b = row(
            "B",
            RowSeats::Labels(vec!["10".into(), "12".into(), "14".into()]),
        );
        b.unavailable = vec!["12".into()];
        let plan = seating_plan(
            &[section(
                "Stalls",
                4_500,
                vec![row("A", RowSeats::Count(3)), b],
            )],
            &mut e,
        )
        .unwrap();
        assert!(e.is_empty());
        assert_eq!(plan.capacity(), 5);
        let labels: Vec<_> = plan
            .seats()
            .map(|(_, r, _, s)| {
                format!(
                    "{}{}{}",
                    r,
                    s.label.as_str(),
                    if s.available { "" } else { "x" }
                )
            })
            .collect();
        assert_eq!(labels, ["01", "02", "03", "110", "112x", "114"]);
    }

    #[test]
    fn duplicate_labels_empty_plans_and_overflowing_prices_are_named_by_their_path() {
        let mut e = FieldErrors::new();
        let plan = seating_plan(
            &[
                section(
                    "Stalls",
                    i64::MAX,
                    vec![
                        row("A", RowSeats::Labels(vec!["1".into(), "1".into()])),
                        row("A", RowSeats::Count(0)),
                    ],
                ),
                section("stalls", 100, vec![]),
            ],
            &mut e,
        );
        assert!(plan.is_none());
        assert_eq!(
            fields(&e),
            ["sections[0].price_cents", "sections[0].rows[1].seats"]
        );
        let mut e = FieldErrors::new();
        seating_plan(
            &[
                section(
                    "Stalls",
                    100,
                    vec![
                        row("A", RowSeats::Labels(vec!["1".into(), "1".into()])),
                        row("A", RowSeats::Count(2)),
                    ],
                ),
                section("stalls", 100, vec![]),
            ],
            &mut e,
        );
        assert_eq!(
            fields(&e),
            [
                "sections[0].rows[0].seats",
                "sections[0].rows[1].label",
                "sections[1].name",
                "sections[1].rows"
            ]
        );
        let mut e = FieldErrors::new();
        assert!(seating_plan(&[], &mut e).is_none());
        assert_eq!(fields(&e), ["sections"]);
    }

    #[test]
    fn a_plan_with_no_seat_for_sale_or_an_unknown_unavailable_seat_is_refused() {
        let mut all_off = row("A", RowSeats::Count(2));
        all_off.unavailable = vec!["1".into(), "2".into()];
        let mut e = FieldErrors::new();
        assert!(seating_plan(&[section("Stalls", 100, vec![all_off])], &mut e).is_none());
        assert_eq!(
            e.message_for("sections"),
            Some("must hold at least one seat for sale")
        );
        let mut ghost = row("A", RowSeats::Count(2));
        ghost.unavailable = vec!["9".into()];
        let mut e = FieldErrors::new();
        assert!(seating_plan(&[section("Stalls", 100, vec![ghost])], &mut e).is_none());
        assert_eq!(fields(&e), ["sections[0].rows[0].unavailable[0]"]);
    }

    #[test]
    fn a_venue_is_general_admission_or_seated_never_both_and_its_zone_is_iana() {
        let both = NewVenue {
            name: "Hall".into(),
            time_zone: "Mars/Olympus".into(),
            capacity: Some(10),
            sections: Some(vec![section(
                "Stalls",
                100,
                vec![row("A", RowSeats::Count(2))],
            )]),
        };
        let e = OpenVenue::try_from(both).unwrap_err();
        assert_eq!(fields(&e), ["time_zone", "sections"]);
        let neither = NewVenue {
            name: "Hall".into(),
            time_zone: "Europe/Paris".into(),
            ..NewVenue::default()
        };
        assert_eq!(
            fields(&OpenVenue::try_from(neither).unwrap_err()),
            ["capacity"]
        );
        let ga = OpenVenue::try_from(NewVenue {
            name: "Hall".into(),
            time_zone: "europe/paris".into(),
            capacity: Some(300),
            sections: None,
        })
        .unwrap();
        assert_eq!(ga.zone.name(), "Europe/Paris");
        assert_eq!(ga.seating.capacity(), 300);
    }

    #[test]
    fn a_plan_crossing_a_process_is_checked_again() {
        let json = r#"[{"name":"Stalls","price":100,"rows":[]}]"#;
        assert!(serde_json::from_str::<SeatingPlan>(json).is_err());
    }
}
