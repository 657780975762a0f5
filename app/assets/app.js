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
// the event's id (`bookings:42`: its stream and position), once right after connecting (nothing
// committed since the page was rendered is missed), and again after each reconnection.
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
            changed(id ? id.slice(3).trim() : null);
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
