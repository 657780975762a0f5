//! Ticket codes: signed with a secret only this module's database holds (made on the first
//! start), so that a code is checked at the door without trusting whoever shows it, and cannot
//! be forged or altered without the key.

use bookings_api::{BookingsError, SIGNATURE_BYTES, TicketCode};
use hmac::{Hmac, Mac};
use kernel::ModuleDb;
use sha2::Sha256;
use uuid::Uuid;

use crate::store;

/// What is signed besides the ticket id: the code's purpose and format, so a signature made for
/// anything else never verifies as a ticket.
const CONTEXT: &[u8] = b"boxoffice ticket code v1:";

/// Signs and checks ticket codes.
#[derive(Clone)]
pub(crate) struct Signer {
    key: [u8; 32],
}

impl Signer {
    /// The signer of this data folder: its key, made and stored on the first start.
    pub(crate) async fn open(db: &ModuleDb) -> Result<Signer, BookingsError> {
        if let Some(key) = store::ticket_key(db.reader()?).await? {
            return Ok(Signer { key });
        }
        // The thread's generator is a CSPRNG seeded from the operating system.
        let fresh: [u8; 32] = rand::random();
        let mut tx = db.write(kernel::Trace::new_root()).await?;
        let now = tx.now();
        // Two processes opening one new folder at once both end with the first key stored.
        let key = store::keep_ticket_key(tx.conn(), &fresh, now).await?;
        tx.commit().await?;
        Ok(Signer { key })
    }

    fn mac(&self, ticket_id: Uuid) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(ticket_id.as_bytes());
        mac
    }

    /// The code of `ticket_id`.
    pub(crate) fn sign(&self, ticket_id: Uuid) -> TicketCode {
        let full = self.mac(ticket_id).finalize().into_bytes();
        let mut signature = [0u8; SIGNATURE_BYTES];
        signature.copy_from_slice(&full[..SIGNATURE_BYTES]);
        TicketCode::new(ticket_id, signature)
    }

    /// True when `code` was signed with this key (compared in constant time).
    pub(crate) fn verify(&self, code: &TicketCode) -> bool {
        self.mac(code.ticket_id())
            .verify_truncated_left(code.signature())
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_code_verifies_and_an_altered_or_foreign_one_does_not() {
        let signer = Signer { key: [7; 32] };
        let other = Signer { key: [8; 32] };
        let id = kernel::new_id();
        let code = signer.sign(id);
        assert!(signer.verify(&code));
        assert!(!other.verify(&code));
        let mut forged = *code.signature();
        forged[0] ^= 1;
        assert!(!signer.verify(&TicketCode::new(id, forged)));
        // Another ticket's signature does not open this one.
        let stolen = signer.sign(kernel::new_id());
        assert!(!signer.verify(&TicketCode::new(id, *stolen.signature())));
    }
}
