/* SPDX-License-Identifier: MIT */
/* String tables of the operation and event enums: one place each. */
#include "model/event.h"
#include "model/operation.h"

#include <errno.h>
#include <string.h>

#include "common/names.h"

static const char *const op_kind_names[DHP_OP_KIND_MAX] = {
	[DHP_OP_CREATE] = "create",
	[DHP_OP_DELETE] = "delete",
	[DHP_OP_START] = "start",
	[DHP_OP_STOP] = "stop",
	[DHP_OP_RESTART] = "restart",
	[DHP_OP_ASSIGN] = "assign",
	[DHP_OP_UNASSIGN] = "unassign",
	[DHP_OP_HOT_ADD] = "hot-add",
	[DHP_OP_HOT_REMOVE] = "hot-remove",
	[DHP_OP_HOT_REPLACE] = "hot-replace",
	[DHP_OP_POWER_ON] = "power-on",
	[DHP_OP_POWER_OFF] = "power-off",
	[DHP_OP_RESIZE] = "resize",
	[DHP_OP_HOT_RESIZE] = "hot-resize",
	[DHP_OP_HOT_MOVE] = "hot-move",
};

static const char *const op_state_names[DHP_OP_STATE_MAX] = {
	[DHP_OP_QUEUED] = "queued",
	[DHP_OP_RUNNING] = "running",
	[DHP_OP_COMPLETED] = "completed",
	[DHP_OP_FAILED] = "failed",
	[DHP_OP_ROLLED_BACK] = "rolled-back",
};

static const char *const event_kind_names[DHP_EVENT_KIND_MAX] = {
	[DHP_EVENT_OP_STATE] = "op-state",
	[DHP_EVENT_OP_PHASE] = "op-phase",
	[DHP_EVENT_NOTIFY] = "notify",
	[DHP_EVENT_PARTITION] = "partition",
	[DHP_EVENT_UNIT] = "unit",
	[DHP_EVENT_RECOVERY] = "recovery",
};

DHP_NAMES_DEFINE(dhp_op_kind, enum dhp_op_kind, op_kind_names, DHP_OP_KIND_MAX)
DHP_NAMES_DEFINE(dhp_op_state, enum dhp_op_state, op_state_names, DHP_OP_STATE_MAX)
DHP_NAMES_DEFINE(dhp_event_kind, enum dhp_event_kind, event_kind_names, DHP_EVENT_KIND_MAX)
