// SPDX-License-Identifier: MIT
// What the console knows of the server, read from the API and kept up to
// date by the event stream: each event names what it changed (a system, a
// unit, an operation), and those resources are read again, a few at a
// time, coalesced. No polling.
import { get, pool, ApiError } from "./api.js";

const BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks/";
const SYSTEMS = "/redfish/v1/Systems";
const TASKS = "/redfish/v1/TaskService/Tasks";
// Above this many units the map starts per socket, and a socket's units
// are read when it is opened (DHP's large server: 12,544 units).
export const DETAIL_LIMIT = 512;
const MAX_EVENTS = 500;
const HISTORY = 40;

export const state = {
  chassis: null, mode: "dynamic", profiles: [],
  units: new Map(),	// id -> unit (below)
  sockets: [],		// socket numbers, sorted
  systems: new Map(),	// name -> ComputerSystem
  ops: new Map(),	// op id -> { id, kind, partition, units, state, messages[], error }
  events: [],		// newest last
  detailed: new Set(),	// sockets whose units' details were read
  loaded: false,
};

// Forget everything (log out, session ended): the next user starts afresh.
export function resetState() {
  Object.assign(state, { chassis: null, mode: "dynamic", profiles: [], sockets: [], events: [],
    loaded: false });
  for (const m of [state.units, state.systems, state.ops, state.detailed]) m.clear();
  for (const s of Object.values(dirty)) s.clear();
}

const listeners = new Set();
let pending = new Set();
let frame = 0;
// fn(what) with what a Set of "units", "systems", "ops", "events".
export function subscribe(fn) { listeners.add(fn); }
function changed(what) {
  pending.add(what);
  if (frame) return;
  frame = requestAnimationFrame(() => {
    const p = pending;
    pending = new Set();
    frame = 0;
    for (const fn of listeners) fn(p);
  });
}

const ID_RE = /^s(\d+)-(cpu|mem|iohb)(\d+)$/;
const TYPES = { cpu: "processor", mem: "memory", iohb: "io-host-bridge" };

// A unit: from its id alone until its resource block is read.
function unitFromId(id) {
  const m = ID_RE.exec(id);
  return { id, socket: m ? Number(m[1]) : -1, type: m ? TYPES[m[2]] : "unknown",
    index: m ? Number(m[3]) : 0, detail: false, owner: null };
}

function applyBlock(u, rb) {
  const d = rb.Oem.Dhp;
  Object.assign(u, {
    detail: true, type: d.Type, socket: d.Socket, index: d.Index, model: d.Model,
    sizeMiB: d.SizeMiB, devices: d.Devices, powered: d.Powered, boot: d.Boot,
    removable: d.Removable, staged: d.Staged, task: d.Task ? d.Task["@odata.id"] : null,
    spare: d.Spare === true,
    health: rb.Status.Health, status: rb.Status.State,
    composition: rb.CompositionStatus.CompositionState,
  });
}

const idOf = (link) => link["@odata.id"].split("/").pop();

export async function loadAll() {
  const coll = await get("/redfish/v1/Chassis");
  state.chassis = await get(coll.Members[0]["@odata.id"]);
  state.mode = state.chassis.Oem.Dhp.PartitioningMode;
  const caps = await get(SYSTEMS + "/Capabilities");
  state.profiles = caps.Oem.Dhp["OsProfile@Redfish.AllowableValues"] || ["linux"];
  state.units.clear();
  for (const link of state.chassis.Links.ResourceBlocks) {
    const u = unitFromId(idOf(link));
    state.units.set(u.id, u);
  }
  state.sockets = [...new Set([...state.units.values()].map((u) => u.socket))].sort((a, b) => a - b);
  state.detailed.clear();
  const systems = await get(SYSTEMS);
  state.systems.clear();
  // In the collection's order (creation order), whatever order answers come in.
  const read = await pool(systems.Members, 6, (m) => get(m["@odata.id"]));
  for (const sys of read) state.systems.set(sys.Id, sys);
  owners();
  if (state.units.size <= DETAIL_LIMIT) await loadSockets(state.sockets);
  state.loaded = true;
  changed("units"); changed("systems");
  loadHistory().catch(() => {});
}

// Read the details of every unit of these sockets.
export async function loadSockets(sockets) {
  const ids = [...state.units.values()].filter((u) => sockets.includes(u.socket)).map((u) => u.id);
  await pool(ids, 6, refreshUnit);
  for (const s of sockets) state.detailed.add(s);
  changed("units");
}

// Who owns what: each system's Links.ResourceBlocks.
function owners() {
  for (const u of state.units.values()) u.owner = null;
  for (const sys of state.systems.values())
    for (const link of sys.Links.ResourceBlocks || []) {
      const u = state.units.get(idOf(link));
      if (u) u.owner = sys.Id;
    }
}

async function refreshUnit(id) {
  const u = state.units.get(id) || unitFromId(id);
  state.units.set(id, u);
  try { applyBlock(u, await get(BLOCKS + encodeURIComponent(id))); } catch { /* gone */ }
}

async function refreshSystem(name) {
  try {
    state.systems.set(name, await get(SYSTEMS + "/" + encodeURIComponent(name)));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) state.systems.delete(name);
  }
  owners();
}

function opFromTask(t) {
  const d = t.Oem.Dhp;
  const op = state.ops.get(Number(t.Id)) || { id: Number(t.Id), messages: [] };
  Object.assign(op, { kind: d.Kind, partition: d.Partition, units: d.Units, spare: d.Spare,
    state: d.State, error: d.Error, rollingBack: d.RollingBack, phase: d.Phase,
    start: t.StartTime, end: t.EndTime, percent: t.PercentComplete });
  const seen = new Set(op.messages.map((m) => m.seq));
  for (const m of t.Messages || []) {
    const seq = m.Oem && m.Oem.Dhp ? m.Oem.Dhp.Seq : null;
    if (seq !== null && seen.has(seq)) continue;
    op.messages.push({ seq, text: m.Message, severity: m.MessageSeverity,
      time: m.Oem && m.Oem.Dhp ? m.Oem.Dhp.Time : "" });
  }
  op.messages.sort((a, b) => (a.seq || 0) - (b.seq || 0));
  state.ops.set(op.id, op);
}

async function refreshTask(id) {
  try { opFromTask(await get(TASKS + "/" + id)); } catch { /* pruned */ }
}

// The newest finished and running operations.
export async function loadHistory() {
  const coll = await get(TASKS);
  const ids = coll.Members.map(idOf).slice(-HISTORY);
  await pool(ids, 6, refreshTask);
  changed("ops");
}

// ---- events ----

const dirty = { units: new Set(), systems: new Set(), tasks: new Set() };
let flushing = null;

function scheduleFlush() {
  if (flushing) return;
  flushing = setTimeout(async () => {
    const units = [...dirty.units], systems = [...dirty.systems], tasks = [...dirty.tasks];
    dirty.units.clear(); dirty.systems.clear(); dirty.tasks.clear();
    await Promise.all([pool(systems, 4, refreshSystem), pool(units, 4, refreshUnit),
      pool(tasks, 4, refreshTask)]);
    flushing = null;
    if (units.length || systems.length) { changed("units"); changed("systems"); }
    if (tasks.length) changed("ops");
    if (dirty.units.size || dirty.systems.size || dirty.tasks.size) scheduleFlush();
  }, 100);
}

// Resync after events were lost (pruned while the stream was away).
let reloading = null;
export function reload() {
  reloading = reloading || loadAll().finally(() => { reloading = null; });
  return reloading;
}

export function applyEvent(seq, doc) {
  for (const ev of doc.Events || []) {
    const d = (ev.Oem && ev.Oem.Dhp) || {};
    const entry = { seq, time: ev.EventTimestamp, severity: ev.MessageSeverity,
      id: ev.MessageId, text: ev.Message, kind: d.Kind, op: d.Operation,
      partition: d.Partition, unit: d.Unit };
    state.events.push(entry);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
    changed("events");
    if (/EventBufferExceeded$/.test(ev.MessageId || "")) { reload(); continue; }
    if (d.Operation) {
      let op = state.ops.get(d.Operation);
      if (!op) {
        op = { id: d.Operation, messages: [], state: "queued", partition: d.Partition,
          kind: (/^operation \d+ (\S+):/.exec(ev.Message || "") || [])[1] || "operation",
          units: d.Unit ? [d.Unit] : [] };
        state.ops.set(op.id, op);
      }
      if (!op.messages.some((m) => m.seq === seq))
        op.messages.push({ seq, text: ev.Message, severity: ev.MessageSeverity, time: ev.EventTimestamp });
      if (d.Kind === "op-state") dirty.tasks.add(d.Operation);
      else if (op.state === "queued") op.state = "running";	// its first phase ran
      changed("ops");
    }
    if (d.Unit && state.units.has(d.Unit)) {
      const u = state.units.get(d.Unit);
      if (u.detail || state.detailed.has(u.socket)) dirty.units.add(d.Unit);
    }
    if (d.Partition) dirty.systems.add(d.Partition);
  }
  scheduleFlush();
}

// Units of a system, as unit objects.
export function unitsOf(sys) {
  return (sys.Links.ResourceBlocks || []).map((l) => state.units.get(idOf(l))).filter(Boolean);
}

// The free, healthy unit identical to u (type, model, capacity) that the
// API itself would take for a hot replace without a Spare: from the spare
// pool first, on u's socket first, then any other (docs/redfish.md); or
// null. The console names it in the confirmation.
export function spareFor(u) {
  let best = null, bestRank = 4;
  for (const s of state.units.values())
    if (!s.owner && s.detail && s.id !== u.id && s.type === u.type && s.model === u.model &&
        s.sizeMiB === u.sizeMiB && s.health === "OK" && !s.task && !s.staged) {
      const rank = (s.spare ? 0 : 2) + (s.socket === u.socket ? 0 : 1);
      if (rank < bestRank) [best, bestRank] = [s, rank];
    }
  return best;
}

// A partition's colour and pattern, from its id: the same in every session
// and across deletes of other partitions.
export function ownerIndex(name) {
  const sys = state.systems.get(name);
  return sys ? (sys.Oem.Dhp.PartitionId - 1) % 8 : 7;
}
