// SPDX-License-Identifier: MIT
// Composing a partition on the map: pick free units, name it, choose its
// OS profile, confirm.
import { h, fill, $ } from "./dom.js";
import { state } from "./model.js";
import * as map from "./map.js";
import { compose as composeAction } from "./actions.js";
import { roleReason } from "./profiles.js";

const NAME = /^[A-Za-z0-9._-]{1,63}$/;

function reason() {
  const picked = map.view.compose ? [...map.view.compose] : [];
  const name = $("#compose-name").value;
  if (roleReason()) return roleReason();
  if (!picked.length) return "pick at least one free unit on the map";
  if (!NAME.test(name)) return "name it: 1 to 63 of A-Z a-z 0-9 . _ -";
  if (state.systems.has(name) || name === "Capabilities" || name === "Members") return name + " is taken";
  const types = new Set(picked.map((id) => state.units.get(id).type));
  if (!types.has("processor") || !types.has("memory"))
    return "a partition needs at least one processor and one memory module to start";
  return null;
}

export function render() {
  const r = roleReason();
  $("#compose-start").disabled = Boolean(r);
  $("#compose-start-why").textContent = r || "";
  if (r) $("#compose-start").setAttribute("aria-describedby", "compose-start-why");
  const bar = $("#compose-bar");
  bar.hidden = !map.view.compose;
  if (!map.view.compose) return;
  if ($("#compose-profile").options.length !== state.profiles.length)
    fill($("#compose-profile"), state.profiles.map((p) => h("option", { value: p, text: p })));
  const picked = [...map.view.compose];
  $("#compose-picked").textContent = picked.length ? picked.length + " picked: " + picked.join(", ") : "nothing picked yet";
  const why = reason();
  $("#compose-create").disabled = Boolean(why);
  $("#compose-why").textContent = why || "";
}

function stop() {
  map.view.compose = null;
  map.render();
  render();
  $("#compose-start").focus();
}

export function wire() {
  $("#compose-start").addEventListener("click", () => {
    map.view.compose = new Set();
    map.render();
    render();
    $("#compose-name").focus();
  });
  $("#compose-cancel").addEventListener("click", stop);
  $("#compose-name").addEventListener("input", render);
  $("#compose-bar").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (reason()) return;
    const ok = await composeAction($("#compose-name").value, $("#compose-profile").value, [...map.view.compose]);
    if (ok) { $("#compose-name").value = ""; stop(); }
  });
}
