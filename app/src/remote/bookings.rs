//! The bookings module's wire: [`RemoteBookings`] calls it in another process; [`serve`] answers
//! for the module hosted here.

use async_trait::async_trait;
use bookings_api::{
    Booking, BookingFilter, BookingPage, BookingsApi, BookingsError, ChangeShow, PlaceBooking,
    Placed, Saga, ScheduleShow, Show, ShowFilter, ShowPage,
};
use kernel::Trace;
use users_api::Actor;
use uuid::Uuid;

use super::{Fault, Remote, answer};

/// The bookings module of another process.
pub(crate) struct RemoteBookings(pub(crate) Remote);

#[async_trait]
impl BookingsApi for RemoteBookings {
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
        other => Err(Fault::Unknown(other.to_owned())),
    }
}
