//! Venues, seating plans, seats held and released by the saga, best available, and tickets at
//! the door: the module through its public face.

use std::collections::HashMap;

use bookings_api::{
    BookingConfirmed, ChangeVenue, CheckIn, NewRow, NewSection, NewVenue, OpenVenue, RowSeats,
    SeatMap, SeatRequest, SeatStatus, SeatingKind, Show, Ticket, TicketAdmitted, TicketCode,
};
use kernel::PageRequest;

use super::*;

/// A plan: Stalls (45.00) rows A and B of six seats, Balcony (20.00) one row of four whose
/// seat 2 is not sold.
fn plan() -> Vec<NewSection> {
    let row = |label: &str, seats: i64, unavailable: &[&str]| NewRow {
        label: label.into(),
        seats: Some(RowSeats::Count(seats)),
        unavailable: unavailable.iter().map(|s| (*s).to_owned()).collect(),
    };
    vec![
        NewSection {
            name: "Stalls".into(),
            price_cents: Some(4_500),
            rows: vec![row("A", 6, &[]), row("B", 6, &[])],
        },
        NewSection {
            name: "Balcony".into(),
            price_cents: Some(2_000),
            rows: vec![row("A", 4, &["2"])],
        },
    ]
}

impl World {
    async fn seated_show(&self, admin: &Actor) -> Show {
        self.show_with_plan(admin, plan()).await
    }

    /// A show at a new venue (London time) with the plan `sections`.
    async fn show_with_plan(&self, admin: &Actor, sections: Vec<NewSection>) -> Show {
        let venue = self
            .bookings
            .open_venue(
                Trace::new_root(),
                admin,
                OpenVenue::try_from(NewVenue {
                    name: format!("Globe {}", kernel::new_id()),
                    time_zone: "Europe/London".into(),
                    capacity: None,
                    sections: Some(sections),
                })
                .unwrap(),
            )
            .await
            .unwrap();
        let input = NewShow {
            title: "Macbeth".into(),
            venue_id: Some(venue.id.to_string()),
            starts_at: "2099-06-01T18:30:00Z".into(),
            currency: "EUR".into(),
            ..NewShow::default()
        };
        self.bookings
            .create_show(Trace::new_root(), admin, self.schedule(input).unwrap())
            .await
            .unwrap()
    }

    async fn map(&self, show: &Show) -> SeatMap {
        self.bookings.seats(show.id).await.unwrap()
    }

    async fn choose(
        &self,
        actor: &Actor,
        show_id: Uuid,
        seats: &[Uuid],
    ) -> Result<Placed, BookingsError> {
        let request = PlaceBooking::try_from(BookingDraft {
            show_id: show_id.to_string(),
            seat_ids: Some(seats.iter().map(Uuid::to_string).collect()),
            payment: Some(Ok(PaymentSource::Wallet)),
            ..BookingDraft::default()
        })
        .unwrap();
        self.bookings.place(Trace::new_root(), actor, request).await
    }

    async fn confirm(&self, b: &bookings_api::Booking) {
        World::publish(&self.payments, &captured(b)).await;
        self.settle().await;
    }
}

/// The seat id of `row`/`number` in `section`.
fn seat(map: &SeatMap, section: &str, row: &str, number: &str) -> Uuid {
    map.seats
        .iter()
        .find(|s| s.section == section && s.row == row && s.number == number)
        .unwrap_or_else(|| panic!("no seat {section} {row}{number}"))
        .seat_id
}

/// Seats as `row-number`.
fn row_numbers(seats: &[bookings_api::BookedSeat]) -> Vec<String> {
    seats
        .iter()
        .map(|s| {
            format!(
                "{}-{}",
                s.row.as_deref().unwrap(),
                s.number.as_deref().unwrap()
            )
        })
        .collect()
}

fn statuses(map: &SeatMap) -> HashMap<SeatStatus, usize> {
    let mut out = HashMap::new();
    for s in &map.seats {
        *out.entry(s.status).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn a_show_at_a_seated_venue_has_the_venues_plan_zone_and_prices() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let show = w.seated_show(&admin).await;
    assert_eq!(show.seating, SeatingKind::Reserved);
    assert_eq!((show.capacity, show.price_cents), (15, 2_000));
    assert_eq!(show.time_zone, "Europe/London");
    assert_eq!(show.starts_at_local, "2099-06-01T19:30:00+01:00");
    let map = w.map(&show).await;
    assert_eq!(map.seats.len(), 16);
    assert_eq!(statuses(&map)[&SeatStatus::Unavailable], 1);
    assert_eq!(
        map.sections
            .iter()
            .map(|s| (s.name.as_str(), s.price_cents, s.seats_available))
            .collect::<Vec<_>>(),
        [("Stalls", 4_500, 12), ("Balcony", 2_000, 3)]
    );
    // A venue's later change leaves the show's plan as it was scheduled.
    let venue_id = show.venue_id.unwrap();
    w.bookings
        .change_venue(
            Trace::new_root(),
            &admin,
            venue_id,
            ChangeVenue {
                zone: Some(kernel::Zone::parse("America/New_York").unwrap()),
                seating: Some(bookings_api::Seating::GeneralAdmission {
                    capacity: bookings_api::Capacity::new(500).unwrap(),
                }),
                ..ChangeVenue::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(w.map(&show).await.seats.len(), 16);
    // ...while a corrected zone reaches it: the same instant, read in the new zone.
    let moved = w.bookings.show(show.id).await.unwrap();
    assert_eq!(moved.time_zone, "America/New_York");
    assert_eq!(
        (moved.starts_at, moved.starts_at_local.as_str()),
        (show.starts_at, "2099-06-01T14:30:00-04:00")
    );
    assert_eq!(w.bookings.venue(venue_id).await.unwrap().capacity, 500);
    assert_eq!(
        w.bookings
            .venues(PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn chosen_seats_are_held_sold_when_paid_and_released_when_the_payment_is_declined() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let show = w.seated_show(&admin).await;
    let map = w.map(&show).await;
    let (a3, a4, b1) = (
        seat(&map, "Stalls", "A", "3"),
        seat(&map, "Stalls", "A", "4"),
        seat(&map, "Stalls", "B", "1"),
    );
    let paid = w.choose(&ada, show.id, &[a4, a3]).await.unwrap().booking;
    assert_eq!((paid.seats, paid.amount_cents), (2, 9_000));
    let labels: Vec<String> = paid.booked_seats.iter().map(|s| s.label()).collect();
    assert_eq!(labels, ["Stalls, row A, seat 3", "Stalls, row A, seat 4"]);
    let unpaid = w.choose(&ada, show.id, &[b1]).await.unwrap().booking;
    let held = statuses(&w.map(&show).await);
    assert_eq!(held[&SeatStatus::Held], 3);

    w.confirm(&paid).await;
    World::publish(&w.payments, &declined(&unpaid, "card", "card_declined")).await;
    w.settle().await;
    let map = w.map(&show).await;
    let status_of = |id: Uuid| map.seats.iter().find(|s| s.seat_id == id).unwrap().status;
    assert_eq!(
        (status_of(a3), status_of(a4), status_of(b1)),
        (SeatStatus::Sold, SeatStatus::Sold, SeatStatus::Free)
    );
    let events = w.bookings_events().await;
    let confirmed: BookingConfirmed = events
        .iter()
        .find(|e| e.is::<BookingConfirmed>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        confirmed.seats.len(),
        2,
        "the confirmation carries the seats"
    );
    let cancelled: BookingCancelled = events
        .iter()
        .find(|e| e.is::<BookingCancelled>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(cancelled.seats[0].seat_id, Some(b1));
    // The released seat is for sale again.
    w.choose(&ada, show.id, &[b1]).await.unwrap();
}

#[tokio::test]
async fn taken_unavailable_unknown_and_other_shows_seats_are_refused_and_nothing_is_held() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let bob = w.add_user(&user("bob@example.com", Role::Customer));
    let show = w.seated_show(&admin).await;
    let other = w.seated_show(&admin).await;
    let map = w.map(&show).await;
    let (a1, a2) = (
        seat(&map, "Stalls", "A", "1"),
        seat(&map, "Stalls", "A", "2"),
    );
    w.choose(&ada, show.id, &[a1]).await.unwrap();

    let Err(BookingsError::SeatsTaken { seats, seat_ids }) =
        w.choose(&bob, show.id, &[a2, a1]).await
    else {
        panic!("a held seat was sold again");
    };
    assert_eq!(
        (seats, seat_ids),
        (vec!["Stalls, row A, seat 1".to_owned()], vec![a1])
    );
    let broken = seat(&map, "Balcony", "A", "2");
    assert!(matches!(
        w.choose(&bob, show.id, &[broken]).await,
        Err(BookingsError::SeatsTaken { .. })
    ));
    let elsewhere = seat(&w.map(&other).await, "Stalls", "A", "5");
    let Err(BookingsError::Validation(e)) =
        w.choose(&bob, show.id, &[elsewhere, Uuid::nil()]).await
    else {
        panic!("a seat of another show was accepted");
    };
    let messages: Vec<_> = e.iter().map(|f| f.message.clone()).collect();
    assert!(
        messages.iter().any(|m| m.contains("no seat has the id"))
            && messages.iter().any(|m| m.contains("another show")),
        "{messages:?}"
    );
    // Nothing of the refused requests was held.
    assert_eq!(statuses(&w.map(&show).await)[&SeatStatus::Held], 1);
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 1);
    // A general-admission show has no seat ids to choose.
    let ga = w.show(&admin, 10).await;
    assert!(matches!(
        w.choose(&bob, ga.id, &[a2]).await,
        Err(BookingsError::Validation(_))
    ));
}

#[tokio::test]
async fn best_available_keeps_a_party_together_in_the_best_section_and_quotes_before_it_holds() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let show = w.seated_show(&admin).await;
    let map = w.map(&show).await;
    // Row A's middle is taken: a party of three sits together in row B's middle.
    w.choose(&ada, show.id, &[seat(&map, "Stalls", "A", "3")])
        .await
        .unwrap();
    let three = SeatRequest::Count {
        seats: bookings_api::Seats::new(3).unwrap(),
    };
    let quote = w.bookings.quote(show.id, three.clone()).await.unwrap();
    assert_eq!(
        (quote.total_cents, quote.currency.as_str()),
        (13_500, "EUR")
    );
    let numbers: Vec<_> = quote
        .seats
        .iter()
        .map(|s| {
            format!(
                "{}{}",
                s.row.as_deref().unwrap(),
                s.number.as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(numbers, ["A4", "A5", "A6"]);
    assert_eq!(
        statuses(&w.map(&show).await)[&SeatStatus::Held],
        1,
        "a quote holds nothing"
    );
    let placed = w.place(&ada, show.id, 3).await.unwrap().booking;
    assert_eq!(placed.booked_seats, quote.seats);
    // Eleven seats are left for sale; twelve cannot be had.
    let refused = w.place(&ada, show.id, 12).await.unwrap_err();
    assert!(matches!(
        refused,
        BookingsError::NotEnoughSeats { available: 11 }
    ));
    assert_eq!(refused.to_string(), "only 11 seats left");
    assert_eq!(
        BookingsError::NotEnoughSeats { available: 1 }.to_string(),
        "only 1 seat left"
    );
}

#[tokio::test]
async fn customers_racing_for_the_same_seats_never_share_one() {
    let w = Arc::new(World::new(Duration::from_secs(30)).await);
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let show = w.seated_show(&admin).await;
    let map = w.map(&show).await;
    let front: Vec<Uuid> = map.seats.iter().take(6).map(|s| s.seat_id).collect();
    let mut tasks = Vec::new();
    for i in 0..30usize {
        let w = w.clone();
        let actor = w.add_user(&user(&format!("c{i}@example.com"), Role::Customer));
        let pair = [front[i % 6], front[(i + 1) % 6]];
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                w.place(&actor, show.id, 2).await
            } else {
                w.choose(&actor, show.id, &pair).await
            }
        }));
    }
    let mut holders: HashMap<Uuid, Uuid> = HashMap::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(p) => {
                for s in &p.booking.booked_seats {
                    let previous = holders.insert(s.seat_id.unwrap(), p.booking.id);
                    assert!(previous.is_none(), "seat {s:?} in two bookings");
                }
            }
            Err(BookingsError::SeatsTaken { .. } | BookingsError::NotEnoughSeats { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let map = w.map(&show).await;
    assert_eq!(statuses(&map)[&SeatStatus::Held], holders.len());
    assert_eq!(
        w.bookings.show(show.id).await.unwrap().seats_taken as usize,
        holders.len()
    );
}

async fn tickets(w: &World, actor: &Actor, booking: Uuid) -> Vec<Ticket> {
    w.bookings.tickets(actor, booking).await.unwrap()
}

fn check_in(code: &str, show: Uuid) -> CheckIn {
    CheckIn {
        code: TicketCode::parse(code).unwrap(),
        show_id: show,
    }
}

#[tokio::test]
async fn a_paid_booking_has_a_signed_ticket_per_seat_that_admits_once() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let door = w.add_user(&user("door@example.com", Role::Door));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let show = w.seated_show(&admin).await;
    let other = w.seated_show(&admin).await;
    let b = w.place(&ada, show.id, 2).await.unwrap().booking;
    assert!(matches!(
        w.bookings.tickets(&ada, b.id).await,
        Err(BookingsError::TicketsNotIssued)
    ));
    w.confirm(&b).await;
    let issued = tickets(&w, &ada, b.id).await;
    assert_eq!(issued.len(), 2);

    // A customer cannot work the door; the door cannot admit a ticket for another show.
    let code = &issued[0].code;
    assert!(matches!(
        w.bookings
            .check_in(Trace::new_root(), &ada, check_in(code, show.id))
            .await,
        Err(BookingsError::Forbidden)
    ));
    assert!(matches!(
        w.bookings
            .check_in(Trace::new_root(), &door, check_in(code, other.id))
            .await,
        Err(BookingsError::TicketWrongShow(_))
    ));
    let admitted = w
        .bookings
        .check_in(Trace::new_root(), &door, check_in(code, show.id))
        .await
        .unwrap();
    assert_eq!(admitted.seat, issued[0].seat);
    let Err(BookingsError::TicketAlreadyAdmitted { at, .. }) = w
        .bookings
        .check_in(Trace::new_root(), &admin, check_in(code, show.id))
        .await
    else {
        panic!("admitted twice");
    };
    assert_eq!(at, admitted.admitted_at);
    // A code whose signature was altered is refused, as is a valid id with a forged signature.
    let forged = TicketCode::new(issued[1].ticket_id, [0; 8]).to_string();
    assert!(matches!(
        w.bookings
            .check_in(Trace::new_root(), &door, check_in(&forged, show.id))
            .await,
        Err(BookingsError::TicketInvalid)
    ));
    let event: TicketAdmitted = w
        .bookings_events()
        .await
        .iter()
        .find(|e| e.is::<TicketAdmitted>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(event.ticket_id, issued[0].ticket_id);
    let at_door = w.bookings.admissions(&door, show.id, 10).await.unwrap();
    assert_eq!(at_door.len(), 1);

    assert!(matches!(
        w.bookings.admissions(&door, kernel::new_id(), 10).await,
        Err(BookingsError::ShowNotFound)
    ));

    // A booking someone has already come in on is not cancelled (nor refunded)...
    assert!(matches!(
        w.bookings.cancel(Trace::new_root(), &ada, b.id).await,
        Err(BookingsError::BookingAdmitted)
    ));
    // ...while a cancelled booking's tickets admit no one.
    let later = w.place(&ada, show.id, 1).await.unwrap().booking;
    w.confirm(&later).await;
    let unused = tickets(&w, &ada, later.id).await.remove(0).code;
    w.bookings
        .cancel(Trace::new_root(), &ada, later.id)
        .await
        .unwrap();
    assert!(matches!(
        w.bookings
            .check_in(Trace::new_root(), &door, check_in(&unused, show.id))
            .await,
        Err(BookingsError::TicketCancelled)
    ));
}

#[tokio::test]
async fn two_doors_scanning_one_ticket_at_once_admit_it_once() {
    let w = Arc::new(World::new(Duration::from_secs(30)).await);
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let b = w.place(&ada, show.id, 1).await.unwrap().booking;
    w.confirm(&b).await;
    let code = tickets(&w, &ada, b.id).await.remove(0).code;
    let doors: Vec<_> = (0..8)
        .map(|_| {
            let (w, code) = (w.clone(), code.clone());
            tokio::spawn(async move {
                w.bookings
                    .check_in(Trace::new_root(), &admin, check_in(&code, show.id))
                    .await
            })
        })
        .collect();
    let mut admitted = 0;
    for d in doors {
        match d.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(BookingsError::TicketAlreadyAdmitted { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(admitted, 1);
}

#[tokio::test]
async fn bookings_from_before_seat_plans_are_given_their_admissions_once() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let b = w.place(&ada, show.id, 3).await.unwrap().booking;
    w.confirm(&b).await;
    // Make the folder what the release before seat plans left: no booked seats, no record.
    w.rewrite(&[
        "DELETE FROM booked_seats",
        "DELETE FROM upgrades WHERE name = 'booked-seats'",
    ])
    .await;
    let reopened = Bookings::open(
        &w.platform,
        w.directory.clone(),
        w.purses.clone(),
        BookingsConfig::default(),
    )
    .await
    .unwrap();
    let issued = reopened.tickets(&ada, b.id).await.unwrap();
    assert_eq!(issued.len(), 3);
    assert!(issued.iter().all(|t| t.seat.label() == "General admission"));
    assert_eq!(
        issued.iter().map(|t| t.seat.price_cents).sum::<i64>(),
        b.amount_cents
    );
    // The code of a ticket made by the upgrade opens the door like any other.
    reopened
        .check_in(
            Trace::new_root(),
            &admin,
            check_in(&issued[0].code, show.id),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn best_available_reads_past_the_first_slice_of_free_seats_to_the_first_row_with_a_run() {
    // Twenty-one rows of forty; in the first twenty every third seat is sold, so they hold 540
    // free seats (more than one slice of 512, the nineteenth row across its end) and no three
    // side by side. The first run of three is in the twenty-first row, nearest its middle.
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let rows = (1..=21)
        .map(|r| NewRow {
            label: r.to_string(),
            seats: Some(RowSeats::Count(40)),
            unavailable: Vec::new(),
        })
        .collect();
    let show = w
        .show_with_plan(
            &admin,
            vec![NewSection {
                name: "Floor".into(),
                price_cents: Some(1_000),
                rows,
            }],
        )
        .await;
    let map = w.map(&show).await;
    for row in 1..=20 {
        let every_third: Vec<Uuid> = (1..=13)
            .map(|k| seat(&map, "Floor", &row.to_string(), &(3 * k).to_string()))
            .collect();
        w.choose(&ada, show.id, &every_third).await.unwrap();
    }
    let three = SeatRequest::Count {
        seats: bookings_api::Seats::new(3).unwrap(),
    };
    let quote = w.bookings.quote(show.id, three).await.unwrap();
    let numbers = row_numbers(&quote.seats);
    assert_eq!(numbers, ["21-19", "21-20", "21-21"]);
    // The booking holds what the quote said; a party of two finds the first row's pair.
    let placed = w.place(&ada, show.id, 3).await.unwrap().booking;
    assert_eq!(placed.booked_seats, quote.seats);
    let two = w.place(&ada, show.id, 2).await.unwrap().booking;
    let numbers = row_numbers(&two.booked_seats);
    // Row 1's pairs are 1-2, 4-5, …, 37-38 (and 40 alone); nearest its middle: 19-20 or 22-23,
    // the first of the two.
    assert_eq!(numbers, ["1-19", "1-20"]);
}
