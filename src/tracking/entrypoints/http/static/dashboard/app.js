// The dashboard: plain JavaScript over the public API, nothing else. What it shows a client is
// what that client's credential may read. The API key is exchanged for a token at sign-in and
// only the token is kept, in this tab's session storage.

const TOKEN = "tracking.token";
const main = document.getElementById("main");
let stopPage = () => {};

// ---- the API ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || `the server answered ${status}`);
    this.status = status;
    this.code = problem.code;
  }
}

async function api(path, { method = "GET", body, params, headers = {} } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const token = sessionStorage.getItem(TOKEN);
  const sent = { ...headers };
  if (token && !sent["X-API-Key"]) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const answer = await fetch(url, {
    method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  const data = text ? JSON.parse(text) : null;
  if (!answer.ok) {
    if (answer.status === 401 && token) signOut("Your session has ended: sign in again.");
    throw new ApiError(answer.status, data || {});
  }
  return data;
}

function claims() {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return null;
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

const isAdmin = () => claims()?.role === "admin";

// ---- building pages --------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function field(label, input) {
  return el("label", {}, label, input);
}

function table(caption, columns, rows) {
  // In a box of its own that scrolls sideways on a narrow screen, not the whole page.
  return el("div", { class: "scroll" }, el("table", {},
    el("caption", { class: "note" }, caption),
    el("thead", {}, el("tr", {}, columns.map(([name, , numeric]) => el("th", { scope: "col", class: numeric ? "n" : null }, name)))),
    el("tbody", {}, rows.length
      ? rows.map((row) => el("tr", {}, columns.map(([, value, numeric]) => el("td", { class: numeric ? "n" : null }, value(row) ?? ""))))
      : el("tr", {}, el("td", { colspan: columns.length, class: "note" }, "Nothing yet.")))));
}

function failure(error) {
  return el("p", { class: "error", role: "alert" }, error.message);
}

function page(title, ...content) {
  main.replaceChildren(el("h2", {}, title), ...content.filter((part) => part !== null));
  document.title = `${title} · tracking`;
}

async function show(node, load) {
  node.replaceChildren(el("p", { class: "note", role: "status" }, "Loading…"));
  try {
    node.replaceChildren(...[await load()].flat());
  } catch (error) {
    node.replaceChildren(failure(error));
  }
}

const day = (offset = 0) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const when = (text) => (text ? new Date(text).toLocaleString() : "");

function chart(points) {
  // Bars: events; line: unique users. Numbers are in the table beside it.
  const width = 600, height = 160, top = Math.max(1, ...points.map((p) => p.events));
  const step = width / Math.max(1, points.length);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Events (bars) and unique users (line) over time: the table below has the numbers");
  points.forEach((p, i) => {
    const bar = document.createElementNS(svg.namespaceURI, "rect");
    const h = (p.events / top) * (height - 10);
    bar.setAttribute("x", i * step + step * 0.1);
    bar.setAttribute("width", step * 0.8);
    bar.setAttribute("y", height - h);
    bar.setAttribute("height", h);
    svg.append(bar);
  });
  const line = document.createElementNS(svg.namespaceURI, "polyline");
  line.setAttribute("points", points.map((p, i) => `${i * step + step / 2},${height - (p.unique_users / top) * (height - 10)}`).join(" "));
  svg.append(line);
  return svg;
}

// ---- pages -----------------------------------------------------------------------------

function signIn(message) {
  const key = el("input", { id: "api-key", type: "password", autocomplete: "off", required: true, name: "api-key" });
  const said = el("div", { "aria-live": "polite" }, message ? el("p", { class: "error", role: "alert" }, message) : null);
  const form = el("form", { class: "bar", on: { submit: async (event) => {
    event.preventDefault();
    try {
      const issued = await api("/api/auth/token", { method: "POST", headers: { "X-API-Key": key.value.trim() } });
      sessionStorage.setItem(TOKEN, issued.access_token);
      location.hash = "#overview";
      route();
    } catch (error) {
      said.replaceChildren(el("p", { class: "error", role: "alert" }, `Not signed in: ${error.message}`));
    }
  } } }, field("API key", key), el("button", { type: "submit" }, "Sign in"));
  page("Sign in", el("p", {}, "Your key is exchanged for a token kept only in this tab; the key itself is not kept."), form, said);
  key.focus();
}

function overview() {
  const from = el("input", { type: "date", value: day(-6), name: "from" });
  const till = el("input", { type: "date", value: day(1), name: "till" });
  const tz = el("input", { value: zone(), name: "tz", size: 18 });
  const interval = el("select", { name: "interval" }, el("option", { value: "day" }, "day"), el("option", { value: "hour" }, "hour"));
  const out = el("section", { id: "overview-data", "aria-live": "polite" });
  const load = () => show(out, async () => {
    const params = { from: from.value, till: till.value, tz: tz.value, interval: interval.value };
    const series = await api("/api/stats/series", { params });
    const today = await api("/api/stats/daily", { params: { tz: tz.value } });
    return [
      chart(series.points),
      table(`Events and unique users by ${series.interval}, ${series.time_zone}`, [
        ["Start", (p) => p.start], ["Events", (p) => p.events, true], ["Unique users", (p) => p.unique_users, true],
      ], series.points),
      el("div", { class: "grid" },
        table(`Top actions, ${today.date}`, [["Action", (a) => a.action], ["Events", (a) => a.events, true]], today.top_actions),
        table(`Top paths, ${today.date}`, [["Path", (p) => p.path], ["Events", (p) => p.events, true]], today.top_paths)),
    ];
  });
  page("Overview", el("form", { class: "bar", on: { submit: (e) => { e.preventDefault(); load(); } } },
    field("From", from), field("Till (exclusive)", till), field("Time zone", tz), field("Interval", interval),
    el("button", { type: "submit" }, "Show")), out);
  load();
}

function live() {
  const user = el("input", { name: "user_id" });
  const action = el("input", { name: "action" });
  const pause = el("button", { type: "button", class: "quiet", "aria-pressed": "false" }, "Pause");
  const status = el("p", { class: "note", role: "status" }, "Connecting…");
  const feed = el("ol", { class: "feed", id: "feed", "aria-live": "polite", "aria-relevant": "additions" });
  let source = null, last = null, paused = false, held = [];
  const add = (event) => {
    feed.prepend(el("li", {}, el("strong", {}, event.action), ` by ${event.user_id} at ${when(event.occurred_at)}`,
      el("span", { class: "note" }, ` ${JSON.stringify(event.metadata)}`)));
    while (feed.children.length > 200) feed.lastChild.remove();
  };
  const open = async () => {
    source?.close();
    try {
      const { access_token: token } = await api("/api/auth/stream-token", { method: "POST" });
      const url = new URL("/api/events/stream", location.origin);
      url.searchParams.set("token", token);
      if (user.value) url.searchParams.set("user_id", user.value);
      if (action.value) url.searchParams.set("action", action.value);
      if (last !== null) url.searchParams.set("last_event_id", last);
      source = new EventSource(url);
      source.onopen = () => { status.textContent = "Live: new events appear at the top."; };
      source.onmessage = (message) => {
        last = message.lastEventId;
        const event = JSON.parse(message.data);
        if (paused) held.push(event); else add(event);
      };
      source.addEventListener("reset", () => { status.textContent = "Some events were older than the replay horizon."; });
      // A stream token is good for a minute: a reconnection takes a new one, from the last id.
      source.onerror = () => { source.close(); status.textContent = "Reconnecting…"; setTimeout(open, 1000); };
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) { held.forEach(add); held = []; }
  });
  page("Live", el("form", { class: "bar", on: { submit: (e) => { e.preventDefault(); last = null; feed.replaceChildren(); open(); } } },
    field("User id", user), field("Action", action), el("button", { type: "submit" }, "Filter"), pause), status, feed);
  open();
  stopPage = () => source?.close();
}

function user() {
  const id = el("input", { name: "user_id", required: true });
  const out = el("section", { id: "user-data", "aria-live": "polite" });
  let cursors = [null];
  const load = () => show(out, async () => {
    const params = { user_id: id.value, limit: 20, cursor: cursors[cursors.length - 1] };
    const events = await api("/api/events", { params });
    const metrics = await api("/api/metrics", { params: { user_id: id.value, limit: 50 } });
    const previous = el("button", { type: "button", class: "quiet", disabled: cursors.length === 1,
      on: { click: () => { cursors.pop(); load(); } } }, "Newer");
    const next = el("button", { type: "button", class: "quiet", disabled: !events.next_cursor,
      on: { click: () => { cursors.push(events.next_cursor); load(); } } }, "Older");
    return [
      table(`Events of ${id.value}, page ${cursors.length}, newest first`, [
        ["Occurred", (e) => when(e.occurred_at)], ["Action", (e) => e.action], ["Id", (e) => e.id],
        ["Metadata", (e) => JSON.stringify(e.metadata)],
      ], events.events),
      el("p", {}, previous, " ", next),
      table(`Metrics windows of ${id.value}`, [
        ["Window", (m) => `${when(m.window_start)} – ${when(m.window_end)}`], ["Events", (m) => m.event_count, true],
        ["Distinct actions", (m) => m.distinct_actions, true],
      ], metrics.metrics),
    ];
  });
  page("User", el("form", { class: "bar", on: { submit: (e) => { e.preventDefault(); cursors = [null]; load(); } } },
    field("User id", id), el("button", { type: "submit" }, "Look up")), out);
  id.focus();
}

function metrics() {
  if (!isAdmin()) {
    page("Metrics", el("p", { class: "error", role: "alert" }, "Only an admin reads the metrics run log; your users' metrics are on the User page."));
    return;
  }
  const out = el("section", { "aria-live": "polite" });
  const ran = el("div", { "aria-live": "polite" });
  const load = () => show(out, async () => {
    const answer = await api("/api/metrics/windows", { params: { from: `${day(-2)}T00:00:00Z`, till: `${day(1)}T00:00:00Z` } });
    return table("Windows of the last two days", [
      ["Start", (w) => when(w.start)], ["End", (w) => when(w.end)], ["Kind", (w) => w.kind],
      ["Stale", (w) => (w.stale ? "yes" : "no")], ["Users", (w) => w.users, true], ["Events", (w) => w.events, true],
    ], answer.windows);
  });
  const run = el("button", { type: "button", on: { click: async () => {
    try {
      const report = await api("/api/metrics", { method: "POST" });
      ran.replaceChildren(el("p", { role: "status" }, `Computed ${report.windows.length} windows with events and ${report.empty} empty ones; ${report.pending} pending.`));
      load();
    } catch (error) { ran.replaceChildren(failure(error)); }
  } } }, "Compute now");
  page("Metrics", el("p", {}, run), ran, out);
  load();
}

function usage() {
  const out = el("section", { "aria-live": "polite" });
  page("Usage", out);
  show(out, async () => {
    const days = await api("/api/usage/daily", { params: { from: day(-6), till: day(1), tz: zone() } });
    const parts = [table(`Requests by day, ${days.tz}`, [
      ["Date", (d) => d.date], ["Requests", (d) => d.requests, true], ["Client errors", (d) => d.client_errors, true],
      ["Server errors", (d) => d.server_errors, true], ["p50 ms", (d) => d.p50_ms, true], ["p95 ms", (d) => d.p95_ms, true],
    ], days.days)];
    if (isAdmin()) {
      const top = await api("/api/usage/top-clients");
      parts.push(table("Top clients, last 24 hours", [["Client", (c) => c.name], ["Requests", (c) => c.requests, true]], top.clients));
    }
    return parts;
  });
}

function clients() {
  if (!isAdmin()) {
    page("Clients", el("p", { class: "error", role: "alert" }, "Only an admin manages clients."));
    return;
  }
  const out = el("section", { "aria-live": "polite" });
  const said = el("div", { "aria-live": "polite" });
  const name = el("input", { name: "name", required: true });
  const rate = el("input", { name: "rate_limit_per_minute", type: "number", min: 1, value: 1000 });
  const act = (label, run) => el("button", { type: "button", class: "quiet", on: { click: async () => {
    try { said.replaceChildren(await run()); load(); } catch (error) { said.replaceChildren(failure(error)); }
  } } }, label);
  const newKey = (client, what) => el("div", { role: "status" }, el("p", {}, `${what} ${client.name}: its key, shown this once:`), el("p", { class: "key" }, client.api_key));
  const load = () => show(out, async () => {
    const all = await api("/api/clients");
    return table("Clients", [
      ["Name", (c) => c.name], ["Role", (c) => c.role], ["Active", (c) => (c.active ? "yes" : "no")],
      ["Requests/min", (c) => c.rate_limit_per_minute, true], ["Events/min", (c) => c.events_per_minute, true],
      ["", (c) => el("span", {},
        act(`Rotate key of ${c.name}`, async () => newKey(await api(`/api/clients/${c.id}/rotate-key`, { method: "POST" }), "Rotated")),
        " ",
        c.active ? act(`Deactivate ${c.name}`, async () => { await api(`/api/clients/${c.id}`, { method: "DELETE" }); return el("p", { role: "status" }, `${c.name} deactivated.`); }) : null,
        " ",
        act(`Change the limits of ${c.name}`, async () => limitsForm(c)))],
    ], all);
  });
  const limitsForm = (c) => {
    const requests = el("input", { type: "number", min: 1, name: "rate_limit_per_minute", value: c.rate_limit_per_minute });
    const events = el("input", { type: "number", min: 1, name: "events_per_minute", value: c.events_per_minute });
    const form = el("form", { class: "bar", "aria-label": `Limits of ${c.name}`, on: { submit: async (event) => {
      event.preventDefault();
      try {
        await api(`/api/clients/${c.id}`, { method: "PATCH", body: { rate_limit_per_minute: Number(requests.value), events_per_minute: Number(events.value) } });
        said.replaceChildren(el("p", { role: "status" }, `${c.name}: limits changed.`));
        load();
      } catch (error) { said.replaceChildren(failure(error)); }
    } } }, field(`Requests per minute of ${c.name}`, requests), field(`Events per minute of ${c.name}`, events), el("button", { type: "submit" }, "Save limits"));
    setTimeout(() => requests.focus());
    return form;
  };
  const form = el("form", { class: "bar", on: { submit: async (event) => {
    event.preventDefault();
    try {
      said.replaceChildren(newKey(await api("/api/clients", { method: "POST", body: { name: name.value, rate_limit_per_minute: Number(rate.value) } }), "Registered"));
      load();
    } catch (error) { said.replaceChildren(failure(error)); }
  } } }, field("Name", name), field("Requests per minute", rate), el("button", { type: "submit" }, "Register"));
  page("Clients", form, said, out);
  load();
}

// ---- navigation ------------------------------------------------------------------------

const PAGES = { overview, live, user, metrics, usage, clients };

function signOut(message) {
  sessionStorage.removeItem(TOKEN);
  stopPage();
  location.hash = "";
  route(message);
}

function route(message) {
  stopPage();
  stopPage = () => {};
  const who = claims();
  const nav = document.getElementById("nav");
  nav.hidden = !who;
  document.getElementById("sign-out").hidden = !who;
  const badge = document.getElementById("who");
  badge.hidden = !who;
  if (!who || who.exp * 1000 <= Date.now()) {
    if (who) sessionStorage.removeItem(TOKEN);
    nav.hidden = true;
    signIn(typeof message === "string" ? message : who ? "Your session has ended: sign in again." : undefined);
    return;
  }
  badge.textContent = `${who.role} ${who.sub}`;
  for (const link of nav.querySelectorAll("[data-admin]")) link.hidden = who.role !== "admin";
  const name = location.hash.slice(1) || "overview";
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  (PAGES[name] || overview)();
}

document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", () => route());
route();
