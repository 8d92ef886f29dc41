// SPDX-License-Identifier: MIT
// What an action needs, and why it is disabled when it may not run: the
// user's role, the partition's state and what its OS can do online (the
// system's Oem.Dhp.OnlineCapabilities, from its OS profile). This only
// decides what the console offers: the API refuses a forbidden request
// anyway.
import { canChange, session } from "./session.js";

const VERB = { HotAdd: "hot add", HotRemove: "hot remove", HotReplace: "hot replace" };
export const TYPE_NAME = { "processor": "processors", "memory": "memory modules",
  "io-host-bridge": "I/O host bridges" };

// { add: [types], remove: [...], replace: [...] } of a system.
export function capsOf(sys) {
  const c = sys.Oem.Dhp.OnlineCapabilities || {};
  return { add: c.HotAdd || [], remove: c.HotRemove || [], replace: c.HotReplace || [] };
}

// What a system's OS allows, one line per online action, for people.
export function profileSummary(sys) {
  const c = sys.Oem.Dhp.OnlineCapabilities || {};
  return Object.keys(VERB).map((a) => VERB[a] + ": " +
    ((c[a] || []).length ? c[a].map((t) => TYPE_NAME[t] || t).join(", ") : "nothing"));
}

export const profileOf = (sys) => sys.Oem.Dhp.OsProfile;
export const stateOf = (sys) => sys.Oem.Dhp.State;

// null when the role may change partitions, else why not.
export function roleReason() {
  if (canChange()) return null;
  const s = session();
  return "your role (" + (s ? s.role : "none") + ") may only look: changing partitions needs " +
    "the ConfigureComponents privilege";
}

export function busyReason(sys) {
  return sys.Oem.Dhp.Task ? "an operation is running on " + sys.Id + "; wait for it to end" : null;
}

// Why a Reset (start, stop, restart) may not run now, or null.
export function resetReason(sys, kind) {
  const r = roleReason() || busyReason(sys);
  if (r) return r;
  const st = stateOf(sys);
  if (kind === "start" && st !== "stopped" && st !== "failed") return sys.Id + " is " + st;
  if ((kind === "stop" || kind === "restart") && st !== "running") return sys.Id + " is " + st;
  return null;
}

// Why unit (a ResourceBlock's Oem.Dhp view, see model.js) may not be
// added to sys now, or null. A stopped partition takes any unit (assign).
export function addReason(sys, unit, mode) {
  const r = roleReason() || busyReason(sys);
  if (r) return r;
  if (unit && unit.owner) return unit.id + " belongs to " + unit.owner;
  if (unit && unit.health === "Critical") return unit.id + " has failed";
  const st = stateOf(sys);
  if (st === "stopped") return null;
  if (st !== "running") return sys.Id + " is " + st;
  if (mode === "static") return "the server is in static mode: change a stopped partition";
  const caps = capsOf(sys);
  if (unit && !caps.add.includes(unit.type))
    return "the OS profile " + profileOf(sys) + " cannot hot add " + TYPE_NAME[unit.type];
  if (!unit && !caps.add.length) return "the OS profile " + profileOf(sys) + " cannot hot add anything";
  return null;
}

// Why unit may not be removed from sys now, or null.
export function removeReason(sys, unit, units, mode) {
  const r = roleReason() || busyReason(sys);
  if (r) return r;
  const st = stateOf(sys);
  if (st === "stopped") return null;
  if (st !== "running") return sys.Id + " is " + st;
  if (mode === "static") return "the server is in static mode: stop " + sys.Id + " first";
  if (!capsOf(sys).remove.includes(unit.type))
    return "the OS profile " + profileOf(sys) + " cannot hot remove " + TYPE_NAME[unit.type];
  if (unit.boot) return unit.id + " is the boot memory of " + sys.Id;
  const same = units.filter((u) => u.type === unit.type).length;
  if (unit.type !== "io-host-bridge" && same <= 1)
    return "a running partition keeps at least one processor and one memory module";
  return null;
}

// Why unit of sys may not be hot replaced now, or null; spare: the
// proposed identical free unit, or null when there is none.
export function replaceReason(sys, unit, spare, mode) {
  const r = roleReason() || busyReason(sys);
  if (r) return r;
  if (stateOf(sys) !== "running") return "only a running partition's units are hot replaced";
  if (mode === "static") return "the server is in static mode";
  if (unit.type === "io-host-bridge") return "an I/O host bridge is replaced by a remove and an add";
  if (!capsOf(sys).replace.includes(unit.type))
    return "the OS profile " + profileOf(sys) + " cannot hot replace " + TYPE_NAME[unit.type];
  if (!spare) return "no free unit identical to " + unit.id + " (type, model, capacity)";
  return null;
}

export function deleteReason(sys) {
  const r = roleReason() || busyReason(sys);
  if (r) return r;
  return stateOf(sys) === "stopped" ? null : "stop " + sys.Id + " before deleting it";
}
