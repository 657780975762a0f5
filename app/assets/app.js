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

// Filters that apply as soon as they change.
document.querySelectorAll("[data-autosubmit]").forEach((el) => {
  el.addEventListener("change", () => el.form && el.form.submit());
});

// Live regions: `data-live="/fragment/url"` reloads its content when the server says something
// changed (server-sent events from `data-live-source`), or every `data-live-every` seconds.
function liveRegions() {
  const regions = Array.from(document.querySelectorAll("[data-live]"));
  if (regions.length === 0) return;
  const refresh = async (region) => {
    try {
      const response = await fetch(region.getAttribute("data-live"), { headers: { Accept: "text/html" } });
      if (response.ok) region.innerHTML = await response.text();
    } catch (_) {
      // Offline for a moment: the next event or tick tries again.
    }
  };
  regions.forEach((region) => {
    const every = Number(region.getAttribute("data-live-every") || "0");
    if (every > 0) setInterval(() => refresh(region), every * 1000);
    const source = region.getAttribute("data-live-source");
    if (source && "EventSource" in window) {
      let pending = null;
      const events = new EventSource(source);
      events.onmessage = () => {
        // Coalesce bursts of events into one refresh.
        if (pending) return;
        pending = setTimeout(() => { pending = null; refresh(region); }, 150);
      };
      events.addEventListener("change", events.onmessage);
    }
  });
}
liveRegions();
