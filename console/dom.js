// SPDX-License-Identifier: MIT
// Building the page: elements made with text, never markup. Everything the
// console shows may come from a partition's OS (veto reasons, names), so no
// string ever goes through innerHTML: h() sets text with textContent and
// attributes one by one.

// h("div", {class: "x", text: "y", title: "z", onclick: fn}, child, ...)
// Children: elements, strings (text nodes), null or false (skipped), arrays.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "disabled" || key === "checked" || key === "hidden" || key === "selected")
      el[key] = Boolean(value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replace what el holds.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// A message for people in a live region (screen readers hear it).
export function say(text, kind = "info") {
  const area = $("#notices");
  const item = h("li", { class: "notice " + kind, role: kind === "error" ? "alert" : "status" },
    h("span", { text }),
    h("button", { type: "button", class: "link", "aria-label": "dismiss", text: "×",
      onclick: () => item.remove() }));
  area.prepend(item);
  while (area.children.length > 4) area.lastChild.remove();
  if (kind !== "error") setTimeout(() => item.remove(), 5000);
}

// Redraw root with fn, keeping the keyboard focus on the element that
// stands for the same thing (the same data-* attributes) afterwards.
export function keepFocus(root, fn) {
  const a = document.activeElement;
  const key = a && root.contains(a) && Object.keys(a.dataset).length
    ? Object.entries(a.dataset).map(([k, v]) => "[data-" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()) +
      '="' + CSS.escape(v) + '"]').join("") : null;
  fn();
  if (key) {
    const again = root.querySelector(a.tagName.toLowerCase() + key);
    if (again) again.focus({ preventScroll: true });
  }
}
