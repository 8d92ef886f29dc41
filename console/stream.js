// SPDX-License-Identifier: MIT
// The event stream (/redfish/v1/EventService/SSE) read with fetch(), not
// EventSource: EventSource cannot send the X-Auth-Token header, and the
// token must stay out of URLs. A lost stream is opened again with
// Last-Event-ID, and dhpd replays what came in between: no gap, no
// duplicate (docs/dhpd.md, "Event stream").
import { authHeaders } from "./api.js";

const SSE = "/redfish/v1/EventService/SSE";

export class EventStream {
  // onEvent(seq, event) for each Event; onState("live"|"reconnecting"|"stopped", why);
  // onExpired() when the session is gone (401).
  constructor({ onEvent, onState, onExpired }) {
    Object.assign(this, { onEvent, onState, onExpired });
    this.lastId = null;
    this.abort = null;
    this.running = false;
    this.retryMs = 500;
  }

  start(lastId = null) {
    this.lastId = lastId;
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    if (this.abort) this.abort.abort();
    this.onState("stopped");
  }

  // Close the connection as a network loss would (tests, and a stalled stream).
  drop() { if (this.abort) this.abort.abort(); }

  async loop() {
    while (this.running) {
      let why = "";
      try {
        await this.once();
        why = "the service ended the stream";
      } catch (e) {
        if (!this.running) return;
        if (e && e.expired) { this.running = false; this.onExpired(); return; }
        why = e && e.message ? e.message : String(e);
      }
      if (!this.running) return;
      this.onState("reconnecting", why);
      await new Promise((r) => setTimeout(r, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    }
  }

  async once() {
    const headers = { Accept: "text/event-stream", ...authHeaders() };
    if (this.lastId !== null) headers["Last-Event-ID"] = String(this.lastId);
    this.abort = new AbortController();
    const res = await fetch(SSE, { headers, signal: this.abort.signal, cache: "no-store",
      credentials: "omit" });
    if (res.status === 401) throw Object.assign(new Error("session ended"), { expired: true });
    if (!res.ok) throw new Error("event stream: HTTP " + res.status);
    this.onState("live");
    this.retryMs = 500;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let end;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        this.record(buf.slice(0, end));
        buf = buf.slice(end + 2);
      }
    }
  }

  // One record: "id: N" and "data: ..." lines; comments (": keep-alive") skipped.
  record(text) {
    let id = null;
    const data = [];
    for (const line of text.split("\n")) {
      if (line.startsWith("id:")) id = line.slice(3).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    let doc;
    try { doc = JSON.parse(data.join("\n")); } catch { return; }
    if (id !== null) this.lastId = id;
    this.onEvent(id === null ? null : Number(id), doc);
  }
}
