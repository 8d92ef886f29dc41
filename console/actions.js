// SPDX-License-Identifier: MIT
// Actions: each asks for confirmation, saying exactly what will happen,
// then sends one Redfish request. Progress comes from the event stream;
// the outcome (completed, vetoed and why, rolled back) shows in the
// operations view and as a notice.
import { h, fill, $, say } from "./dom.js";
import { post, del, ApiError } from "./api.js";

const SYSTEMS = "/redfish/v1/Systems";
const BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks/";
const link = (id) => ({ "@odata.id": BLOCKS + id });

// Operations started here whose end we announce: op id -> what it was.
export const watched = new Map();

// Show the dialog; resolves true when confirmed.
export function confirmAction(title, lines, verb) {
  const dlg = $("#confirm");
  fill($("#confirm-title"), title);
  fill($("#confirm-body"), h("ul", {}, lines.map((l) => h("li", { text: l }))));
  $("#confirm-ok").textContent = verb;
  return new Promise((resolve) => {
    const done = (ok) => () => { dlg.close(); cleanup(); resolve(ok); };
    const ok = done(true), cancel = done(false);
    const onCancel = (e) => { e.preventDefault(); cancel(); };
    function cleanup() {
      $("#confirm-ok").removeEventListener("click", ok);
      $("#confirm-cancel").removeEventListener("click", cancel);
      dlg.removeEventListener("cancel", onCancel);
    }
    $("#confirm-ok").addEventListener("click", ok);
    $("#confirm-cancel").addEventListener("click", cancel);
    dlg.addEventListener("cancel", onCancel);
    dlg.showModal();
    $("#confirm-cancel").focus();
  });
}

async function run(what, fn) {
  try {
    const res = await fn();
    const loc = res.headers.get("Location") || "";
    const m = /TaskMonitors\/(\d+)$/.exec(loc) || (res.body && res.body.Oem && res.body.Oem.Dhp &&
      res.body.Oem.Dhp.Task ? /(\d+)$/.exec(res.body.Oem.Dhp.Task["@odata.id"]) : null);
    if (m) watched.set(Number(m[1]), what);
    say(what + ": accepted" + (m ? " (operation " + m[1] + ")" : ""));
    return true;
  } catch (e) {
    say(what + ": refused: " + (e instanceof ApiError ? e.message : String(e)), "error");
    return false;
  }
}

export async function compose(name, profile, ids) {
  const lines = ["Create partition " + name + " with the OS profile " + profile + ".",
    "Its units: " + ids.join(", ") + ".",
    "It is created stopped: start it from Partitions."];
  if (!(await confirmAction("Compose " + name, lines, "Compose"))) return false;
  return run("compose " + name, () => post(SYSTEMS, { Name: name, Links: { ResourceBlocks: ids.map(link) },
    Oem: { Dhp: { OsProfile: profile } } }));
}

const RESET = { start: "On", stop: "GracefulShutdown", restart: "GracefulRestart" };
const RESET_SAYS = {
  start: "Power on its units and boot its OS.",
  stop: "Shut its OS down and power its units off.",
  restart: "Shut it down and boot it again, applying its staged changes.",
};

export async function reset(sys, kind) {
  if (!(await confirmAction(kind + " " + sys.Id, [RESET_SAYS[kind]], kind))) return false;
  return run(kind + " " + sys.Id, () => post(SYSTEMS + "/" + sys.Id + "/Actions/ComputerSystem.Reset",
    { ResetType: RESET[kind] }));
}

export async function add(sys, unit) {
  const running = sys.Oem.Dhp.State === "running";
  const lines = running ? ["Hot add " + unit.id + " to the running partition " + sys.Id + ":",
    "power " + unit.id + " on, tell the OS (it may veto), attach it, the OS brings it online.",
    "On any failure everything is undone and the reason is shown."]
    : ["Assign " + unit.id + " to " + sys.Id + ", which is stopped: it is used from its next start."];
  if (!(await confirmAction((running ? "Hot add " : "Assign ") + unit.id, lines, running ? "Hot add" : "Assign")))
    return false;
  return run((running ? "hot add " : "assign ") + unit.id + " to " + sys.Id, () =>
    post(SYSTEMS + "/" + sys.Id + "/Actions/ComputerSystem.AddResourceBlock", { ResourceBlock: link(unit.id) }));
}

export async function remove(sys, unit) {
  const running = sys.Oem.Dhp.State === "running";
  const lines = running ? ["Hot remove " + unit.id + " from the running partition " + sys.Id + ":",
    "ask the OS (it or an application may veto), the OS takes it offline" +
    (unit.type === "memory" ? " (its pages are moved away)" : "") + ", detach it, power it off.",
    "If the OS refuses, nothing changes and its reason is shown."]
    : ["Unassign " + unit.id + " from " + sys.Id + ", which is stopped."];
  if (!(await confirmAction((running ? "Hot remove " : "Unassign ") + unit.id, lines, running ? "Hot remove" : "Unassign")))
    return false;
  return run((running ? "hot remove " : "unassign ") + unit.id + " from " + sys.Id, () =>
    post(SYSTEMS + "/" + sys.Id + "/Actions/ComputerSystem.RemoveResourceBlock", { ResourceBlock: link(unit.id) }));
}

export async function replace(sys, unit, spare) {
  const lines = ["Hot replace " + unit.id + " of " + sys.Id + " by the identical free unit " + spare.id + ":",
    "power " + spare.id + " on, move " + unit.id + "'s state to it while the OS runs, then power " +
    unit.id + " off and free it.",
    "The OS keeps the same number of processors and the same memory size throughout."];
  if (!(await confirmAction("Hot replace " + unit.id, lines, "Hot replace"))) return false;
  return run("hot replace " + unit.id + " by " + spare.id, () =>
    post(SYSTEMS + "/" + sys.Id + "/Actions/Oem/DhpComputerSystem.Replace",
      { ResourceBlock: link(unit.id), Spare: link(spare.id) }));
}

export async function deletePartition(sys) {
  if (!(await confirmAction("Delete " + sys.Id, ["Delete the stopped partition " + sys.Id +
    "; its units become free."], "Delete"))) return false;
  return run("delete " + sys.Id, () => del(SYSTEMS + "/" + sys.Id));
}
