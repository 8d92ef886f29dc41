// SPDX-License-Identifier: MIT
// The console's start: login, the views, the event stream, and the way
// back to the login when the session ends.
import { h, fill, $, say } from "./dom.js";
import { setOnExpired, ApiError } from "./api.js";
import * as session from "./session.js";
import { EventStream } from "./stream.js";
import { state, subscribe, loadAll, applyEvent, resetState } from "./model.js";
import { view as mapView } from "./map.js";
import * as map from "./map.js";
import * as partitions from "./partitions.js";
import * as operations from "./operations.js";
import { stopAll as stopConsoles } from "./guest-console.js";
import { inspect } from "./inspector.js";
import * as compose from "./compose.js";
import { add as addUnit } from "./actions.js";
import { addReason } from "./profiles.js";

let stream = null;
const TABS = ["map", "partitions", "operations", "events"];

function showTab(name) {
  for (const t of TABS) {
    $("#tab-" + t).hidden = t !== name;
    $("#tab-btn-" + t).setAttribute("aria-selected", String(t === name));
    $("#tab-btn-" + t).tabIndex = t === name ? 0 : -1;
  }
  if (stale.has(name)) draw(name);
}

function showLogin(message) {
  resetState();
  Object.assign(mapView, { selected: null, pinned: false, compose: null, zoom: null });
  fill($("#server-name"));
  $("#app").hidden = true;
  $("#login").hidden = false;
  for (const id of ["#logout", "#who", "#stream-state"]) $(id).hidden = true;
  $("#login-message").textContent = message || "";
  $("#login-password").value = "";
  $("#login-user").focus();
}

function streamState(s, why) {
  const el = $("#stream-state");
  el.hidden = false;
  el.className = "stream is-" + s;
  el.textContent = s === "live" ? "● live" : s === "reconnecting" ? "◌ reconnecting" + (why ? " (" + why + ")" : "") : "○ stopped";
}

// The session is gone (expired, deleted elsewhere, dhpd restarted).
function expired() {
  if (!session.session()) return;
  if (stream) stream.stop();
  stream = null;
  stopConsoles();
  session.forget();
  showLogin("Your session has ended (it expired or was closed). Log in again.");
}

async function start(user) {
  $("#login").hidden = true;
  $("#app").hidden = false;
  const s = session.session();
  fill($("#who"), s.user + " (" + s.role + ")");
  $("#who").hidden = false;
  $("#logout").hidden = false;
  showTab("map");
  // The stream first, so that nothing that happens while the resources
  // are read is missed: its events make them read again.
  let live;
  const ready = new Promise((r) => { live = r; });
  stream = new EventStream({ onEvent: applyEvent, onExpired: expired,
    onState: (st, why) => { streamState(st, why); if (st === "live") live(); } });
  stream.start();
  await Promise.race([ready, new Promise((r) => setTimeout(r, 3000))]);
  try {
    await loadAll();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) say("Could not read the server: " + e.message, "error");
  }
  fill($("#server-name"), state.chassis ? "server " + state.chassis.Id + " · " + state.mode +
    " · " + state.units.size + " units" : "");
  document.body.dataset.user = user;
}

function renderFilters() {
  const sel = $("#filter-partition");
  const cur = sel.value;
  fill(sel, h("option", { value: "", text: "all" }), h("option", { value: "-", text: "free units" }),
    [...state.systems.keys()].map((n) => h("option", { value: n, text: n })));
  sel.value = [...sel.options].some((o) => o.value === cur) ? cur : "";
}

// The views are drawn only while shown, and not while the user holds one
// of their lists (a redraw would close it under the pointer): such a view
// is drawn when it is shown again, or when the list is left.
const VIEWS = {
  map: () => { renderFilters(); map.render(); inspect(); compose.render(); },
  partitions: () => partitions.render(),
  events: () => operations.renderEvents(),
};
const stale = new Set();

function draw(name) {
  const panel = $("#tab-" + name);
  const a = document.activeElement;
  if (panel.hidden || (a && a.tagName === "SELECT" && panel.contains(a))) {
    stale.add(name);
    return;
  }
  stale.delete(name);
  VIEWS[name]();
}

subscribe((what) => {
  if (what.has("units") || what.has("systems")) { draw("map"); draw("partitions"); }
  if (what.has("ops")) { operations.render(); draw("partitions"); }
  if (what.has("events")) draw("events");
  document.body.dataset.loaded = String(state.loaded);
});

function wire() {
  setOnExpired(expired);
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const user = $("#login-user").value;
    $("#login-submit").disabled = true;
    $("#login-message").textContent = "";
    try {
      await session.login(user, $("#login-password").value);
      $("#login-password").value = "";
      await start(user);
    } catch (err) {
      $("#login-message").textContent = err instanceof ApiError && err.status === 401
        ? "Wrong user name or password." : "Could not log in: " + err.message;
    } finally {
      $("#login-submit").disabled = false;
    }
  });
  $("#logout").addEventListener("click", async () => {
    if (stream) stream.stop();
    stream = null;
    stopConsoles();
    await session.logout();
    showLogin("You are logged out.");
  });
  for (const t of TABS) $("#tab-btn-" + t).addEventListener("click", () => showTab(t));
  $(".tabs").addEventListener("keydown", (e) => {
    const i = TABS.findIndex((t) => $("#tab-btn-" + t).getAttribute("aria-selected") === "true");
    const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!d) return;
    const next = TABS[(i + d + TABS.length) % TABS.length];
    showTab(next);
    $("#tab-btn-" + next).focus();
  });
  for (const [id, key] of [["#filter-partition", "partition"], ["#filter-type", "type"], ["#filter-state", "state"]])
    $(id).addEventListener("change", (e) => { map.view.filter[key] = e.target.value; map.render(); });
  for (const [id, key] of [["#ops-filter-state", "state"], ["#ops-filter-partition", "partition"], ["#ops-filter-kind", "kind"]])
    $(id).addEventListener("change", (e) => { operations.filter[key] = e.target.value; operations.render(); });
  $("#map-zoom-out").addEventListener("click", map.zoomOut);
  // Hovering previews a unit until one is clicked; focus (the keyboard's
  // pointer) and clicks always show theirs.
  map.setOnSelect((id, how) => {
    if (how === "hover" && map.view.pinned) return;
    if (how === "click") map.view.pinned = true;
    if (map.view.selected === id && how !== "click") return;
    map.view.selected = id;
    inspect();
    if (how === "click") { map.render(); compose.render(); }
  });
  // Drag a free tile onto a partition of the legend: the same hot add (or
  // assign), confirmed, or its reason when it may not.
  map.setOnDrop((id, name) => {
    const u = state.units.get(id), sys = state.systems.get(name);
    if (!u || !sys) return;
    const r = addReason(sys, u, state.mode);
    if (r) say("cannot add " + id + " to " + name + ": " + r, "error");
    else addUnit(sys, u);
  });
  compose.wire();
  document.addEventListener("focusout", () => setTimeout(() => { for (const v of [...stale]) draw(v); }));
  // For tests and for people debugging: drop the stream as a network loss would.
  window.addEventListener("dhp-drop-stream", () => stream && stream.drop());
  showLogin("");
}

wire();
