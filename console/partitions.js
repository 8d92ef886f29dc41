// SPDX-License-Identifier: MIT
// The partitions: name, OS profile and what it allows, state, size, staged
// changes, units with their actions, the guest's console text.
import { h, fill, $, keepFocus } from "./dom.js";
import { state, unitsOf, spareFor, ownerIndex } from "./model.js";
import { describe, capacity } from "./map.js";
import * as act from "./actions.js";
import * as why from "./profiles.js";
import { followConsole, adoptConsole } from "./guest-console.js";

// A button that is disabled with its reason shown beside it (and read out
// with it: aria-describedby), never hidden.
let reasonSeq = 0;
export function actionButton(label, reason, onclick, extra = {}) {
  return actionRow([[label, reason, onclick, extra]], "action");
}

// Buttons in a row, then each distinct reason once (several buttons
// disabled for one reason point to the same line).
// shown: reasons already on the page (reason -> element id), not repeated.
export function actionRow(specs, cls = "actions", shown = new Map()) {
  const reasons = new Map();
  const buttons = specs.map(([label, reason, onclick, extra = {}]) => {
    let id;
    if (reason && shown.has(reason)) id = shown.get(reason);
    else if (reason) {
      if (!reasons.has(reason)) reasons.set(reason, "why-" + (++reasonSeq));
      id = reasons.get(reason);
    }
    return h("button", { type: "button", disabled: Boolean(reason), onclick,
      "aria-describedby": id, title: reason || undefined, ...extra }, label);
  });
  return h("div", { class: cls }, buttons,
    [...reasons].map(([text, id]) => h("span", { class: "reason", id, text })));
}

const count = (n, one, many) => n + " " + (n === 1 ? one : many);

function size(units) {
  const cpus = units.filter((u) => u.type === "processor").length;
  const mem = units.filter((u) => u.type === "memory").reduce((n, u) => n + (u.sizeMiB || 0), 0);
  const io = units.filter((u) => u.type === "io-host-bridge").length;
  return count(cpus, "processor", "processors") + ", " + (mem / 1024) + " GiB memory, " +
    count(io, "I/O host bridge", "I/O host bridges");
}

function unitRow(sys, u, units, shown) {
  const spare = u.detail ? spareFor(u) : null;
  return h("li", { class: "unit-row" },
    h("span", { class: "u-desc", text: u.id + " · " + capacity(u) + (u.boot ? " · boot memory" : "") +
      (u.staged ? " · staged to " + u.staged : "") }),
    actionRow([
      ["Remove", why.removeReason(sys, u, units, state.mode), () => act.remove(sys, u),
        { "aria-label": "Remove " + u.id, "data-action": "remove", "data-unit": u.id }],
      ["Replace", why.replaceReason(sys, u, spare, state.mode), () => act.replace(sys, u, spare),
        { "aria-label": "Replace " + u.id + (spare ? " by " + spare.id : ""), "data-action": "replace",
          "data-unit": u.id }]], "u-actions", shown));
}

// The unit picked in each partition's "Hot add" list: kept across redraws,
// which events cause at any time.
const picks = new Map();

// The free units a partition could take, for its "Hot add" picker.
function addPicker(sys, shown) {
  const free = [...state.units.values()].filter((u) => !u.owner && u.detail && u.health !== "Critical");
  const reason = why.addReason(sys, null, state.mode) || (free.length ? null : "no free unit");
  const select = h("select", { "aria-label": "unit to add to " + sys.Id, "data-add-unit": sys.Id,
    disabled: Boolean(reason), onchange: (e) => picks.set(sys.Id, e.target.value) },
    h("option", { value: "", text: "a free unit…" }),
    free.map((u) => {
      const r = why.addReason(sys, u, state.mode);
      return h("option", { value: u.id, disabled: Boolean(r), selected: picks.get(sys.Id) === u.id,
        text: u.id + " · " + capacity(u) + (r ? " — " + r : "") });
    }));
  const btn = actionRow([["Hot add…", reason, () => {
    const u = state.units.get(select.value);
    if (u) act.add(sys, u).then((ok) => { if (ok) picks.delete(sys.Id); });
  }, { "data-action": "add", "data-partition": sys.Id }]], "action", shown);
  return h("div", { class: "add" }, select, btn);
}

function card(sys) {
  const d = sys.Oem.Dhp;
  const units = unitsOf(sys);
  const staged = d.StagedResourceBlocks || { Add: [], Remove: [] };
  const stagedText = [...(staged.Add || []).map((l) => "add " + l["@odata.id"].split("/").pop()),
    ...(staged.Remove || []).map((l) => "remove " + l["@odata.id"].split("/").pop())];
  // What stops every action of the card (the role, a running operation) is
  // said once, at its top.
  const whole = why.roleReason() || why.busyReason(sys);
  const wholeId = "why-" + (++reasonSeq);
  const shown = new Map(whole ? [[whole, wholeId]] : []);
  const consoleOut = h("pre", { class: "guest-console", hidden: true, "aria-label": "console of " + sys.Id,
    tabindex: "0" });
  return h("article", { class: "partition", "data-partition": sys.Id, "aria-label": "partition " + sys.Id },
    h("header", {},
      h("span", { class: "swatch own own-" + ownerIndex(sys.Id), "aria-hidden": "true" }),
      h("h3", { text: sys.Id }),
      h("span", { class: "state s-" + d.State, text: d.State }),
      d.Task ? h("span", { class: "busy", text: "operation " + d.Task["@odata.id"].split("/").pop() + " running" }) : null),
    whole ? h("p", { class: "reason whole", id: wholeId, text: whole }) : null,
    h("dl", {},
      h("dt", { text: "OS profile" }), h("dd", { text: d.OsProfile }),
      h("dt", { text: "it allows" }), h("dd", {}, h("ul", { class: "caps" },
        why.profileSummary(sys).map((l) => h("li", { text: l })))),
      h("dt", { text: "size" }), h("dd", { text: size(units) }),
      h("dt", { text: "staged" }), h("dd", { text: stagedText.length ? stagedText.join(", ") : "nothing" })),
    actionRow([
      ...["start", "stop", "restart"].map((k) => [k[0].toUpperCase() + k.slice(1),
        why.resetReason(sys, k), () => act.reset(sys, k), { "data-action": k, "data-partition": sys.Id }]),
      ["Delete", why.deleteReason(sys), () => act.deletePartition(sys),
        { "data-action": "delete", "data-partition": sys.Id }],
      ["Console", null, (e) => followConsole(sys.Id, consoleOut, e.currentTarget),
        { "aria-expanded": "false", "data-console": sys.Id }]], "actions", shown),
    addPicker(sys, shown),
    h("details", { open: units.length <= 16 }, h("summary", { text: units.length + " units" }),
      h("ul", { class: "units" }, units.map((u) => unitRow(sys, u, units, shown)))),
    consoleOut);
}

export function render() {
  const root = $("#partitions-list");
  const systems = [...state.systems.values()];
  if (!systems.length) return fill(root, h("p", { class: "empty", text: "No partition yet: compose one on the map." }));
  keepFocus(root, () => fill(root, systems.map(card)));
  for (const c of root.querySelectorAll("[data-partition]"))
    if (c.tagName === "ARTICLE")
      adoptConsole(c.dataset.partition, c.querySelector("pre.guest-console"), c.querySelector("[data-console]"));
}
