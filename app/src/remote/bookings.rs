//! The bookings module's wire: [`RemoteBookings`] calls it in another process; [`serve`] answers
//! for the module hosted here.

use async_trait::async_trait;
use bookings_api::{
    Admission, Booking, BookingFilter, BookingPage, BookingsApi, BookingsError, ChangeShow,
    ChangeVenue, CheckIn, OpenVenue, PlaceBooking, Placed, Quote, Saga, ScheduleShow, SeatMap,
    SeatRequest, Show, ShowFilter, ShowPage, Ticket, Venue, VenuePage,
};
use kernel::{PageRequest, Trace};
use users_api::Actor;
use uuid::Uuid;

use super::{Fault, Remote, answer};

/// The bookings module of another process.
pub(crate) struct RemoteBookings(pub(crate) Remote);

#[async_trait]
impl BookingsApi for RemoteBookings {
    async fn open_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        input: OpenVenue,
    ) -> Result<Venue, BookingsError> {
        self.0.call("open_venue", &(trace, actor, input)).await
    }

    async fn change_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeVenue,
    ) -> Result<Venue, BookingsError> {
        self.0
            .call("change_venue", &(trace, actor, id, change))
            .await
    }

    async fn venue(&self, id: Uuid) -> Result<Venue, BookingsError> {
        self.0.call("venue", &(id,)).await
    }

    async fn venues(&self, page: PageRequest) -> Result<VenuePage, BookingsError> {
        self.0.call("venues", &(page,)).await
    }

    async fn seats(&self, show_id: Uuid) -> Result<SeatMap, BookingsError> {
        self.0.call("seats", &(show_id,)).await
    }

    async fn quote(&self, show_id: Uuid, seats: SeatRequest) -> Result<Quote, BookingsError> {
        self.0.call("quote", &(show_id, seats)).await
    }

    async fn tickets(&self, actor: &Actor, booking_id: Uuid) -> Result<Vec<Ticket>, BookingsError> {
        self.0.call("tickets", &(actor, booking_id)).await
    }

    async fn check_in(
        &self,
        trace: Trace,
        actor: &Actor,
        input: CheckIn,
    ) -> Result<Admission, BookingsError> {
        self.0.call("check_in", &(trace, actor, input)).await
    }

    async fn admissions(
        &self,
        actor: &Actor,
        show_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Admission>, BookingsError> {
        self.0.call("admissions", &(actor, show_id, limit)).await
    }

    async fn create_show(
        &self,
        trace: Trace,
        actor: &Actor,
        input: ScheduleShow,
    ) -> Result<Show, BookingsError> {
        self.0.call("create_show", &(trace, actor, input)).await
    }

    async fn update_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeShow,
    ) -> Result<Show, BookingsError> {
        self.0
            .call("update_show", &(trace, actor, id, change))
            .await
    }

    async fn cancel_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Show, BookingsError> {
        self.0.call("cancel_show", &(trace, actor, id)).await
    }

    async fn show(&self, id: Uuid) -> Result<Show, BookingsError> {
        self.0.call("show", &(id,)).await
    }

    async fn shows_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Show>, BookingsError> {
        self.0.call("shows_by_ids", &(ids,)).await
    }

    async fn shows(&self, filter: ShowFilter) -> Result<ShowPage, BookingsError> {
        self.0.call("shows", &(filter,)).await
    }

    async fn place(
        &self,
        trace: Trace,
        actor: &Actor,
        request: PlaceBooking,
    ) -> Result<Placed, BookingsError> {
        self.0.call("place", &(trace, actor, request)).await
    }

    async fn booking(&self, actor: &Actor, id: Uuid) -> Result<Booking, BookingsError> {
        self.0.call("booking", &(actor, id)).await
    }

    async fn bookings(
        &self,
        actor: &Actor,
        filter: BookingFilter,
    ) -> Result<BookingPage, BookingsError> {
        self.0.call("bookings", &(actor, filter)).await
    }

    async fn cancel(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Booking, BookingsError> {
        self.0.call("cancel", &(trace, actor, id)).await
    }

    async fn saga(&self, actor: &Actor, id: Uuid) -> Result<Saga, BookingsError> {
        self.0.call("saga", &(actor, id)).await
    }
}

/// Answers one call to the bookings module hosted here.
pub(crate) async fn serve(
    api: &dyn BookingsApi,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, Fault> {
    match operation {
        "create_show" => {
            answer(
                body,
                |(trace, actor, input): (Trace, Actor, ScheduleShow)| async move {
                    api.create_show(trace, &actor, input).await
                },
            )
            .await
        }
        "update_show" => {
            answer(
                body,
                |(trace, actor, id, change): (Trace, Actor, Uuid, ChangeShow)| async move {
                    api.update_show(trace, &actor, id, change).await
                },
            )
            .await
        }
        "cancel_show" => {
            answer(
                body,
                |(trace, actor, id): (Trace, Actor, Uuid)| async move {
                    api.cancel_show(trace, &actor, id).await
                },
            )
            .await
        }
        "show" => answer(body, |(id,): (Uuid,)| api.show(id)).await,
        "shows_by_ids" => {
            answer(body, |(ids,): (Vec<Uuid>,)| async move {
                api.shows_by_ids(&ids).await
            })
            .await
        }
        "shows" => answer(body, |(filter,): (ShowFilter,)| api.shows(filter)).await,
        "place" => {
            answer(
                body,
                |(trace, actor, request): (Trace, Actor, PlaceBooking)| async move {
                    api.place(trace, &actor, request).await
                },
            )
            .await
        }
        "booking" => {
            answer(body, |(actor, id): (Actor, Uuid)| async move {
                api.booking(&actor, id).await
            })
            .await
        }
        "bookings" => {
            answer(body, |(actor, filter): (Actor, BookingFilter)| async move {
                api.bookings(&actor, filter).await
            })
            .await
        }
        "cancel" => {
            answer(
                body,
                |(trace, actor, id): (Trace, Actor, Uuid)| async move {
                    api.cancel(trace, &actor, id).await
                },
            )
            .await
        }
        "saga" => {
            answer(body, |(actor, id): (Actor, Uuid)| async move {
                api.saga(&actor, id).await
            })
            .await
        }
        "open_venue" => {
            answer(
                body,
                |(trace, actor, input): (Trace, Actor, OpenVenue)| async move {
                    api.open_venue(trace, &actor, input).await
                },
            )
            .await
        }
        "change_venue" => {
            answer(
                body,
                |(trace, actor, id, change): (Trace, Actor, Uuid, ChangeVenue)| async move {
                    api.change_venue(trace, &actor, id, change).await
                },
            )
            .await
        }
        "venue" => answer(body, |(id,): (Uuid,)| api.venue(id)).await,
        "venues" => answer(body, |(page,): (PageRequest,)| api.venues(page)).await,
        "seats" => answer(body, |(show_id,): (Uuid,)| api.seats(show_id)).await,
        "quote" => {
            answer(body, |(show_id, seats): (Uuid, SeatRequest)| {
                api.quote(show_id, seats)
            })
            .await
        }
        "tickets" => {
            answer(body, |(actor, id): (Actor, Uuid)| async move {
                api.tickets(&actor, id).await
            })
            .await
        }
        "check_in" => {
            answer(
                body,
                |(trace, actor, input): (Trace, Actor, CheckIn)| async move {
                    api.check_in(trace, &actor, input).await
                },
            )
            .await
        }
        "admissions" => {
            answer(
                body,
                |(actor, show_id, limit): (Actor, Uuid, u32)| async move {
                    api.admissions(&actor, show_id, limit).await
                },
            )
            .await
        }
        other => Err(Fault::Unknown(other.to_owned())),
    }
}
