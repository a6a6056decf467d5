// The deadline clocks of the assistance pages (assistance.tables.deadline_clock): each badge with
// data-due counts down in the browser, so a page left open says when a request turns overdue.
// The server renders the first value; the labels ("%(t)s left", "overdue by %(t)s") come
// translated in data-left and data-overdue, the units in data-hm and data-m.
(function () {
  "use strict";
  function span(el, ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const h = Math.floor(minutes / 60);
    const m = String(minutes % 60);
    return h ? el.dataset.hm.replace("%(h)d", String(h)).replace("%(m)d", m) : el.dataset.m.replace("%(m)d", m);
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      const left = Date.parse(el.dataset.due) - now;
      const late = left < 0;
      el.textContent = (late ? el.dataset.overdue : el.dataset.left).replace("%(t)s", span(el, left));
      el.classList.toggle("text-bg-danger", late);
      el.classList.toggle("text-bg-warning", !late);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
  });
})();
