/* SPDX-License-Identifier: MIT */
/*
 * Operations: one requested change, journaled from request to end.
 * The phases of each kind are defined by the engine (core/phases.c).
 */
#ifndef DHP_MODEL_OPERATION_H
#define DHP_MODEL_OPERATION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "model/partition.h"

enum dhp_op_kind {
	DHP_OP_CREATE,		/* new stopped partition with its units */
	DHP_OP_DELETE,		/* stopped partition; its units go free */
	DHP_OP_START,
	DHP_OP_STOP,
	DHP_OP_RESTART,		/* stop, apply staged changes, start */
	DHP_OP_ASSIGN,		/* unit to a stopped partition, or staged */
	DHP_OP_UNASSIGN,	/* unit from a stopped partition, or staged */
	DHP_OP_HOT_ADD,
	DHP_OP_HOT_REMOVE,
	DHP_OP_HOT_REPLACE,
	DHP_OP_POWER_ON,	/* a free unit */
	DHP_OP_POWER_OFF,
	/* A plan of unit steps run as one operation (issue 11): all done or
	 * all undone in reverse. units[0..n_add) join, the rest leave. */
	DHP_OP_RESIZE,		/* stopped partition, or staged */
	DHP_OP_HOT_RESIZE,	/* running partition */
	DHP_OP_HOT_MOVE,	/* units from running partition to running target */
	DHP_OP_KIND_MAX
};

enum dhp_op_state {
	DHP_OP_QUEUED,		/* journaled, first phase not begun */
	DHP_OP_RUNNING,
	DHP_OP_COMPLETED,
	DHP_OP_FAILED,		/* could not complete nor fully roll back */
	DHP_OP_ROLLED_BACK,	/* did not complete; everything as before */
	DHP_OP_STATE_MAX
};

#define DHP_OP_MAX_UNITS 64

struct dhp_op {
	uint64_t id;
	enum dhp_op_kind kind;
	enum dhp_op_state state;
	uint32_t partition;			/* 0 for power on/off of a free unit */
	char partition_name[DHP_NAME_MAX];	/* kept for history after delete */
	const struct dhp_os_profile *profile;	/* create */
	uint32_t units[DHP_OP_MAX_UNITS];	/* unit indices in the server */
	unsigned n_units;
	int32_t spare;				/* hot replace: the new unit, or -1 */
	unsigned n_add;				/* resize: units[0..n_add) are added */
	uint32_t target;			/* hot move: the receiving partition */
	bool staged;				/* apply time on-restart */
	int phase;				/* phases done (undo: still to undo) */
	bool rolling_back;
	struct dhp_error error;			/* why it did not complete */
	uint64_t created_ms, ended_ms;		/* wall clock, ms since the epoch */
};

const char *dhp_op_kind_name(enum dhp_op_kind kind);
int dhp_op_kind_parse(const char *name, enum dhp_op_kind *ret_kind);
const char *dhp_op_state_name(enum dhp_op_state state);
int dhp_op_state_parse(const char *name, enum dhp_op_state *ret_state);

static inline bool dhp_op_state_final(enum dhp_op_state state)
{
	return state == DHP_OP_COMPLETED || state == DHP_OP_FAILED ||
	       state == DHP_OP_ROLLED_BACK;
}

#endif
