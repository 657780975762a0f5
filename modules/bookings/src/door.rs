//! The door: a confirmed booking's tickets with their signed codes, and the check-in that admits
//! each ticket once, refusing with a reason a code that is forged or altered, a ticket of a
//! cancelled or unpaid booking, of another show, or one already admitted.

use bookings_api::{Admission, BookingStatus, BookingsError, CheckIn, Ticket, TicketAdmitted};
use kernel::Trace;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    service::Bookings,
    store::{self, TicketRow},
};

fn admission(row: TicketRow) -> Option<Admission> {
    Some(Admission {
        ticket_id: row.ticket_id,
        booking_id: row.booking_id,
        show_id: row.show_id,
        show_title: row.show_title,
        seat: row.seat,
        admitted_at: row.admitted_at?,
    })
}

impl Bookings {
    /// A confirmed booking's tickets (its customer's, or any for an admin).
    pub(crate) async fn tickets_for(
        &self,
        actor: &Actor,
        booking_id: Uuid,
    ) -> Result<Vec<Ticket>, BookingsError> {
        let mut snapshot = self.db.reader()?.begin().await.map_err(store::storage)?;
        let booking = match store::booking(&mut *snapshot, booking_id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => row.booking,
            _ => return Err(BookingsError::BookingNotFound),
        };
        match booking.status {
            BookingStatus::Pending => return Err(BookingsError::TicketsNotIssued),
            BookingStatus::Cancelled => return Err(BookingsError::TicketCancelled),
            BookingStatus::Confirmed => {}
        }
        let rows = store::tickets_of(&mut *snapshot, booking_id).await?;
        snapshot.rollback().await.map_err(store::storage)?;
        Ok(rows
            .into_iter()
            .map(|t| {
                let code = self.signer.sign(t.ticket_id);
                Ticket {
                    ticket_id: t.ticket_id,
                    booking_id: t.booking_id,
                    show_id: t.show_id,
                    seat: t.seat,
                    code: code.to_string(),
                    code_grouped: code.grouped(),
                    admitted_at: t.admitted_at,
                }
            })
            .collect())
    }

    /// Admits the ticket `input` presents, once.
    pub(crate) async fn check_in_as(
        &self,
        trace: Trace,
        actor: &Actor,
        input: CheckIn,
    ) -> Result<Admission, BookingsError> {
        if !actor.works_the_door() {
            return Err(BookingsError::Forbidden);
        }
        // A code this server did not sign names no ticket, whatever id it carries.
        if !self.signer.verify(&input.code) {
            return Err(BookingsError::TicketInvalid);
        }
        let mut tx = self.db.write(trace).await?;
        let ticket = store::ticket(tx.conn(), input.code.ticket_id())
            .await?
            .ok_or(BookingsError::TicketInvalid)?;
        if input.show_id != ticket.show_id {
            let show = store::show(tx.conn(), ticket.show_id)
                .await?
                .ok_or(BookingsError::TicketInvalid)?;
            // Said as the door reads a time: in the venue's zone, named.
            let when =
                store::zone_of(&show.time_zone).format(show.starts_at, "%a %-d %b %Y · %H:%M %Z");
            return Err(BookingsError::TicketWrongShow(format!(
                "{} at {}, {when}",
                show.title, show.venue
            )));
        }
        if ticket.released || ticket.booking_status == BookingStatus::Cancelled.as_str() {
            return Err(BookingsError::TicketCancelled);
        }
        if ticket.booking_status != BookingStatus::Confirmed.as_str() {
            return Err(BookingsError::TicketNotPaid);
        }
        if let Some(at) = ticket.admitted_at {
            return Err(BookingsError::TicketAlreadyAdmitted {
                at,
                seat: ticket.seat.label(),
            });
        }
        let now = tx.now();
        if !store::admit(tx.conn(), ticket.ticket_id, actor.user_id, now).await? {
            // Not reachable behind the single writer (the ticket was read unadmitted in this
            // transaction); should that change, the guarded update still admits once.
            return Err(BookingsError::TicketInvalid);
        }
        tx.emit(&TicketAdmitted {
            ticket_id: ticket.ticket_id,
            booking_id: ticket.booking_id,
            show_id: ticket.show_id,
            seat: ticket.seat.clone(),
            admitted_by: actor.user_id,
            admitted_at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(ticket_id = %ticket.ticket_id, show_id = %ticket.show_id, "ticket admitted");
        admission(TicketRow {
            admitted_at: Some(now),
            ..ticket
        })
        .ok_or(BookingsError::TicketInvalid)
    }

    /// The tickets admitted at a show's door, latest first.
    pub(crate) async fn admissions_at(
        &self,
        actor: &Actor,
        show_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Admission>, BookingsError> {
        if !actor.works_the_door() {
            return Err(BookingsError::Forbidden);
        }
        store::show(self.db.reader()?, show_id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        let rows = store::admissions(self.db.reader()?, show_id, limit.clamp(1, 200)).await?;
        Ok(rows.into_iter().filter_map(admission).collect())
    }
}
