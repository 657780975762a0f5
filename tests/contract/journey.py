"""A customer's journey through a client generated from the OpenAPI document alone.

Run by `tests/api/contract.rs` after `openapi-python-client generate`, with the generated
package (`boxoffice_client`) on PYTHONPATH:

    python3 journey.py BASE_URL EMAIL SHOW_ID

Signs up, logs in, deposits 50.00, books two seats from the wallet and waits for the booking to
be confirmed, using only the generated functions and models. Prints `booking <id>` at the end.
"""

import sys
import time
from uuid import UUID

from boxoffice_client import Client
from boxoffice_client.api.bookings import get, place
from boxoffice_client.api.payments import deposit, wallet
from boxoffice_client.api.users import log_in, register
from boxoffice_client.models import (
    Booking,
    BookingRequest,
    BookingStatus,
    Credentials,
    DepositRequest,
    NewUser,
    PaymentRequestWallet,
    PaymentRequestWalletType,
    User,
    Wallet,
)


def expect(response, status):
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content!r}")
    return response.parsed


def main(base_url: str, email: str, show_id: str) -> None:
    password = "generated clients rule"
    # One client for the whole journey: it keeps the session cookie the login sets.
    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    user = expect(
        register.sync_detailed(
            client=client,
            body=NewUser(email=email, full_name="Gene Rated", password=password),
        ),
        201,
    )
    assert isinstance(user, User) and user.email == email, user

    expect(log_in.sync_detailed(client=client, body=Credentials(email=email, password=password)), 204)

    expect(deposit.sync_detailed(client=client, body=DepositRequest(amount_cents=5000)), 201)

    booking = expect(
        place.sync_detailed(
            client=client,
            body=BookingRequest(
                show_id=UUID(show_id),
                seats=2,
                payment=PaymentRequestWallet(type_=PaymentRequestWalletType.WALLET),
            ),
            idempotency_key=f"journey-{email}",
        ),
        202,
    )
    assert isinstance(booking, Booking), booking

    deadline = time.monotonic() + 20
    while booking.status != BookingStatus.CONFIRMED:
        if booking.status == BookingStatus.CANCELLED or time.monotonic() > deadline:
            sys.exit(f"the booking did not confirm: {booking}")
        time.sleep(0.1)
        booking = expect(get.sync_detailed(booking.id, client=client), 200)

    money = expect(wallet.sync_detailed(client=client), 200)
    assert isinstance(money, Wallet) and money.balance_cents == 5000 - booking.amount_cents, money
    print(f"booking {booking.id}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
