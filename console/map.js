// SPDX-License-Identifier: MIT
// The server map: sockets as columns, a tile per unit with its type,
// capacity, owner (a colour, a pattern and the owner's name: colour is
// never the only signal), power and health. Large servers start with one
// card per socket (counts by type and owner) and open a socket on demand.
import { h, fill, $ } from "./dom.js";
import { state, DETAIL_LIMIT, loadSockets, ownerIndex } from "./model.js";

const ABBR = { "processor": "CPU", "memory": "MEM", "io-host-bridge": "I/O", "unknown": "?" };
const TYPES = ["processor", "memory", "io-host-bridge"];

export const view = {
  filter: { partition: "", type: "", state: "" },
  zoom: null,		// a socket number, on a large server
  selected: null,	// the unit id shown in the inspector
  pinned: false,	// selected by a click: hovering no longer changes it
  compose: null,	// a Set of unit ids while composing
};

let onSelect = () => {};
export function setOnSelect(fn) { onSelect = fn; }
// A free tile dropped on a partition of the legend: fn(unit id, partition).
let onDrop = () => {};
export function setOnDrop(fn) { onDrop = fn; }

export function capacity(u) {
  if (!u.detail) return "";
  if (u.type === "memory") return u.sizeMiB >= 1024 ? u.sizeMiB / 1024 + " GiB" : u.sizeMiB + " MiB";
  if (u.type === "io-host-bridge") return (u.devices || []).join(", ") || "no devices";
  return u.model || "";
}

export const health = (u) => !u.detail ? "" :
  u.health === "OK" ? "OK" : u.health === "Warning" ? "degraded" : "failed";

// What a unit is, in one sentence (tile label, inspector).
export function describe(u) {
  const parts = [ABBR[u.type] + " " + u.id, "socket " + u.socket];
  if (u.detail) parts.push(capacity(u), u.powered ? "powered on" : "powered off", "health " + health(u));
  parts.push(u.owner ? "owned by " + u.owner : "free");
  if (u.detail && u.staged) parts.push("staged to " + u.staged + " at the next restart");
  if (u.detail && u.task) parts.push("an operation holds it");
  return parts.join(", ");
}

function matches(u) {
  const f = view.filter;
  if (f.type && u.type !== f.type) return false;
  if (f.partition === "-" && u.owner) return false;
  if (f.partition && f.partition !== "-" && u.owner !== f.partition) return false;
  if (f.state === "on" && !u.powered) return false;
  if (f.state === "off" && u.powered) return false;
  if (f.state === "unhealthy" && (!u.detail || u.health === "OK")) return false;
  if (f.state === "busy" && !(u.task || u.staged)) return false;
  return true;
}

function tile(u) {
  const own = u.owner ? "own own-" + ownerIndex(u.owner) : "free";
  const picked = view.compose && view.compose.has(u.id);
  const cls = ["tile", "t-" + u.type, own, u.detail && u.powered ? "on" : "off",
    u.detail ? "h-" + health(u) : "", u.task ? "busy" : "", picked ? "picked" : "",
    view.selected === u.id ? "selected" : ""].filter(Boolean).join(" ");
  const pressed = view.compose ? String(Boolean(picked)) : undefined;
  const draggable = !view.compose && !u.owner && u.detail ? "true" : undefined;
  return h("button", { type: "button", class: cls, "data-unit": u.id, "aria-label": describe(u),
    "aria-pressed": pressed, title: describe(u), draggable,
    ondragstart: draggable ? (e) => e.dataTransfer.setData("text/x-dhp-unit", u.id) : undefined,
    onclick: () => click(u), onfocus: () => onSelect(u.id, "focus"), onmouseenter: () => onSelect(u.id, "hover") },
    h("span", { class: "t-head" }, h("span", { class: "t-type", text: ABBR[u.type] }),
      h("span", { class: "t-id", text: u.id })),
    h("span", { class: "t-cap", text: capacity(u) }),
    h("span", { class: "t-owner", text: u.owner || (u.spare ? "free · spare pool" : "free") }),
    h("span", { class: "t-badges" },
      u.detail ? h("span", { class: "pw", text: u.powered ? "● on" : "○ off" }) : null,
      u.detail && u.health !== "OK" ? h("span", { class: "hl", text: u.health === "Warning" ? "▲ degraded" : "✖ failed" }) : null,
      u.detail && u.staged ? h("span", { class: "st", text: "⟳ " + u.staged }) : null,
      u.task ? h("span", { class: "bz", text: "⋯ busy" }) : null));
}

function click(u) {
  if (view.compose) {
    if (u.owner || (u.detail && u.health === "Critical")) return;
    if (view.compose.has(u.id)) view.compose.delete(u.id); else view.compose.add(u.id);
  }
  onSelect(u.id, "click");
}

function socketColumn(s, units) {
  return h("section", { class: "socket", "aria-label": "socket " + s },
    h("h3", { text: "Socket " + s }),
    TYPES.map((t) => {
      const of = units.filter((u) => u.type === t);
      return of.length ? h("div", { class: "tiles", role: "group", "aria-label": ABBR[t] + " of socket " + s },
        of.map(tile)) : null;
    }));
}

// A socket on a large server: counts, and who owns how many.
function socketCard(s, units) {
  const owners = new Map();
  for (const u of units) if (u.owner) owners.set(u.owner, (owners.get(u.owner) || 0) + 1);
  return h("section", { class: "socket card" },
    h("h3", { text: "Socket " + s }),
    h("ul", { class: "counts" }, TYPES.map((t) => {
      const of = units.filter((u) => u.type === t);
      if (!of.length) return null;
      const used = of.filter((u) => u.owner).length;
      return h("li", { text: of.length + " " + ABBR[t] + " · " + (of.length - used) + " free" });
    })),
    h("ul", { class: "owners" }, [...owners].map(([name, n]) =>
      h("li", {}, h("span", { class: "swatch own own-" + ownerIndex(name), "aria-hidden": "true" }),
        h("span", { text: name + ": " + n + " units" })))),
    h("button", { type: "button", text: "Open socket " + s, onclick: () => zoom(s) }));
}

async function zoom(s) {
  view.zoom = s;
  render();
  if (!state.detailed.has(s)) await loadSockets([s]);
}

export function render() {
  const root = $("#map-grid");
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.unit : null;
  const large = state.units.size > DETAIL_LIMIT;
  const bySocket = new Map(state.sockets.map((s) => [s, []]));
  for (const u of state.units.values()) if (matches(u)) (bySocket.get(u.socket) || []).push(u);
  $("#map-zoom-out").hidden = !(large && view.zoom !== null);
  root.classList.toggle("aggregate", large && view.zoom === null);
  root.classList.toggle("zoomed", large && view.zoom !== null);
  if (large && view.zoom === null)
    fill(root, state.sockets.map((s) => socketCard(s, bySocket.get(s))));
  else if (large)
    fill(root, socketColumn(view.zoom, bySocket.get(view.zoom) || []));
  else
    fill(root, state.sockets.map((s) => socketColumn(s, bySocket.get(s))));
  if (focused) {
    const again = root.querySelector('[data-unit="' + CSS.escape(focused) + '"]');
    if (again) again.focus({ preventScroll: true });
  }
  const legend = $("#map-legend");
  fill(legend, h("li", {}, h("span", { class: "swatch free", "aria-hidden": "true" }), "free"),
    [...state.systems.keys()].map((name) => h("li", { class: "drop", "data-drop": name,
      title: "drop a free unit here to add it to " + name,
      ondragover: (e) => { e.preventDefault(); e.currentTarget.classList.add("over"); },
      ondragleave: (e) => e.currentTarget.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        e.currentTarget.classList.remove("over");
        onDrop(e.dataTransfer.getData("text/x-dhp-unit"), name);
      } },
      h("span", { class: "swatch own own-" + ownerIndex(name), "aria-hidden": "true" }), name)));
}

export function zoomOut() { view.zoom = null; render(); }
