// SPDX-License-Identifier: MIT
// Logging in and out with a Redfish session, and what the user may do.
import { request, setToken, get } from "./api.js";

const SESSIONS = "/redfish/v1/SessionService/Sessions";
let current = null;	// { user, role, privileges: Set, location }

export async function login(user, password) {
  const res = await request("POST", SESSIONS, { UserName: user, Password: password }, { auth: false });
  const token = res.headers.get("X-Auth-Token");
  if (!token) throw new Error("the service answered without a session token");
  setToken(token);
  const name = (res.body && res.body.UserName) || user;
  current = { user: name, role: "?", privileges: new Set(), location: res.headers.get("Location") };
  try {
    const account = await get("/redfish/v1/AccountService/Accounts/" + encodeURIComponent(name));
    const role = await get("/redfish/v1/AccountService/Roles/" + encodeURIComponent(account.RoleId));
    current.role = account.RoleId;
    current.privileges = new Set(role.AssignedPrivileges || []);
  } catch {
    // Unknown role: no privilege assumed, so no action is offered.
  }
  return current;
}

// Delete the session (the token dies on the server), then forget it.
export async function logout() {
  const s = current;
  current = null;
  if (s && s.location) {
    try { await request("DELETE", s.location); } catch { /* already gone */ }
  }
  setToken(null);
}

// Forget the session without asking the server (it said the session is gone).
export function forget() { current = null; setToken(null); }

export const session = () => current;
export const canChange = () => Boolean(current && current.privileges.has("ConfigureComponents"));
