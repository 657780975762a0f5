//! Venues: opening and changing them (admins), and reading them. What a show takes from its
//! venue when it is scheduled is `scheduling.rs`.

use bookings_api::{
    BookingsError, ChangeVenue, OpenVenue, ShowUpdated, Venue, VenueChanged, VenueOpened, VenuePage,
};
use kernel::{Cursor, PageRequest, Trace, new_id};
use users_api::Actor;
use uuid::Uuid;

use crate::{service::Bookings, store};

impl Bookings {
    /// Opens a venue (admins).
    pub(crate) async fn open_venue_as(
        &self,
        trace: Trace,
        actor: &Actor,
        input: OpenVenue,
    ) -> Result<Venue, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let mut tx = self.db.write(trace).await?;
        if store::venue_named(tx.conn(), input.name.as_str())
            .await?
            .is_some()
        {
            return Err(BookingsError::VenueNameTaken(input.name.into_string()));
        }
        let now = tx.now();
        let venue = store::venue_view(
            new_id(),
            input.name.into_string(),
            input.zone.name().to_owned(),
            &input.seating,
            now,
            now,
        );
        store::insert_venue(tx.conn(), &venue, &input.seating).await?;
        tx.emit(&VenueOpened {
            venue_id: venue.id,
            name: venue.name.clone(),
            time_zone: venue.time_zone.clone(),
            seating: venue.seating,
            capacity: venue.capacity,
        })
        .await?;
        tx.commit().await?;
        Ok(venue)
    }

    /// Changes a venue (admins): its shows on sale take a new name or zone; they keep the plan
    /// they were scheduled with.
    pub(crate) async fn change_venue_as(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeVenue,
    ) -> Result<Venue, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let mut tx = self.db.write(trace).await?;
        let (venue, seating) = store::venue(tx.conn(), id)
            .await?
            .ok_or(BookingsError::VenueNotFound)?;
        if let Some(name) = &change.name
            && let Some(other) = store::venue_named(tx.conn(), name.as_str()).await?
            && other != id
        {
            return Err(BookingsError::VenueNameTaken(name.as_str().to_owned()));
        }
        let seating = change.seating.unwrap_or(seating);
        let updated = store::venue_view(
            id,
            change
                .name
                .map_or_else(|| venue.name.clone(), |n| n.into_string()),
            change
                .zone
                .map_or_else(|| venue.time_zone.clone(), |z| z.name().to_owned()),
            &seating,
            venue.created_at,
            tx.now(),
        );
        store::update_venue(tx.conn(), &updated, &seating).await?;
        // A corrected name or zone reaches the venue's shows still on sale (their start stays
        // the instant it was); a new plan applies only to shows scheduled from now on.
        if updated.name != venue.name || updated.time_zone != venue.time_zone {
            let zone = store::zone_of(&updated.time_zone);
            let now = tx.now();
            for mut show in store::scheduled_shows_at(tx.conn(), id).await? {
                show.venue = updated.name.clone();
                show.time_zone = updated.time_zone.clone();
                show.starts_at_local = zone.rfc3339(show.starts_at);
                show.updated_at = now;
                store::update_show(tx.conn(), &show).await?;
                tx.emit(&ShowUpdated {
                    show_id: show.id,
                    title: show.title.clone(),
                    venue: show.venue.clone(),
                    time_zone: show.time_zone.clone(),
                    starts_at: show.starts_at,
                    capacity: show.capacity,
                    price_cents: show.price_cents,
                })
                .await?;
            }
        }
        tx.emit(&VenueChanged {
            venue_id: id,
            name: updated.name.clone(),
            time_zone: updated.time_zone.clone(),
            seating: updated.seating,
            capacity: updated.capacity,
        })
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// One venue.
    pub(crate) async fn venue_by_id(&self, id: Uuid) -> Result<Venue, BookingsError> {
        store::venue(self.db.reader()?, id)
            .await?
            .map(|(v, _)| v)
            .ok_or(BookingsError::VenueNotFound)
    }

    /// A page of venues, oldest first.
    pub(crate) async fn venue_page(&self, page: PageRequest) -> Result<VenuePage, BookingsError> {
        let items = store::list_venues(self.db.reader()?, page).await?;
        let next_cursor = Cursor::after_page(&items, page.limit, |v| (v.created_at, v.id));
        Ok(VenuePage { items, next_cursor })
    }
}
