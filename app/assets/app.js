// Boxoffice: progressive enhancement only; every page works without this script.
"use strict";

// Forms that ask before doing something that cannot be undone.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// After a refused submit, the first thing to fix has the focus: the first field in error, or the
// form's own error when no field has one.
{
  const first = document.querySelector("[aria-invalid=true]") || document.querySelector(".form-error");
  if (first) {
    if (!first.matches("input, select, textarea")) first.setAttribute("tabindex", "-1");
    first.focus();
  }
}

// Filters that apply as soon as they change.
document.querySelectorAll("[data-autosubmit]").forEach((el) => {
  el.addEventListener("change", () => el.form && el.form.submit());
});

// Follows a server-sent-event stream and calls `changed` for every event (whatever its name) with
// the event's id (`bookings:42`: its stream and position) and its data, once right after
// connecting with neither (nothing committed since the page was rendered is missed), and again
// after each reconnection.
function follow(source, changed) {
  let backoff = 1000;
  const connect = async () => {
    try {
      const response = await fetch(source, { headers: { Accept: "text/event-stream" } });
      if (!response.ok || !response.body) throw new Error("no stream");
      backoff = 1000;
      changed();
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n");
          if (lines.some((line) => line.startsWith("data:"))) {
            const id = lines.find((line) => line.startsWith("id:"));
            const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n");
            changed(id ? id.slice(3).trim() : null, data);
          }
        }
      }
    } catch (_) {
      // The server restarted or the network blinked: reconnect below.
    }
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
  connect();
}

// Live regions: `data-live="/fragment/url"` reloads its content when the stream named by
// `data-live-source` reports a change, or every `data-live-every` seconds. A region with
// `data-live-after` (the consistency tokens its first frame waited for) asks each reload to wait
// for the read model to include the last event heard from each stream: `?after=bookings:42,…`.
function liveRegions() {
  document.querySelectorAll("[data-live]").forEach((region) => {
    let pending = null;
    const consistent = region.hasAttribute("data-live-after");
    const heard = new Map();
    (region.getAttribute("data-live-after") || "").split(",").forEach((token) => {
      const [stream, seq] = token.split(":");
      if (stream && seq) heard.set(stream, seq);
    });
    const refresh = async () => {
      let url = region.getAttribute("data-live");
      if (consistent && heard.size > 0) {
        const after = Array.from(heard, ([stream, seq]) => `${stream}:${seq}`).join(",");
        url += (url.includes("?") ? "&" : "?") + "after=" + encodeURIComponent(after);
      }
      try {
        const response = await fetch(url, { headers: { Accept: "text/html" } });
        if (response.ok) region.innerHTML = await response.text();
      } catch (_) {
        // Offline for a moment: the next event or tick tries again.
      }
    };
    // Bursts of events become one refresh.
    const soon = (id) => {
      const [stream, seq] = (id || "").split(":");
      if (stream && seq && Number(seq) > Number(heard.get(stream) || 0)) heard.set(stream, seq);
      if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 150);
    };
    const every = Number(region.getAttribute("data-live-every") || "0");
    if (every > 0) setInterval(refresh, every * 1000);
    const source = region.getAttribute("data-live-source");
    if (source) follow(source, soon);
  });
}
liveRegions();

// Money as the server writes it: `€25.00`, `25.00 CHF`.
function money(cents, currency) {
  const whole = Math.floor(Math.abs(cents) / 100).toLocaleString("en-US");
  const number = `${cents < 0 ? "-" : ""}${whole}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;
  const symbol = { EUR: "€", USD: "$", GBP: "£" }[currency];
  return symbol ? number.replace(/^(-?)/, `$1${symbol}`) : `${number} ${currency}`;
}

// Seat pickers: the running total of the seats ticked (or of the admissions asked for), arrow
// keys across the map (one Tab stop for the whole map), and the map following other customers'
// holds, sales and releases as they happen. Without this script the map is a form of checkboxes
// and the total is shown at the checkout.
document.querySelectorAll("[data-picker]").forEach((form) => {
  const currency = form.getAttribute("data-currency") || "";
  const summary = form.querySelector("[data-summary]");
  const announce = form.querySelector("[data-announce]");
  const count = form.querySelector("[data-count]");
  const seats = () => Array.from(form.querySelectorAll("input[name=seat]"));
  const update = () => {
    if (count) {
      const n = Math.max(0, Math.floor(Number(count.value) || 0));
      const each = Number(form.getAttribute("data-price") || "0");
      summary.textContent = n > 0 ? `${n} seat${n === 1 ? "" : "s"} · total ${money(n * each, currency)}` : "";
      return;
    }
    const chosen = seats().filter((s) => s.checked && !s.disabled);
    seats().forEach((s) => s.closest(".seat").classList.toggle("chosen", s.checked && !s.disabled));
    if (chosen.length === 0) {
      summary.textContent = "No seats chosen yet.";
      return;
    }
    // A seat's price is its section's.
    const total = chosen.reduce((sum, s) => sum + Number(s.closest("[data-price]")?.getAttribute("data-price") || "0"), 0);
    const names = chosen.map((s) => s.getAttribute("data-seat")).join(", ");
    summary.textContent = `${chosen.length} seat${chosen.length === 1 ? "" : "s"}: ${names} · total ${money(total, currency)}` +
      (chosen.length > 20 ? " (at most 20 in one booking)" : "");
  };
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();

  const map = form.querySelector("[data-seatmap]");
  if (!map) return;
  // Arrow keys move across the grid: left and right along a row, up and down to the nearest
  // seat of the row before or after.
  const rows = () => Array.from(map.querySelectorAll(".seat-row")).map((r) => Array.from(r.querySelectorAll("input[name=seat]")));
  const focusable = (input) => {
    seats().forEach((s) => s.setAttribute("tabindex", "-1"));
    input.setAttribute("tabindex", "0");
    input.focus();
  };
  const first = seats().find((s) => !s.disabled) || seats()[0];
  seats().forEach((s) => s.setAttribute("tabindex", s === first ? "0" : "-1"));
  map.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.name !== "seat") return;
    const grid = rows();
    const r = grid.findIndex((row) => row.includes(input));
    const c = grid[r].indexOf(input);
    let next = null;
    if (event.key === "ArrowRight") next = grid[r][c + 1];
    else if (event.key === "ArrowLeft") next = grid[r][c - 1];
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const row = grid[r + (event.key === "ArrowDown" ? 1 : -1)];
      if (row && row.length) next = row[Math.min(Math.round(c * row.length / grid[r].length), row.length - 1)];
    } else if (event.key === "Home") next = grid[r][0];
    else if (event.key === "End") next = grid[r][grid[r].length - 1];
    if (next) {
      event.preventDefault();
      focusable(next);
    }
  });
  // Disabled seats cannot take the focus: they are skipped by the arrows' target only when
  // ticking, never when moving, so a screen reader still hears "sold" as it passes.
  seats().filter((s) => s.disabled).forEach((s) => { s.disabled = false; s.setAttribute("aria-disabled", "true"); s.dataset.locked = "1"; });
  map.addEventListener("click", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.dataset.locked) event.preventDefault();
  });
  map.addEventListener("keydown", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.dataset.locked && event.key === " ") event.preventDefault();
  });
  // A locked seat is never sent.
  form.addEventListener("submit", () => seats().filter((s) => s.dataset.locked).forEach((s) => { s.checked = false; s.disabled = true; }));

  const source = form.getAttribute("data-seat-live");
  if (!source) return;
  const lock = (input, status) => {
    const seat = input.closest(".seat");
    // What the label says of the seat when free: without the status a taken seat's ends with.
    const free = (input.getAttribute("aria-label") || "").replace(/, (held|sold|unavailable)$/, "");
    seat.classList.remove("free", "held", "sold", "chosen");
    seat.classList.add(status);
    if (status === "free") {
      delete input.dataset.locked;
      input.removeAttribute("aria-disabled");
      input.setAttribute("aria-label", free);
    } else {
      if (input.checked && announce) announce.textContent = `${input.getAttribute("data-seat")} was just taken by someone else.`;
      input.checked = false;
      input.dataset.locked = "1";
      input.setAttribute("aria-disabled", "true");
      input.setAttribute("aria-label", `${free}, ${status}`);
    }
  };
  // Every seat as it stands now: on connecting (what changed since the page was drawn), after a
  // reconnection, and when the stream lagged and skipped changes.
  const seatsUrl = form.getAttribute("data-seats");
  const resync = async () => {
    if (!seatsUrl) return;
    try {
      const response = await fetch(seatsUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const map = await response.json();
      (map.seats || []).forEach((seat) => {
        const input = form.querySelector(`input[name=seat][value="${seat.seat_id}"]`);
        if (input && seat.status !== "unavailable" && !input.closest(".seat").classList.contains(seat.status)) {
          lock(input, seat.status);
        }
      });
      update();
    } catch (_) {
      // Offline for a moment: the next connection resyncs.
    }
  };
  follow(source, (_id, data) => {
    if (!data) { resync(); return; }
    let change;
    try { change = JSON.parse(data); } catch (_) { return; }
    if (!Array.isArray(change.seat_ids)) { resync(); return; }
    change.seat_ids.forEach((id) => {
      const input = form.querySelector(`input[name=seat][value="${id}"]`);
      if (input) lock(input, change.status);
    });
    update();
  });
});

// A printable page's Print button.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

// Sign-up tells the server the browser's own time zone.
document.querySelectorAll("[data-browser-zone]").forEach((input) => {
  try { input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_) { /* UTC it is */ }
});

// The door: the code field keeps the focus for the next scan, and a camera scans QR codes where
// the browser can read them (BarcodeDetector); a scanner that types works without any of this.
document.querySelectorAll("[data-door]").forEach((form) => {
  const code = form.querySelector("input[name=code]");
  const button = form.querySelector("[data-scan]");
  const video = form.querySelector("[data-scanner]");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !button || !video) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const look = async () => {
        const found = await detector.detect(video).catch(() => []);
        if (found.length > 0) {
          stream.getTracks().forEach((t) => t.stop());
          code.value = found[0].rawValue;
          form.submit();
          return;
        }
        requestAnimationFrame(look);
      };
      look();
    } catch (_) {
      button.hidden = true;
    }
  });
});
