// SPDX-License-Identifier: MIT
// Operations: the running ones with their phases as they arrive (the event
// stream), then the history, with filters. Every text here is the
// service's or the partition OS's (veto reasons): set as text.
import { h, fill, $, say } from "./dom.js";
import { state } from "./model.js";
import { watched } from "./actions.js";

export const filter = { state: "", partition: "", kind: "" };
const FINAL = new Set(["completed", "failed", "rolled-back"]);
const announced = new Set();

function outcome(op) {
  if (!op.error) return op.state || "queued";
  return op.state + ": " + op.error.Message + (op.error.Resolution ? " " + op.error.Resolution : "");
}

function opItem(op, live) {
  return h("li", { class: "op st-" + (op.state || "queued"), "data-op": op.id },
    h("div", { class: "op-head" },
      h("strong", { text: "#" + op.id + " " + (op.kind || "operation") }),
      h("span", { text: (op.partition || "") + (op.units && op.units.length ? " · " + op.units.join(", ") : "") }),
      h("span", { class: "op-state", text: op.state || "queued" })),
    op.error ? h("p", { class: "op-error", text: "why: " + op.error.Message }) : null,
    live || op.messages.length <= 12
      ? h("ol", { class: "phases" }, op.messages.map((m) => h("li", { class: "sev-" + m.severity, text: m.text })))
      : h("details", {}, h("summary", { text: op.messages.length + " steps" }),
        h("ol", { class: "phases" }, op.messages.map((m) => h("li", { class: "sev-" + m.severity, text: m.text })))));
}

function matches(op) {
  if (filter.state && (filter.state === "running" ? FINAL.has(op.state) : op.state !== filter.state)) return false;
  if (filter.partition && op.partition !== filter.partition) return false;
  if (filter.kind && op.kind !== filter.kind) return false;
  return true;
}

// Tell the user how the operations they started ended.
function announce() {
  for (const [id, what] of watched) {
    const op = state.ops.get(id);
    if (!op || !FINAL.has(op.state) || announced.has(id)) continue;
    announced.add(id);
    watched.delete(id);
    say(what + ": " + outcome(op), op.state === "completed" ? "info" : "error");
  }
}

export function render() {
  announce();
  const ops = [...state.ops.values()].sort((a, b) => b.id - a.id);
  const running = ops.filter((o) => !FINAL.has(o.state));
  fill($("#ops-running"), running.length ? running.map((o) => opItem(o, true))
    : h("li", { class: "empty", text: "Nothing running." }));
  const hist = ops.filter((o) => FINAL.has(o.state) && matches(o));
  fill($("#ops-history"), hist.length ? hist.map((o) => opItem(o, false))
    : h("li", { class: "empty", text: "No operation matches." }));
  const parts = $("#ops-filter-partition");
  const want = [...new Set(ops.map((o) => o.partition).filter(Boolean))].sort();
  if (parts.options.length - 1 !== want.length) {
    const cur = parts.value;
    fill(parts, h("option", { value: "", text: "every partition" }), want.map((p) => h("option", { value: p, text: p })));
    parts.value = cur;
  }
}

export function renderEvents() {
  const rows = state.events.slice(-200).reverse();
  fill($("#events-list"), rows.map((e) => h("tr", { class: "sev-" + e.severity },
    h("td", { text: e.seq === null ? "" : String(e.seq) }),
    h("td", { text: (e.time || "").replace("T", " ").replace(/\+00:00$/, "") }),
    h("td", { text: e.severity || "" }),
    h("td", { text: e.text || "" }),
    h("td", { text: [e.partition, e.unit, e.op ? "op " + e.op : ""].filter(Boolean).join(" · ") }))));
}
