#!/usr/bin/env python3
"""Makes the upgrade test's data folder with a *previous release* of boxoffice.

    python3 tests/upgrade/make_fixture.py PATH/TO/OLD/boxoffice OUT_FOLDER OLD_COMMIT

It starts the old binary on a new data folder (adjustable clock, no demo data), drives it through
its public API into bookings in every state (pending, confirmed, and cancelled for each reason:
declined, timed out, by the customer, by an admin, with the show; refunded and late-refunded
payments; an email change), waits until every subscription has caught up, records what the old
read model says (`expected.json`), stops the server gracefully and copies its SQLite files
(checkpointed, so no -wal file is needed). The test `an_upgraded_data_folder_...` in
tests/api/upgrade.rs opens a copy with the current code.

Standard library only. Nothing here runs in CI: the folder it makes is committed.
"""

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ADMIN = ("admin@fixture.example", "fixture admin password")
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method, path, body=None, headers=None, expect=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if expect is not None and status != expect:
            raise SystemExit(f"{method} {path}: {status} (wanted {expect}): {text}")
        return json.loads(text) if text else None


def wait_until(what, check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    binary, out, commit = sys.argv[1], sys.argv[2], sys.argv[3]
    data = tempfile.mkdtemp(prefix="boxoffice-fixture-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, BOXOFFICE_DATA_DIR=data)

    subprocess.run(
        [binary, "users", "create-admin", "--email", ADMIN[0], "--name", "Fixture Admin", "--password", ADMIN[1]],
        env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [binary, "serve", "--bind", f"127.0.0.1:{port}", "--no-demo", "--adjustable-clock",
         "--payment-timeout", "30", "--gateway-late-answer", "120"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until("the server", lambda: _answers(base))
        admin = Client(base)
        admin.call("POST", "/api/session", {"email": ADMIN[0], "password": ADMIN[1]}, expect=204)

        def show(title, capacity, price):
            return admin.call("POST", "/api/shows", {
                "title": title, "venue": "Fixture Hall", "starts_at": "2099-06-01T19:00:00Z",
                "capacity": capacity, "price_cents": price, "currency": "EUR"}, expect=201)["id"]

        night, called_off = show("Fixture Night", 100, 2_500), show("Called Off", 40, 1_000)

        def customer(email):
            c = Client(base)
            user = c.call("POST", "/api/users", {"email": email, "full_name": email.split("@")[0].title(),
                                                  "password": PASSWORD}, expect=201)
            c.call("POST", "/api/session", {"email": email, "password": PASSWORD}, expect=204)
            return c, user

        ada, ada_user = customer("ada@fixture.example")
        bob, _ = customer("bob@fixture.example")
        ada.call("POST", "/api/wallet/deposits", {"amount_cents": 50_000}, expect=201)

        def card(number):
            return {"type": "card", "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}

        def book(client, show_id, seats, payment, key=None):
            headers = {"Idempotency-Key": key} if key else None
            return client.call("POST", "/api/bookings", {"show_id": show_id, "seats": seats, "payment": payment},
                               headers=headers, expect=202)["id"]

        def status(client, booking):
            return client.call("GET", f"/api/bookings/{booking}", expect=200)["status"]

        def settled(client, booking, wanted):
            wait_until(f"booking {booking} {wanted}", lambda: status(client, booking) == wanted)

        def clock(seconds):
            admin.call("POST", "/api/admin/clock", {"advance_seconds": seconds}, expect=200)

        wallet = book(ada, night, 2, {"type": "wallet"}, key="fixture-wallet")
        settled(ada, wallet, "confirmed")
        by_card = book(ada, night, 1, card("4242424242424242"))
        settled(ada, by_card, "confirmed")
        declined = book(bob, night, 1, card("4000000000000002"))
        settled(bob, declined, "cancelled")
        no_funds = book(bob, night, 3, card("4000000000009995"))
        settled(bob, no_funds, "cancelled")
        late = book(ada, night, 2, card("4000000000003220"))
        clock(31)
        settled(ada, late, "cancelled")
        clock(121)  # the gateway answers late: captured, then refunded (compensation's compensation)
        wait_until("the late refund", lambda: ada.call("GET", f"/api/bookings/{late}/saga")["state"] == "refunded")
        customer_cancel = book(ada, night, 3, {"type": "wallet"})
        settled(ada, customer_cancel, "confirmed")
        ada.call("POST", f"/api/bookings/{customer_cancel}/cancel", expect=202)
        admin_cancel = book(bob, night, 1, card("4242424242424242"))
        settled(bob, admin_cancel, "confirmed")
        admin.call("POST", f"/api/bookings/{admin_cancel}/cancel", expect=202)
        with_show = [book(bob, called_off, 2, card("4242424242424242")), book(ada, called_off, 1, {"type": "wallet"})]
        for b in with_show:
            settled(admin, b, "confirmed")
        admin.call("POST", f"/api/shows/{called_off}/cancel", expect=200)
        ada.call("PATCH", f"/api/users/{ada_user['id']}", {"email": "ada.lovelace@fixture.example"}, expect=200)
        pending = book(bob, night, 4, card("4000000000003220"))

        def caught_up():
            subs = admin.call("GET", "/api/admin/subscriptions", expect=200)
            return all(s["lag"] == 0 and s["parked"] == 0 for s in subs) and subs

        wait_until("every subscription to catch up", caught_up)
        wait_until("the refunds", lambda: all(
            admin.call("GET", f"/api/bookings/{b}/saga")["state"] == "refunded"
            for b in [customer_cancel, admin_cancel, *with_show]))
        wait_until("every subscription to catch up", caught_up)
        expected = {
            "made_by": f"boxoffice at commit {commit}",
            "bookings": {
                "pending": [pending], "confirmed": [wallet, by_card],
                "cancelled": [declined, no_funds, late, customer_cancel, admin_cancel, *with_show],
            },
            "shows": {"night": night, "called_off": called_off},
            "customers": {"ada": "ada.lovelace@fixture.example", "bob": "bob@fixture.example",
                          "password": PASSWORD},
            "admin": {"email": ADMIN[0], "password": ADMIN[1]},
            "dashboard": admin.call("GET", "/api/dashboard", expect=200),
            "show_sales": admin.call("GET", "/api/reports/shows", expect=200),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(data)):
        if not name.endswith(".db"):
            continue
        db = sqlite3.connect(os.path.join(data, name))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("VACUUM")
        db.close()
        shutil.copy(os.path.join(data, name), os.path.join(out, name))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.rmtree(data)
    print(f"wrote {out}")


def _answers(base):
    try:
        with urllib.request.urlopen(base + "/health") as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


if __name__ == "__main__":
    main()
