// SPDX-License-Identifier: MIT
// The Redfish API, same origin, with the session's token in a header. The
// token lives in this module's memory only: never in a URL, a cookie or
// web storage, so it ends with the tab (docs/console.md).

let token = null;
let onExpired = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
    this.body = body;
  }
}

// What a Redfish error body says, for people: its messages and resolutions.
export function errorText(status, body) {
  const err = body && body.error;
  if (!err) return "HTTP " + status;
  const info = err["@Message.ExtendedInfo"] || [];
  const parts = info.map((m) => [m.Message, m.Resolution].filter(Boolean).join(" "));
  return parts.length ? parts.join("; ") : err.message || "HTTP " + status;
}

export function setToken(t) { token = t; }
export function hasToken() { return token !== null; }
export function authHeaders() { return token ? { "X-Auth-Token": token } : {}; }
// Called once when a request finds the session gone (401).
export function setOnExpired(fn) { onExpired = fn; }

export async function request(method, path, body, { auth = true, headers = {} } = {}) {
  const h = { Accept: "application/json", ...headers };
  if (auth) Object.assign(h, authHeaders());
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", cache: "no-store",
  });
  const text = await res.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch { doc = text; }
  if (res.status === 401 && auth && token) {
    token = null;
    onExpired();
  }
  if (!res.ok) throw new ApiError(res.status, doc);
  return { status: res.status, headers: res.headers, body: doc };
}

export const get = async (path) => (await request("GET", path)).body;
export const post = (path, body) => request("POST", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);

// Run fn over items, at most n at a time (the browser holds six
// connections per origin; more in flight would only queue).
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
