//! The bookings module's subscriptions: email copies kept fresh from the users stream, and the
//! saga driven by the payments stream.

use kernel::{Envelope, Handler, HandlerError, Message, WriteTx};
use payments_api::{PaymentCaptured, PaymentDeclined, PaymentRefunded, PaymentVoided};
use users_api::UserEmailChanged;

use crate::{saga, store};

/// Refreshes the email copied into bookings when a user changes it.
pub(crate) struct UsersHandler;

impl Handler for UsersHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[UserEmailChanged::TYPE]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        let changed: UserEmailChanged = event.decode()?;
        let refreshed = store::refresh_email(
            tx.conn(),
            changed.user_id,
            &changed.new_email,
            changed.email_version,
        )
        .await?;
        tracing::debug!(user_id = %changed.user_id, refreshed, "email copies refreshed");
        Ok(())
    }
}

/// Moves each booking's saga on as its payment settles.
pub(crate) struct PaymentsHandler;

impl Handler for PaymentsHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[
            PaymentCaptured::TYPE,
            PaymentDeclined::TYPE,
            PaymentRefunded::TYPE,
            PaymentVoided::TYPE,
        ]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            PaymentCaptured::TYPE => saga::on_captured(tx, event.decode()?, event).await?,
            PaymentDeclined::TYPE => saga::on_declined(tx, event.decode()?, event).await?,
            PaymentRefunded::TYPE => saga::on_refunded(tx, event.decode()?, event).await?,
            PaymentVoided::TYPE => saga::on_voided(tx, event.decode()?, event).await?,
            _ => {}
        }
        Ok(())
    }
}
