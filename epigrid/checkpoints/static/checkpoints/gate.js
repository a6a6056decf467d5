// The gate (checkpoints/gate.html): scan a resident ID or personal code, see what the system knows
// and the suggested decision, set the health code, temperature and origin, decide, and save. Every
// passage gets a client id and goes into the browser's queue (localStorage) before any send; the
// queue is sent to the batch API in order and an entry is dropped only when its outcome arrives, so
// a dead signal or a retry neither loses nor doubles a passage. Offline, the staff decide from the
// card and the code; the server records the suggestion beside their decision.
(function () {
  "use strict";
  var root = document.getElementById("gate");
  if (!root) { return; }
  var form = document.getElementById("gate-form");
  var scan = document.getElementById("gate-scan");
  // One queue per user and checkpoint: a shared phone's next user never sends another's passages.
  var KEY = "epigrid.gate." + root.dataset.user + "." + root.dataset.checkpoint;
  var state = { suggested: "", registered: true, offline: false, vehicle: null, token: "" };

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function queue() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function store(items) {
    localStorage.setItem(KEY, JSON.stringify(items));
    root.querySelector('[data-testid="queue-count"]').textContent = String(items.length);
  }
  function value(name) {
    var el = form.elements[name];
    return el ? (el.value || "").trim() : "";
  }
  function say(text, kind) {
    var box = root.querySelector("[data-message]");
    box.className = "alert py-2 alert-" + (kind || "info");
    box.textContent = text;
  }
  function online(yes) {
    var badge = root.querySelector('[data-testid="online"]');
    badge.className = "badge " + (yes ? "text-bg-success" : "text-bg-warning");
    state.offline = !yes;
  }
  function show(answer) {
    var card = root.querySelector('[data-testid="answer"]');
    card.classList.remove("d-none");
    var person = answer.person;
    var who = card.querySelector('[data-answer="person"]');
    who.textContent = person ? person.name + " " + person.doc_number + (person.birth_year ? " · " + person.birth_year : "") : "";
    var list = card.querySelector('[data-answer="findings"]');
    list.textContent = "";
    answer.findings.forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f.message;
      li.className = f.decision === "pass" ? "" : "text-danger";
      list.appendChild(li);
    });
    state.suggested = answer.suggested;
    state.registered = answer.registered;
    state.token = answer.person ? answer.person.token : "";
    card.querySelector('[data-answer="suggested"]').textContent = root.dataset.msgSuggested + ": " +
      root.querySelector('[data-decision="' + answer.suggested + '"]').textContent;
    root.querySelectorAll("[data-decision]").forEach(function (b) {
      b.classList.toggle("btn-dark", b.dataset.decision === answer.suggested);
      b.classList.toggle("btn-outline-dark", b.dataset.decision !== answer.suggested);
    });
    root.querySelector("[data-unregistered]").classList.toggle("d-none", answer.registered);
    if (!answer.registered) { say(root.dataset.msgUnregistered, "warning"); }
  }
  function params() {
    var p = new URLSearchParams();
    p.set("q", value("scan"));
    p.set("direction", form.elements.direction.value);
    p.set("health_code", form.elements.health_code.value);
    if (form.elements.origin_risk) { p.set("origin_risk", value("origin_risk")); }
    if (value("temperature")) { p.set("temperature", value("temperature")); }
    return p;
  }
  function assess() {
    if (!value("scan")) { return; }
    state.suggested = "";
    state.token = "";
    fetch(root.dataset.assessUrl + "?" + params().toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 400) {
          return r.json().then(function (body) {
            var text = Object.values(body).flat().join(" ");
            say(root.dataset.msgInvalid + " " + text, "danger");
            throw null;
          });
        }
        if (!r.ok) { throw new Error(String(r.status)); }
        online(true);
        return r.json();
      })
      .then(show)
      .catch(function (e) {
        if (e === null) { return; }
        online(false);
        root.querySelector('[data-testid="answer"]').classList.add("d-none");
        say(root.dataset.msgOffline, "warning");
      });
  }
  function vehicle() {
    var plate = value("plate");
    if (!plate) { state.vehicle = null; return null; }
    if (!state.vehicle || state.vehicle.plate !== plate) {
      state.vehicle = { client_id: uuid(), plate: plate, kind: value("kind") };
    }
    root.querySelector("[data-plate-shown]").textContent = plate;
    return state.vehicle;
  }
  function decide(decision) {
    var reasonBox = root.querySelector("[data-reason]");
    if (!value("scan")) { scan.focus(); return; }
    if (state.suggested && decision !== state.suggested && !value("reason")) {
      reasonBox.classList.remove("d-none");
      say(root.dataset.msgReason, "warning");
      form.elements.reason.focus();
      return;
    }
    var text = value("scan");
    // Checked online: the server's token names the person (no number kept on the phone).
    // Offline: the number or code as scanned, looked up when the queue is sent.
    var person = state.token ? { token: state.token } : text.indexOf("EPG1:") === 0 ? { code: text } : { doc_number: text };
    if (!state.registered) { person.name = value("name"); person.phone = value("phone"); }
    var item = {
      client_id: uuid(),
      checkpoint: Number(root.dataset.checkpoint),
      at: new Date().toISOString(),
      direction: form.elements.direction.value,
      person: person,
      health_code: form.elements.health_code.value,
      temperature: value("temperature") || null,
      destination: value("destination"),
      origin: value("origin"),
      origin_risk: form.elements.origin_risk ? value("origin_risk") : "none",
      decision: decision,
      reason: value("reason"),
      offline: !state.suggested,
      vehicle: vehicle(),
    };
    var items = queue();
    items.push(item);
    store(items);
    say(root.dataset.msgSaved + " · " + root.querySelector('[data-decision="' + decision + '"]').textContent, "success");
    ["scan", "name", "phone", "temperature", "reason"].forEach(function (n) { if (form.elements[n]) { form.elements[n].value = ""; } });
    form.elements.health_code.value = "unknown";
    reasonBox.classList.add("d-none");
    root.querySelector("[data-unregistered]").classList.add("d-none");
    root.querySelector('[data-testid="answer"]').classList.add("d-none");
    state.suggested = "";
    state.registered = true;
    state.token = "";
    scan.focus();
    send();
  }
  var sending = false;
  function send() {
    var items = queue();
    if (sending || !items.length) { return; }
    sending = true;
    var batch = items.slice(0, 50);
    fetch(root.dataset.batchUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ scans: batch }),
    })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } online(true); return r.json(); })
      .then(function (outcomes) {
        var done = {};
        outcomes.forEach(function (o) {
          done[o.client_id] = true;
          if (o.outcome === "refused") {
            var li = document.createElement("li");
            li.className = "list-group-item list-group-item-danger";
            li.textContent = o.message;
            root.querySelector("[data-refused]").appendChild(li);
          }
        });
        store(queue().filter(function (i) { return !done[i.client_id]; }));
      })
      .catch(function () { online(false); })
      .then(function () { sending = false; if (queue().length && !state.offline) { send(); } });
  }
  // Enter from a keyboard-wedge scanner, the button, or the camera (epigrid/scan.js) submit the form:
  // the gate answers in place instead.
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    delete form.dataset.sending;
    assess();
  });
  root.querySelector('[data-action="next-vehicle"]').addEventListener("click", function () {
    form.elements.plate.value = "";
    state.vehicle = null;
    root.querySelector("[data-plate-shown]").textContent = "";
    form.elements.plate.focus();
  });
  root.querySelectorAll("[data-decision]").forEach(function (b) {
    b.addEventListener("click", function () { decide(b.dataset.decision); });
  });
  window.addEventListener("online", send);
  setInterval(send, 5000);
  store(queue());
  send();
})();
