/* The sampling desk (templates/testing/desk.html): scan a tube, then each person; offline first.

   Every scan gets its client id when it is made and is written to IndexedDB before anything is
   sent; one sender (one tab at a time, through Web Locks where the browser has them) posts the
   queue in order to the batch API and deletes an entry only once the server has answered for it
   (accepted, duplicate or refused). A retry resends the same client id, so the server's
   idempotency per client id means a flaky network, a reload or a second tab can neither lose nor
   double a sample. Positions are counted here per tube, so the desk keeps saying "第 N 人" and
   "换管" while offline.

   What a scan is (one field for everything, so a keyboard-wedge scanner works untouched):
   - text starting with "EPG1:" is a person's personal QR code (kept as read: it is signed);
   - 17 digits and a digit or X is a resident ID (an 81/82/83 prefix: an HK/Macau or Taiwan
     residence permit, same format) — a person, checked here by its check digit and birth date;
     only while no tube is open and the round's tube rule (prefix, length or pattern) accepts it,
     it is taken for a tube barcode, since a tube must come first;
   - anything else is a tube barcode, checked against the round's rule (prefix, length, pattern,
     Luhn). With no tube open it opens one; with an empty tube open it replaces it (the wrong tube
     was picked up); with persons in the open tube it ends that tube early (the sampler took the
     next tube) and opens the new one; a full tube was already closed (换管).
   Other documents (passport, permits) are typed in through "手动登记", with the person's name.

   Pre-formed groups (预编组): the "扫预编组" button turns the next scan, whatever it reads, into a
   group code (a personal "EPG1:" code still counts as a person and ends group mode; tapping the
   button again ends it too). A group code has no format of its own, so no prefix could tell it
   from a tube barcode: the button is the rule. The page asks the server for the group's members
   (GET cfg.groupUrl, so only online: offline it says 预编组需要联网 and stays in person mode), shows
   them masked, and on confirm queues one sample scan per member (`qr` = the member's personal
   code, a client id each) into the open tube, in order. A group bigger than the room left in the
   tube is not queued: the server would refuse the extra members (换管), so the page asks for a new
   tube first.

   Naming: a scanned document the registry does not know comes back `unregistered`; when no name
   was typed with it, the page asks for the name (and an optional phone) and queues a scan of its
   own, action "name", with the same tube and document; the server names the grid's find. The
   sampler may skip it (跳过); the grid can still ask later. */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("desk-config").textContent);
  const S = cfg.strings;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, vars) => text.replace(/%\((\w+)\)s/g, (m, k) => (k in vars ? String(vars[k]) : m));
  const QR_PREFIX = "EPG1:";

  // ---------------------------------------------------------------- ids, checks

  function newClientId() {
    // UUIDv7 (RFC 9562): the first 48 bits are the time in milliseconds, so the server's unique
    // index on client ids grows at its right edge instead of touching a random page for every
    // scan (decision 0019); 74 random bits keep two desks apart within one millisecond.
    // getRandomValues works on plain-http LAN addresses too, where randomUUID does not.
    const b = crypto.getRandomValues(new Uint8Array(16));
    let ms = Date.now();
    for (let i = 5; i >= 0; i--) {
      b[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function normalise(value) {
    // As the server does (core.identity.normalise_text): full-width to half-width, no spaces.
    return String(value || "").normalize("NFKC").replace(/\s+/g, "").toUpperCase();
  }

  const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  function validResidentId(number) {
    if (!/^\d{17}[\dX]$/.test(number)) return false;
    const y = +number.slice(6, 10), m = +number.slice(10, 12), d = +number.slice(12, 14);
    const birth = new Date(y, m - 1, d);
    if (birth.getFullYear() !== y || birth.getMonth() !== m - 1 || birth.getDate() !== d) return false;
    if (y < 1880 || birth > new Date()) return false;
    const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * +number[i], 0);
    return "10X98765432"[sum % 11] === number[17];
  }

  function documentType(number) {
    if (/^8[12]/.test(number)) return "551";
    if (/^83/.test(number)) return "552";
    return "111";
  }

  function luhnValid(code) {
    if (!/^\d+$/.test(code)) return false;
    let sum = 0;
    for (let i = 0; i < code.length; i++) {
      let digit = +code[code.length - 1 - i];
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  const rule = cfg.tubeRule;
  const ruleIsStrict = Boolean(rule.prefix || rule.length || rule.pattern);
  let rulePattern = null;
  try {
    rulePattern = rule.pattern ? new RegExp(`^(?:${rule.pattern})$`) : null;
  } catch (e) {
    rulePattern = null; // a Python-only construct: the server still checks it
  }

  /** Why `code` is not a tube barcode of this round, or null (models.check_barcode's rules). */
  function tubeProblem(code) {
    if (code.length > 32 || !/^[0-9A-Z-]+$/.test(code)) return S.characters;
    if (rule.prefix && !code.startsWith(rule.prefix)) return fmt(S.prefix, { prefix: rule.prefix });
    if (rule.length && code.length !== rule.length) return fmt(S.length, { n: code.length, length: rule.length });
    if (rulePattern && !rulePattern.test(code)) return S.pattern;
    if (rule.check === "luhn" && !luhnValid(code)) return S.checksum;
    return null;
  }

  // ---------------------------------------------------------------- the queue (IndexedDB)

  const DB_NAME = "epigrid-desk";
  const STORE = "queue";
  let memoryQueue = null; // only when IndexedDB cannot be opened (some private modes)
  let memorySeq = 0;
  let dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        if (!window.indexedDB) return reject(new Error("no IndexedDB"));
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      }).catch((err) => {
        memoryQueue = memoryQueue || [];
        throw err;
      });
    }
    return dbPromise;
  }

  function request(mode, work) {
    return openDb().then(
      (db) =>
        new Promise((resolve, reject) => {
          // "strict": the entry is on disk when the transaction completes, before any send.
          const tx = db.transaction(STORE, mode, { durability: "strict" });
          let result;
          const req = work(tx.objectStore(STORE));
          if (req) req.onsuccess = () => (result = req.result);
          tx.oncomplete = () => resolve(result);
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error);
        }),
    );
  }

  async function queuePut(entry) {
    try {
      return await request("readwrite", (store) => store.add(entry));
    } catch (err) {
      if (!memoryQueue) throw err;
      entry.seq = ++memorySeq;
      memoryQueue.push(entry);
      return entry.seq;
    }
  }

  async function queueAll() {
    let entries;
    try {
      entries = await request("readonly", (store) => store.getAll());
    } catch (err) {
      entries = memoryQueue ? memoryQueue.slice() : [];
    }
    // Scans of another login on this phone wait for that login.
    return (entries || []).filter((e) => e.user === cfg.user).sort((a, b) => a.seq - b.seq);
  }

  async function queueDelete(seqs) {
    if (!seqs.length) return;
    try {
      await request("readwrite", (store) => {
        seqs.forEach((seq) => store.delete(seq));
      });
    } catch (err) {
      if (memoryQueue) memoryQueue = memoryQueue.filter((e) => !seqs.includes(e.seq));
    }
  }

  // Tabs tell each other about queue changes and answered scans.
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("epigrid-desk") : null;

  // ---------------------------------------------------------------- desk state

  const STATE_KEY = `epigrid-desk-${cfg.desk}`;
  // tube: the open tube's barcode; confirmed: {barcode: last position the server accepted};
  // sealable: the last closed tube, {barcode, count}, until it is sealed.
  let state = { tube: null, confirmed: {}, sealable: null, savedAt: 0 };
  const pending = new Map(); // client id -> tube barcode, scans not answered yet
  const ownScans = new Map(); // client id -> recent-list item of scans made in this tab
  let lastOwnSample = null;
  let online = navigator.onLine !== false;
  let sessionEnded = false;

  function saveState() {
    state.savedAt = Date.now();
    // Only the tubes still in play: the open one and the one to seal.
    const keep = {};
    for (const code of [state.tube, state.sealable && state.sealable.barcode]) {
      if (code && state.confirmed[code]) keep[code] = state.confirmed[code];
    }
    state.confirmed = keep;
    try {
      localStorage.setItem(STATE_KEY, JSON.stringify(state));
    } catch (e) {
      /* storage full or blocked: the page still works, a reload starts from the server's view */
    }
  }

  function pendingFor(tube) {
    let n = 0;
    for (const code of pending.values()) if (code === tube) n++;
    return n;
  }

  function countOf(tube) {
    return (state.confirmed[tube] || 0) + pendingFor(tube);
  }

  async function loadState() {
    let local = null;
    try {
      local = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    } catch (e) {
      local = null;
    }
    for (const entry of await queueAll()) {
      if (entry.desk === cfg.desk && entry.scan.action === "sample") pending.set(entry.scan.client_id, entry.scan.tube);
    }
    const rendered = Date.parse(cfg.renderedAt) || 0;
    const localHasPending = local && local.tube && [...pending.values()].includes(local.tube);
    // A page from the server is newer than what this phone remembers, unless the phone saved
    // since (a page served from the cache offline) or holds unsent scans of its open tube.
    if (local && (local.savedAt > rendered || localHasPending)) {
      state = { tube: local.tube, confirmed: local.confirmed || {}, sealable: local.sealable || null, savedAt: local.savedAt };
    } else if (cfg.openTube) {
      state.tube = cfg.openTube.barcode;
      if (local && local.sealable) state.sealable = local.sealable;
    } else if (local && local.sealable) {
      state.sealable = local.sealable;
    }
    if (cfg.openTube) {
      const code = cfg.openTube.barcode;
      state.confirmed[code] = Math.max(state.confirmed[code] || 0, cfg.openTube.count);
    }
  }

  // ---------------------------------------------------------------- sounds and speech

  let audio = null;
  function tone(freq, ms, delay, wave) {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const start = audio.currentTime + (delay || 0);
      osc.type = wave || "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.25, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + ms / 1000);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + ms / 1000 + 0.02);
    } catch (e) {
      /* no sound on this device: the screen says it all */
    }
  }

  function say(text) {
    try {
      if (!("speechSynthesis" in window)) return;
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "zh-CN";
      speechSynthesis.cancel();
      speechSynthesis.speak(utterance);
    } catch (e) {
      /* speech is a courtesy */
    }
  }

  const sound = {
    ok: () => tone(1400, 80),
    change: () => {
      tone(880, 160);
      tone(880, 160, 0.22);
      say(S.changeTubeSpoken);
    },
    // Low and long: unmistakable from the short high "ok" without looking.
    refused: () => {
      tone(180, 450, 0, "square");
      tone(140, 350, 0.5, "square");
    },
  };

  // ---------------------------------------------------------------- screen

  const els = {
    status: $("status"),
    tube: $("tube"),
    fill: $("fill"),
    big: $("big"),
    change: $("change"),
    who: $("who"),
    msg: $("msg"),
    scan: $("scan"),
    net: $("net"),
    queue: $("queue"),
    recent: $("recent"),
    sealable: $("sealable"),
    seal: $("seal-btn"),
    close: $("close-btn"),
  };

  function setTone(kind) {
    els.status.classList.remove("is-ok", "is-offline", "is-change", "is-refused");
    if (kind) els.status.classList.add(`is-${kind}`);
  }

  function message(text, kind) {
    els.msg.textContent = text || "";
    setTone(kind);
  }

  function personText(person) {
    if (!person) return "";
    const parts = [person.name || "—"];
    if (person.birth_year) parts.push(String(person.birth_year));
    return parts.join(" · ");
  }

  function renderTube() {
    const tube = state.tube;
    els.tube.textContent = tube || "—";
    if (tube) {
      const n = countOf(tube);
      els.fill.textContent = `${n} / ${cfg.capacity}`;
      if (!n) els.big.textContent = S.scanPerson;
    } else {
      els.fill.textContent = "";
    }
    els.close.disabled = !tube;
    const sealable = state.sealable || (tube && countOf(tube) ? { barcode: tube, count: countOf(tube) } : null);
    els.seal.disabled = !sealable;
    els.sealable.textContent = state.sealable
      ? `${S.tube} ${state.sealable.barcode} · ${fmt(S.nPersons, { n: state.sealable.count })}`
      : "";
  }

  function showCount(n) {
    els.big.textContent = fmt(S.nth, { n });
  }

  function renderNet() {
    const up = online && navigator.onLine !== false;
    els.net.textContent = up ? S.online : S.offline;
    els.net.className = `badge ${up ? "text-bg-success" : "text-bg-danger"}`;
  }

  async function renderQueue() {
    const n = (await queueAll()).length;
    els.queue.textContent = fmt(S.queue, { n });
    els.queue.dataset.count = String(n);
    els.queue.className = `badge ${n ? "text-bg-warning" : "text-bg-secondary"}`;
    return n;
  }

  function addRecent(text, clientId) {
    const li = document.createElement("li");
    li.className = "is-pending";
    const what = document.createElement("span");
    what.textContent = text;
    const status = document.createElement("span");
    status.className = "desk-recent-status";
    status.textContent = S.queued;
    li.append(what, status);
    els.recent.prepend(li);
    while (els.recent.children.length > 20) els.recent.lastChild.remove();
    if (clientId) ownScans.set(clientId, { li, what, status });
    return li;
  }

  // ---------------------------------------------------------------- scans

  function baseScan(action, tube) {
    return {
      client_id: newClientId(),
      action,
      campaign: cfg.campaign,
      desk: cfg.desk,
      tube,
      scanned_at: new Date().toISOString(),
    };
  }

  async function enqueue(scan, label) {
    const entry = { user: cfg.user, desk: cfg.desk, scan, made: Date.now() };
    if (scan.action === "sample") pending.set(scan.client_id, scan.tube);
    const item = addRecent(label, scan.client_id);
    try {
      await queuePut(entry);
    } catch (err) {
      pending.delete(scan.client_id);
      item.className = "is-refused";
      message(String(err), "refused");
      sound.refused();
      return false;
    }
    if (channel) channel.postMessage({ type: "queued" });
    renderQueue();
    flushSoon();
    return true;
  }

  function refuse(text) {
    message(text, "refused");
    els.who.textContent = "";
    sound.refused();
  }

  function offlineNote() {
    return online && navigator.onLine !== false ? "" : S.savedOffline;
  }

  async function takePerson(fields, label) {
    const tube = state.tube;
    if (!tube) {
      refuse(state.sealable ? `${S.changeTube}: ${S.scanTubeFirst}` : S.scanTubeFirst);
      return;
    }
    const scan = { ...baseScan("sample", tube), ...fields };
    // Counted before the write settles: a scanner sends the next person within milliseconds.
    pending.set(scan.client_id, tube);
    const n = countOf(tube);
    lastOwnSample = scan.client_id;
    showCount(n);
    els.who.textContent = fields.name || "";
    els.change.hidden = true;
    const full = n >= cfg.capacity;
    if (full) {
      state.sealable = { barcode: tube, count: n };
      state.tube = null;
      els.change.hidden = false;
      message(offlineNote() || S.scanTube, "change");
      sound.change();
    } else {
      message(offlineNote(), offlineNote() ? "offline" : "ok");
      sound.ok();
    }
    saveState();
    renderTube();
    if (full) els.fill.textContent = `${n} / ${cfg.capacity}`;
    await enqueue(scan, `${fmt(S.nth, { n })} · ${label}`);
  }

  function openTube(code) {
    const previous = state.tube;
    let note = fmt(S.tubeOpened, { tube: code });
    if (previous) {
      const n = countOf(previous);
      if (n === 0) {
        note = fmt(S.tubeReplaced, { tube: code });
      } else {
        // The sampler picked up the next tube: the open one ends here.
        enqueue(baseScan("close", previous), `${S.tube} ${previous} · ${fmt(S.closedEarly, { tube: previous, n })}`);
        state.sealable = { barcode: previous, count: n };
        note = `${fmt(S.closedEarly, { tube: previous, n })} ${note}`;
      }
    }
    state.tube = code;
    saveState();
    els.change.hidden = true;
    els.who.textContent = "";
    renderTube();
    els.big.textContent = S.scanPerson;
    message(note, "ok");
    sound.ok();
  }

  function handle(raw) {
    const text = String(raw || "").trim();
    if (!text) return;
    if (groupMode) {
      setGroupMode(false);
      if (!text.toUpperCase().startsWith(QR_PREFIX)) {
        lookupGroup(text);
        return;
      }
    }
    handleScan(text);
    // A tube scanned (or a person taken) while a group waits changes the room it has.
    if (group) renderGroup();
  }

  function handleScan(text) {
    if (text.toUpperCase().startsWith(QR_PREFIX)) {
      takePerson({ qr: QR_PREFIX + text.slice(QR_PREFIX.length) }, "QR");
      return;
    }
    const code = normalise(text);
    if (/^\d{17}[\dX]$/.test(code)) {
      if (!state.tube) {
        if (ruleIsStrict && !tubeProblem(code)) openTube(code);
        else refuse(state.sealable ? `${S.changeTube}: ${S.scanTubeFirst}` : S.scanTubeFirst);
        return;
      }
      if (!validResidentId(code)) {
        refuse(S.badId);
        return;
      }
      takePerson({ document_type: documentType(code), document_number: code }, `${code.slice(0, 4)}…${code.slice(-4)}`);
      return;
    }
    if (state.tube === code) {
      message(fmt(S.tubeOpened, { tube: code }), "ok");
      return;
    }
    const problem = tubeProblem(code);
    if (problem) {
      refuse(fmt(S.notTube, { reason: problem }));
      return;
    }
    openTube(code);
  }

  function closeTube() {
    const tube = state.tube;
    if (!tube) return;
    const n = countOf(tube);
    state.tube = null;
    if (n) {
      enqueue(baseScan("close", tube), `${S.tube} ${tube} · ${fmt(S.closedEarly, { tube, n })}`);
      state.sealable = { barcode: tube, count: n };
      message(fmt(S.closedEarly, { tube, n }), "ok");
    } else {
      message(S.emptyTube, "ok");
    }
    saveState();
    els.big.textContent = S.scanTube;
    els.who.textContent = "";
    renderTube();
  }

  function sealTube() {
    let target = state.sealable;
    if (!target && state.tube && countOf(state.tube)) {
      target = { barcode: state.tube, count: countOf(state.tube) };
      state.tube = null;
      els.big.textContent = S.scanTube;
    }
    if (!target) {
      message(S.noTubeToSeal, "refused");
      return;
    }
    enqueue(baseScan("seal", target.barcode), `${S.tube} ${target.barcode} · ${fmt(S.sealed, { tube: target.barcode })}`);
    state.sealable = null;
    saveState();
    els.change.hidden = true;
    message(fmt(S.sealed, { tube: target.barcode }), "ok");
    renderTube();
  }

  // ---------------------------------------------------------------- outcomes

  function applyOutcome(scan, outcome) {
    pending.delete(scan.client_id);
    const own = ownScans.get(scan.client_id);
    const status = outcome.status;
    if (
      scan.action === "sample" &&
      scan.desk === cfg.desk &&
      status === "accepted" &&
      outcome.unregistered &&
      !scan.name &&
      !(outcome.person && outcome.person.name) && // named at an earlier scan
      scan.document_number
    ) {
      askName(scan);
    }
    if (scan.action === "sample") {
      if (status === "accepted" && outcome.position) {
        state.confirmed[scan.tube] = Math.max(state.confirmed[scan.tube] || 0, outcome.position);
        const today = $("today");
        if (today) today.textContent = String((parseInt(today.textContent, 10) || 0) + 1);
      }
      // A tube the server will not take samples in (full, sealed, another desk or round, another
      // household): a new tube must be scanned.
      if (status === "refused" && outcome.tube && scan.tube === state.tube) {
        state.sealable = null;
        state.tube = null;
        els.big.textContent = S.scanTube;
      }
      saveState();
    }
    if (own) {
      ownScans.delete(scan.client_id);
      own.li.className = status === "refused" ? "is-refused" : "";
      own.status.textContent = S[status] || status;
      if (outcome.person) own.what.textContent += ` · ${personText(outcome.person)}`;
      if (status === "refused") own.what.textContent += ` · ${outcome.reason}`;
    }
    if (own && scan.action === "sample" && (scan.client_id === lastOwnSample || status === "refused")) {
      if (status === "refused") {
        refuse(outcome.reason || S.refused);
        if (state.tube) showCount(countOf(state.tube));
        else els.big.textContent = S.scanTube;
      } else {
        if (outcome.person) els.who.textContent = personText(outcome.person);
        if (outcome.position) showCount(outcome.position);
        const notes = [];
        if (outcome.unregistered) notes.push(S.unregistered);
        else if (outcome.reason && status === "accepted") notes.push(outcome.reason);
        const full = outcome.tube_full || !els.change.hidden;
        if (outcome.tube_full && els.change.hidden) {
          els.change.hidden = false;
          sound.change();
        }
        message(notes.join(" ") || (full ? S.scanTube : ""), full ? "change" : notes.length ? "offline" : "ok");
      }
    } else if (own && scan.action === "name") {
      if (status === "accepted") message(fmt(S.named, { name: personText(outcome.person) || scan.name }), "ok");
      else if (status === "duplicate") message(S.nameDuplicate, "offline");
      else refuse(outcome.reason || S.refused);
    } else if (own && status === "refused") {
      refuse(outcome.reason || S.refused);
    }
    renderTube();
    // An answer arriving while the page waits for a group code leaves that prompt in place.
    if (groupMode) els.big.textContent = S.groupScan;
    if (group) renderGroup();
  }

  // ---------------------------------------------------------------- naming an unregistered person

  const nameForm = $("name-form");
  const nameAsked = []; // sample scans whose person is to be named, oldest first
  const nameSeen = new Set(); // client ids asked about already (an answer can arrive twice)

  function shortNumber(number) {
    return number.length > 8 ? `${number.slice(0, 4)}…${number.slice(-4)}` : number;
  }

  function askName(scan) {
    if (nameSeen.has(scan.client_id)) return;
    nameSeen.add(scan.client_id);
    nameAsked.push(scan);
    if (nameForm.hidden) showNextName();
  }

  function showNextName() {
    const scan = nameAsked[0];
    nameForm.reset();
    if (!scan) {
      nameForm.hidden = true;
      focusScan();
      return;
    }
    $("name-doc").textContent = `${fmt(S.nameFor, { number: shortNumber(scan.document_number) })} · ${S.tube} ${scan.tube}`;
    nameForm.hidden = false;
    $("name-name").focus({ preventScroll: true });
    nameForm.scrollIntoView({ block: "nearest" });
  }

  function looksLikeScan(value) {
    // The next person's ID read by the scanner while the form had the focus: not a name.
    const code = normalise(value);
    return value.toUpperCase().startsWith(QR_PREFIX) || /^\d{17}[\dX]$/.test(code) || (/\d/.test(code) && !tubeProblem(code));
  }

  nameForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const nameField = $("name-name");
    const name = nameField.value.trim();
    if (name && looksLikeScan(name)) {
      nameField.value = "";
      handle(name);
      nameField.focus();
      return;
    }
    if (!name) {
      refuse(S.nameRequired);
      nameField.focus();
      return;
    }
    const asked = nameAsked.shift();
    if (asked) {
      const scan = {
        ...baseScan("name", asked.tube),
        document_type: asked.document_type,
        document_number: asked.document_number,
        name,
        phone: $("name-phone").value.trim(),
      };
      enqueue(scan, fmt(S.nameLabel, { number: shortNumber(asked.document_number) }));
      message(offlineNote(), offlineNote() ? "offline" : "ok");
    }
    showNextName();
  });
  $("name-skip").addEventListener("click", () => {
    nameAsked.shift();
    showNextName();
  });

  // ---------------------------------------------------------------- pre-formed groups (预编组)

  const groupPanel = $("group-panel");
  const groupButton = $("group-btn");
  let groupMode = false; // the next scan is a group code
  let group = null; // {code, members: [{qr, name, birth_year}]} shown, waiting for confirmation

  function isOnline() {
    return online && navigator.onLine !== false;
  }

  function restoreBig() {
    if (state.tube) {
      const n = countOf(state.tube);
      els.big.textContent = n ? fmt(S.nth, { n }) : S.scanPerson;
    } else {
      els.big.textContent = S.scanTube;
    }
  }

  function setGroupMode(on) {
    groupMode = on;
    groupButton.setAttribute("aria-pressed", on ? "true" : "false");
    groupButton.classList.toggle("active", on);
    if (on) {
      els.big.textContent = S.groupScan;
      els.who.textContent = "";
      message("", "ok");
    } else {
      restoreBig();
    }
  }

  function hideGroup() {
    group = null;
    groupPanel.hidden = true;
    $("group-members").replaceChildren();
  }

  function renderGroup() {
    if (!group) return;
    const n = group.members.length;
    $("group-title").textContent = fmt(S.groupTitle, { code: group.code, n });
    const list = $("group-members");
    list.replaceChildren(
      ...group.members.map((member) => {
        const li = document.createElement("li");
        li.textContent = personText(member);
        return li;
      }),
    );
    const room = state.tube ? cfg.capacity - countOf(state.tube) : 0;
    let problem = "";
    if (!n) problem = S.groupEmpty;
    else if (n > cfg.capacity) problem = fmt(S.groupTooBig, { n, capacity: cfg.capacity });
    else if (!state.tube) problem = state.sealable ? `${S.changeTube}: ${S.scanTubeFirst}` : S.scanTubeFirst;
    else if (n > room) problem = fmt(S.groupNoRoom, { room, n });
    $("group-room").textContent = problem;
    $("group-confirm").disabled = Boolean(problem);
    groupPanel.hidden = false;
  }

  async function lookupGroup(raw) {
    const code = normalise(raw);
    hideGroup();
    if (!isOnline()) {
      refuse(S.groupNeedsNetwork);
      return;
    }
    message(fmt(S.groupLooking, { code }), "ok");
    let response;
    try {
      response = await fetch(cfg.groupUrl.replace("{code}", encodeURIComponent(code)), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (err) {
      setOnline(false);
      refuse(S.groupNeedsNetwork);
      return;
    }
    if (response.status === 404) {
      refuse(fmt(S.groupUnknown, { code }));
      return;
    }
    if (response.status === 401 || response.status === 403) {
      refuse(S.loginAgain);
      return;
    }
    let body = null;
    try {
      body = response.ok ? await response.json() : null;
    } catch (err) {
      body = null;
    }
    if (!body || !Array.isArray(body.members)) {
      refuse(S.groupFailed);
      return;
    }
    setOnline(true);
    group = { code: body.code || code, members: body.members };
    message("", "ok");
    renderGroup();
    groupPanel.scrollIntoView({ block: "nearest" });
    focusScan();
  }

  async function confirmGroup() {
    const taken = group;
    if (!taken || $("group-confirm").disabled) return;
    hideGroup();
    const label = fmt(S.groupLabel, { code: taken.code });
    for (const member of taken.members) {
      // The room was checked; should the tube still end early, takePerson says so and stops here.
      if (!state.tube) break;
      await takePerson({ qr: member.qr }, label);
    }
    if (state.tube) {
      const note = offlineNote();
      message(note || fmt(S.groupQueued, { code: taken.code, n: taken.members.length }), note ? "offline" : "ok");
    }
  }

  groupButton.addEventListener("click", () => {
    if (groupMode) {
      setGroupMode(false);
    } else if (!isOnline()) {
      refuse(S.groupNeedsNetwork);
    } else {
      hideGroup();
      setGroupMode(true);
    }
    focusScan();
  });
  $("group-confirm").addEventListener("click", () => {
    confirmGroup().finally(focusScan);
  });
  $("group-cancel").addEventListener("click", () => {
    hideGroup();
    focusScan();
  });

  // ---------------------------------------------------------------- sender

  let sending = false;
  let again = false;
  let backoff = 1000;
  let retryTimer = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function setOnline(up) {
    online = up;
    renderNet();
  }

  function retryLater(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, ms || backoff);
    backoff = Math.min(backoff * 2, 30000);
  }

  function flushSoon() {
    setTimeout(flush, 0);
  }

  async function sendOnce() {
    // One batch at a time, in queue order; returns true while there is more to send.
    const entries = (await queueAll()).slice(0, 100);
    if (!entries.length) return false;
    let response;
    try {
      response = await fetch(cfg.batchUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ scans: entries.map((e) => e.scan) }),
      });
    } catch (err) {
      setOnline(false);
      retryLater();
      return false;
    }
    if (response.status === 401 || response.status === 403) {
      // Logged out or the session expired: the queue waits for the next login.
      sessionEnded = true;
      setOnline(true);
      message(S.loginAgain, "refused");
      retryLater(30000);
      return false;
    }
    let body = null;
    try {
      body = response.ok ? await response.json() : null;
    } catch (err) {
      body = null;
    }
    if (!body || !Array.isArray(body.outcomes)) {
      setOnline(response.status < 500);
      retryLater();
      return false;
    }
    setOnline(true);
    sessionEnded = false;
    backoff = 1000;
    const done = [];
    const answers = [];
    entries.forEach((entry, i) => {
      const outcome = body.outcomes[i];
      if (outcome && outcome.client_id === entry.scan.client_id) {
        done.push(entry.seq);
        answers.push([entry.scan, outcome]);
      }
    });
    await queueDelete(done);
    answers.forEach(([scan, outcome]) => applyOutcome(scan, outcome));
    if (channel) channel.postMessage({ type: "answered", answers });
    renderQueue();
    if (!done.length) {
      retryLater();
      return false;
    }
    return true;
  }

  async function drain() {
    while (await sendOnce()) {
      /* next batch */
    }
  }

  async function flush() {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    clearTimeout(retryTimer);
    try {
      do {
        again = false;
        // Two tabs never send at once (each would only get "duplicate" back, but why send twice).
        if (navigator.locks && navigator.locks.request) await navigator.locks.request("epigrid-desk-sender", drain);
        else await drain();
      } while (again);
    } catch (err) {
      retryLater();
    } finally {
      sending = false;
    }
  }

  if (channel) {
    channel.onmessage = (event) => {
      const data = event.data || {};
      if (data.type === "answered") (data.answers || []).forEach(([scan, outcome]) => {
        if (pending.has(scan.client_id)) applyOutcome(scan, outcome);
      });
      renderQueue();
    };
  }

  window.addEventListener("online", () => {
    backoff = 1000;
    // Believed until a send fails: with nothing queued no send would ever say so otherwise.
    setOnline(true);
    flush();
  });
  window.addEventListener("offline", () => setOnline(false));
  setInterval(() => {
    renderQueue().then((n) => {
      if (n && !sending && !sessionEnded) flush();
    });
  }, 5000);

  // ---------------------------------------------------------------- camera

  const CAMERA_FORMATS = [
    "qr_code", "code_128", "code_39", "code_93", "codabar", "ean_13", "ean_8", "itf", "upc_a", "data_matrix", "pdf417",
  ];
  let detectorPromise = null;
  let stream = null;
  let lastRead = { value: "", at: 0 };

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(src));
      document.head.append(script);
    });
  }

  async function makeDetector() {
    const Native = window.BarcodeDetector;
    if (Native && !(window.BarcodeDetectionAPI && Native === window.BarcodeDetectionAPI.BarcodeDetector)) {
      try {
        const formats = await Native.getSupportedFormats();
        if (formats.includes("qr_code") && formats.includes("code_128")) {
          return new Native({ formats: CAMERA_FORMATS.filter((f) => formats.includes(f)) });
        }
      } catch (e) {
        /* fall through to the polyfill */
      }
    }
    // The polyfill (npm barcode-detector, ZXing-C++ in WebAssembly) and its .wasm come from our
    // own static files: by default it would fetch the .wasm from a public CDN.
    if (!window.BarcodeDetectionAPI) await loadScript(cfg.polyfillUrl);
    const api = window.BarcodeDetectionAPI;
    const wasmUrl = new URL(cfg.wasmUrl, location.href).href;
    await api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
      fireImmediately: true,
    });
    const Detector = api.BarcodeDetector;
    const formats = await Detector.getSupportedFormats();
    return new Detector({ formats: CAMERA_FORMATS.filter((f) => formats.includes(f)) });
  }

  function detector() {
    if (!detectorPromise) {
      detectorPromise = makeDetector().catch((err) => {
        detectorPromise = null;
        throw err;
      });
    }
    return detectorPromise;
  }

  async function openCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      refuse(fmt(S.noCamera, { reason: "getUserMedia" }));
      return;
    }
    let reader;
    try {
      reader = await detector();
    } catch (err) {
      refuse(S.cameraNotSupported);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (err) {
      refuse(fmt(S.noCamera, { reason: err.name || err }));
      return;
    }
    const video = $("camera-video");
    video.srcObject = stream;
    $("camera").hidden = false;
    try {
      await video.play();
    } catch (e) {
      /* autoplay refused: the frames still arrive */
    }
    const tick = async () => {
      if (!stream) return;
      try {
        const codes = video.readyState >= 2 ? await reader.detect(video) : [];
        const value = codes.length ? codes[0].rawValue : "";
        // The camera stays open for the next person; the same code held in view counts once.
        if (value && (value !== lastRead.value || Date.now() - lastRead.at > 3000)) {
          lastRead = { value, at: Date.now() };
          handle(value);
        } else if (value) {
          lastRead.at = Date.now();
        }
      } catch (e) {
        /* a frame that could not be read */
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  function closeCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera").hidden = true;
    focusScan();
  }

  // ---------------------------------------------------------------- focus and wiring

  const typedForm = $("typed-form");

  function focusScan() {
    if (!typedForm.hidden || !nameForm.hidden) return;
    if (document.activeElement !== els.scan) els.scan.focus({ preventScroll: true });
  }

  function applyKeyboardChoice() {
    const hide = localStorage.getItem("epigrid-desk-no-keyboard") === "1";
    $("no-keyboard").checked = hide;
    // inputmode=none keeps the soft keyboard away; a hardware scanner still types into the field.
    if (hide) els.scan.setAttribute("inputmode", "none");
    else els.scan.removeAttribute("inputmode");
  }

  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = els.scan.value;
    els.scan.value = "";
    handle(value);
    focusScan();
  });
  // Some scanners end with Tab instead of Enter.
  els.scan.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && els.scan.value.trim()) {
      event.preventDefault();
      $("scan-form").requestSubmit();
    }
  });
  els.scan.addEventListener("blur", () => {
    setTimeout(() => {
      const active = document.activeElement;
      if (!active || active === document.body || active.tagName === "BUTTON") focusScan();
    }, 150);
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("input, select, textarea, a, #typed-form, #name-form")) setTimeout(focusScan, 0);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      focusScan();
      flush();
    }
  });

  $("close-btn").addEventListener("click", () => {
    closeTube();
    focusScan();
  });
  $("seal-btn").addEventListener("click", () => {
    sealTube();
    focusScan();
  });
  $("camera-btn").addEventListener("click", () => {
    if (stream) closeCamera();
    else openCamera().finally(focusScan);
  });
  $("camera-stop").addEventListener("click", closeCamera);
  $("no-keyboard").addEventListener("change", (event) => {
    localStorage.setItem("epigrid-desk-no-keyboard", event.target.checked ? "1" : "0");
    applyKeyboardChoice();
    focusScan();
  });

  $("typed-btn").addEventListener("click", () => {
    typedForm.hidden = !typedForm.hidden;
    if (!typedForm.hidden) $("typed-number").focus();
    else focusScan();
  });
  $("typed-cancel").addEventListener("click", () => {
    typedForm.hidden = true;
    focusScan();
  });
  typedForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const type = $("typed-type").value;
    const number = normalise($("typed-number").value);
    const name = $("typed-name").value.trim();
    if (type === "111" && !validResidentId(number)) {
      refuse(S.badId);
      $("typed-number").focus();
      return;
    }
    if (!number) {
      $("typed-number").focus();
      return;
    }
    // The name confirms the person against the registry's masked name, and names a person the
    // registry does not know (the grid's "found, not registered" entry).
    if (!name) {
      refuse(S.nameRequired);
      $("typed-name").focus();
      return;
    }
    typedForm.hidden = true;
    typedForm.reset();
    takePerson({ document_type: type, document_number: number, typed: true, name }, name);
    focusScan();
  });

  // ---------------------------------------------------------------- service worker

  function askToKeepPage(worker) {
    // The page and the files it loaded before the worker was there: cached for offline reloads.
    const urls = [location.href.split("#")[0]];
    document.querySelectorAll("script[src], link[rel=stylesheet][href]").forEach((el) => urls.push(el.src || el.href));
    if (worker) worker.postMessage({ type: "cache", urls });
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    // A worker that takes the page over later (first visit, or an update) is asked again: the
    // first ask may have reached a worker that was replaced before it kept anything.
    navigator.serviceWorker.addEventListener("controllerchange", () => askToKeepPage(navigator.serviceWorker.controller));
    navigator.serviceWorker
      .register(cfg.swUrl, { scope: cfg.scope })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => askToKeepPage(registration.active))
      .catch(() => {
        /* no worker (e.g. plain http on a LAN address): the queue still works while the tab is open */
      });
  }

  // For the browser tests and for checking a phone: decode an image with the camera's reader.
  window.epigridDesk = { detect: async (source) => (await detector()).detect(source), flush };

  async function start() {
    applyKeyboardChoice();
    await loadState();
    renderNet();
    renderTube();
    if (state.tube) {
      const n = countOf(state.tube);
      if (n) showCount(n);
    } else {
      els.big.textContent = S.scanTube;
    }
    await renderQueue();
    focusScan();
    registerWorker();
    flush();
  }

  start();
})();
