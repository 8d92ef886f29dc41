// SPDX-License-Identifier: MIT
// The unit under the pointer or the focus, in full; for a free unit, the
// hot add to a partition of one's choice; for an owned one, its actions.
import { h, fill, $ } from "./dom.js";
import { state, unitsOf, spareFor } from "./model.js";
import { view, describe, capacity } from "./map.js";
import { actionButton } from "./partitions.js";
import * as act from "./actions.js";
import * as why from "./profiles.js";

function freeActions(u) {
  const systems = [...state.systems.values()];
  if (!systems.length) return h("p", { class: "muted", text: "No partition to add it to: compose one." });
  const select = h("select", { id: "inspector-target", "aria-label": "partition to add " + u.id + " to" },
    systems.map((s) => h("option", { value: s.Id, text: s.Id + " (" + s.Oem.Dhp.State + ")" })));
  const slot = h("span", {});
  const update = () => {
    const sys = state.systems.get(select.value);
    fill(slot, actionButton("Hot add " + u.id + "…", sys ? why.addReason(sys, u, state.mode) : "no partition",
      () => act.add(sys, u), { "data-action": "inspector-add", "data-unit": u.id }));
  };
  select.addEventListener("change", update);
  update();
  return h("div", { class: "add" }, h("label", {}, "Add to ", select), slot);
}

function ownedActions(u) {
  const sys = state.systems.get(u.owner);
  if (!sys) return null;
  const units = unitsOf(sys);
  const spare = spareFor(u);
  return h("div", { class: "add" },
    actionButton("Remove from " + sys.Id + "…", why.removeReason(sys, u, units, state.mode), () => act.remove(sys, u)),
    actionButton("Replace" + (spare ? " by " + spare.id : "") + "…", why.replaceReason(sys, u, spare, state.mode),
      () => act.replace(sys, u, spare)));
}

export function inspect() {
  const el = $("#inspector");
  const u = view.selected && state.units.get(view.selected);
  if (!u) return fill(el, h("p", { class: "muted", text: "Point at or focus a unit to see it; click it to act on it." }));
  if (el.contains(document.activeElement) && el.dataset.unit === u.id) return;	// do not pull the control away
  el.dataset.unit = u.id;
  fill(el, h("h2", { text: u.id }),
    h("p", { text: describe(u) }),
    u.detail && u.model ? h("p", { class: "muted", text: "model " + u.model + (u.type === "memory" ? ", " + capacity(u) : "") }) : null,
    view.compose ? null : u.owner ? ownedActions(u) : u.detail ? freeActions(u) : null);
}
