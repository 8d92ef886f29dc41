/* SPDX-License-Identifier: MIT */
/*
 * The hook where a phase reaches the applications of the partition.
 *
 * DESIGN.md §4: dhp-agent relays each phase to applications registered
 * through libdhp and collects their vetoes within a time limit. libdhp
 * (a later issue) will register over a local socket; until then no
 * application can register, so this hook approves every vetoable
 * notification and acknowledges the others, and the hello does not claim
 * the "veto" capability. Replace the body of agent_apps_notify() with the
 * relay; its contract stays: fill reply with approve/deny (vetoable
 * notes) or ok/error, within the request's deadline.
 */
#include "agent/agent.h"

void agent_apps_notify(const struct agent *a, const struct dhp_proto_request *req,
		       struct dhp_proto_reply *reply)
{
	agent_debug(a, "notification %s of %s", dhp_proto_note_name(req->note),
		    dhp_proto_unit_kind_name(req->unit.kind));
	reply->result = dhp_proto_note_vetoable(req->note) ? DHP_PROTO_APPROVE : DHP_PROTO_OK;
}
