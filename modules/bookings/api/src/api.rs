//! The bookings module's API as a trait: what the application may ask of it, answered by the
//! module in this process or by a client of the process that hosts it.

use async_trait::async_trait;
use kernel::{PageRequest, Trace};
use users_api::Actor;
use uuid::Uuid;

use crate::{
    Admission, Booking, BookingFilter, BookingPage, BookingsError, ChangeShow, ChangeVenue,
    CheckIn, OpenVenue, PlaceBooking, Placed, Quote, Saga, ScheduleShow, SeatMap, SeatRequest,
    Show, ShowFilter, ShowPage, Ticket, Venue, VenuePage,
};

/// Venues, shows, seats, bookings and tickets. Commands take the trace they run under and the
/// [`Actor`] they are checked against.
#[async_trait]
pub trait BookingsApi: Send + Sync {
    /// Opens a venue (admins only).
    async fn open_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        input: OpenVenue,
    ) -> Result<Venue, BookingsError>;

    /// Changes a venue (admins only); shows already scheduled keep their plan.
    async fn change_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeVenue,
    ) -> Result<Venue, BookingsError>;

    /// One venue with its plan.
    async fn venue(&self, id: Uuid) -> Result<Venue, BookingsError>;

    /// A page of venues, oldest first.
    async fn venues(&self, page: PageRequest) -> Result<VenuePage, BookingsError>;

    /// Puts a show on sale (admins only).
    async fn create_show(
        &self,
        trace: Trace,
        actor: &Actor,
        input: ScheduleShow,
    ) -> Result<Show, BookingsError>;

    /// Changes a show (admins only); the capacity never goes below the seats taken.
    async fn update_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeShow,
    ) -> Result<Show, BookingsError>;

    /// Cancels a show and every booking of it (admins only).
    async fn cancel_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Show, BookingsError>;

    /// One show.
    async fn show(&self, id: Uuid) -> Result<Show, BookingsError>;

    /// The shows with these ids that exist.
    async fn shows_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Show>, BookingsError>;

    /// A page of shows, soonest first.
    async fn shows(&self, filter: ShowFilter) -> Result<ShowPage, BookingsError>;

    /// Every seat of a show and where it stands.
    async fn seats(&self, show_id: Uuid) -> Result<SeatMap, BookingsError>;

    /// What these seats would cost now (best available resolved to the seats it would take).
    async fn quote(&self, show_id: Uuid, seats: SeatRequest) -> Result<Quote, BookingsError>;

    /// Holds the seats and asks payments for the money, in one transaction.
    async fn place(
        &self,
        trace: Trace,
        actor: &Actor,
        request: PlaceBooking,
    ) -> Result<Placed, BookingsError>;

    /// One booking, as `actor` may see it.
    async fn booking(&self, actor: &Actor, id: Uuid) -> Result<Booking, BookingsError>;

    /// A page of bookings, newest first (a customer's own only).
    async fn bookings(
        &self,
        actor: &Actor,
        filter: BookingFilter,
    ) -> Result<BookingPage, BookingsError>;

    /// Cancels a booking (its customer before the show starts, or an admin).
    async fn cancel(&self, trace: Trace, actor: &Actor, id: Uuid)
    -> Result<Booking, BookingsError>;

    /// A booking's saga: its state and every step.
    async fn saga(&self, actor: &Actor, id: Uuid) -> Result<Saga, BookingsError>;

    /// A confirmed booking's tickets, one per seat, with their signed codes.
    async fn tickets(&self, actor: &Actor, booking_id: Uuid) -> Result<Vec<Ticket>, BookingsError>;

    /// Admits a ticket at the door, once (admins and door staff).
    async fn check_in(
        &self,
        trace: Trace,
        actor: &Actor,
        input: CheckIn,
    ) -> Result<Admission, BookingsError>;

    /// The tickets admitted at a show's door, latest first (admins and door staff).
    async fn admissions(
        &self,
        actor: &Actor,
        show_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Admission>, BookingsError>;
}
