// SPDX-License-Identifier: MIT
// A partition's console text (/redfish/v1/Systems/{name}/Oem/Dhp/Console),
// followed while shown: the API serves byte ranges, so the console asks
// for what came after the last byte it has, every second. The text is the
// guest's: untrusted, always set as text.
import { authHeaders, errorText } from "./api.js";

const MAX_KEEP = 256 * 1024;
const followers = new Map();	// name -> { el, btn, text, offset, timer }

function show(f) {
  f.el.textContent = f.text;
  f.el.hidden = false;
  f.el.scrollTop = f.el.scrollHeight;
  f.btn.setAttribute("aria-expanded", "true");
}

async function poll(name) {
  const f = followers.get(name);
  if (!f) return;
  const headers = { ...authHeaders() };
  if (f.offset > 0) headers.Range = "bytes=" + f.offset + "-";
  try {
    const res = await fetch("/redfish/v1/Systems/" + encodeURIComponent(name) + "/Oem/Dhp/Console",
      { headers, cache: "no-store", credentials: "omit" });
    if (res.status === 200 || res.status === 206) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      const range = /bytes (\d+)-(\d+)\/(\d+)/.exec(res.headers.get("Content-Range") || "");
      const start = range ? Number(range[1]) : 0;
      if (start < f.offset || res.status === 200) f.text = "";
      f.text += new TextDecoder().decode(bytes);
      if (f.text.length > MAX_KEEP) f.text = f.text.slice(-MAX_KEEP);
      f.offset = start + bytes.length;
    } else if (res.status === 416) {
      const size = /\*\/(\d+)/.exec(res.headers.get("Content-Range") || "");
      if (size && Number(size[1]) < f.offset) { f.offset = 0; f.text = ""; }	// it started again
    } else {
      let body = null;
      try { body = await res.json(); } catch { /* not JSON */ }
      f.text = "(" + errorText(res.status, body) + ")";
      f.stopped = true;
    }
  } catch (e) {
    f.text += "\n(console: " + e.message + ")";
  }
  if (!followers.has(name)) return;
  show(f);
  if (!f.stopped) f.timer = setTimeout(() => poll(name), 1000);
}

// Show and follow name's console in el, or stop when it is shown already.
export function followConsole(name, el, btn) {
  const f = followers.get(name);
  if (f && f.el === el) {
    clearTimeout(f.timer);
    followers.delete(name);
    el.hidden = true;
    btn.setAttribute("aria-expanded", "false");
    return;
  }
  if (f) clearTimeout(f.timer);
  followers.set(name, { el, btn, text: "", offset: 0, timer: 0 });
  poll(name);
}

// After a redraw: the console followed before goes on in the new element.
export function adoptConsole(name, el, btn) {
  const f = followers.get(name);
  if (!f) return;
  f.el = el;
  f.btn = btn;
  show(f);
}

export function stopAll() {
  for (const f of followers.values()) clearTimeout(f.timer);
  followers.clear();
}
