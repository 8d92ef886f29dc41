/* SPDX-License-Identifier: MIT */
/*
 * The phases of every operation kind (DESIGN.md §3) and what each changes
 * in the model at its commit. A phase is one backend call (or one per unit
 * of a set) with the call that undoes it; phases after STEP_COMMIT are
 * told to the OS but can no longer fail the operation.
 *
 * The "complete" notifications come after the commit for all three hot
 * operations (DESIGN.md has add-complete before it): they are notices that
 * cannot be vetoed, and once the OS uses a unit the only undo would be a
 * hot remove, which the Windows profiles cannot do.
 */
#include "core/internal.h"

#define NO_STATE DHP_PARTITION_STATE_MAX
#define NO_NOTE DHP_NOTIFY_MAX

#define PHASE(n, r, u, t) { .name = n, .run = r, .undo = u, .target = t, \
			    .note = NO_NOTE, .undo_note = NO_NOTE, .enter = NO_STATE }
#define NOTIFY(n, note_, undo_note_) { .name = n, .run = STEP_NOTIFY, \
	.undo = (undo_note_) == NO_NOTE ? STEP_NONE : STEP_NOTIFY, .target = TARGET_UNIT, \
	.note = note_, .undo_note = undo_note_, .enter = NO_STATE }
/* A phase over a set of a plan's units, for the partition or its target. */
#define SET(n, r, u, t, at) { .name = n, .run = r, .undo = u, .target = t, \
			      .note = NO_NOTE, .undo_note = NO_NOTE, .enter = NO_STATE, \
			      .at_target = at }
#define NOTIFY_SET(n, note_, undo_note_, t, at) { .name = n, .run = STEP_NOTIFY, \
	.undo = (undo_note_) == NO_NOTE ? STEP_NONE : STEP_NOTIFY, .target = t, \
	.note = note_, .undo_note = undo_note_, .enter = NO_STATE, .at_target = at }
#define COMMIT PHASE("commit", STEP_COMMIT, STEP_NONE, TARGET_PARTITION)

bool unit_in_next(const struct dhp_unit *unit, uint32_t partition)
{
	return (unit->partition == partition && !unit->staged_remove) ||
	       unit->staged_partition == partition;
}

/* A unit leaves its partition: nothing of its role there stays. */
void core_unit_release(struct dhp_unit *u)
{
	u->partition = DHP_NO_PARTITION;
	u->boot = false;
	u->staged_remove = false;
}

static void set_boot_memory(struct dhp_core *core, uint32_t partition)
{
	struct dhp_unit *boot = NULL;

	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];

		if (u->partition == partition && u->type == DHP_UNIT_MEMORY && !boot) {
			boot = u;
			if (!u->boot) {
				u->boot = true;
				core_put_unit(core, u);
			}
		} else if (u->boot && u->partition == partition) {
			u->boot = false;
			core_put_unit(core, u);
		}
	}
}

static void clear_boot_memory(struct dhp_core *core, uint32_t partition)
{
	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];

		if (u->partition == partition && u->boot) {
			u->boot = false;
			core_put_unit(core, u);
		}
	}
}

static int commit_create(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_partition *p = dhp_server_partition(core->server, op->partition);

	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = &core->server->units[op->units[i]];

		u->partition = op->partition;
		core_put_unit(core, u);
	}
	return core_put_partition(core, p ? p->id : op->partition, err);
}

static int commit_delete(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];

		if (u->partition != op->partition && u->staged_partition != op->partition)
			continue;
		if (u->partition == op->partition)
			core_unit_release(u);
		if (u->staged_partition == op->partition)
			u->staged_partition = DHP_NO_PARTITION;
		core_put_unit(core, u);
	}
	dhp_server_remove_partition(core->server, op->partition);
	return core_put_partition(core, op->partition, err);	/* gone: deleted */
}

/* Staged changes take effect: the partition now owns its next set. */
static int commit_start(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_partition *p = dhp_server_partition(core->server, op->partition);

	(void)err;
	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];

		if (u->partition == op->partition && u->staged_remove) {
			core_unit_release(u);
			core_put_unit(core, u);
		} else if (u->staged_partition == op->partition) {
			u->partition = op->partition;
			u->staged_partition = DHP_NO_PARTITION;
			core_put_unit(core, u);
		}
	}
	set_boot_memory(core, op->partition);
	if (p)
		p->os_ready = true;	/* the backend answered the boot once it was */
	core_set_partition_state(core, p, DHP_PARTITION_RUNNING, NULL);
	return 0;
}

static int commit_stop(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	clear_boot_memory(core, op->partition);
	core_set_partition_state(core, dhp_server_partition(core->server, op->partition),
				 DHP_PARTITION_STOPPED, NULL);
	return 0;
}

static int commit_assign(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = &core->server->units[op->units[i]];

		if (op->staged)
			u->staged_partition = op->partition;
		else
			u->partition = op->partition;
		core_put_unit(core, u);
	}
	return 0;
}

static int commit_unassign(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = &core->server->units[op->units[i]];

		if (u->staged_partition == op->partition) {
			u->staged_partition = DHP_NO_PARTITION;	/* a staged add withdrawn */
		} else if (op->staged) {
			u->staged_remove = true;
		} else {
			core_unit_release(u);
		}
		core_put_unit(core, u);
	}
	return 0;
}

static int commit_hot_add(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_unit *u = &core->server->units[op->units[0]];

	(void)err;
	u->partition = op->partition;
	core_put_unit(core, u);
	return 0;
}

static int commit_hot_remove(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_unit *u = &core->server->units[op->units[0]];

	(void)err;
	core_unit_release(u);
	core_put_unit(core, u);
	return 0;
}

static int commit_hot_replace(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_unit *old = &core->server->units[op->units[0]];
	struct dhp_unit *spare = &core->server->units[op->spare];

	(void)err;
	spare->partition = op->partition;
	spare->boot = old->boot;
	spare->staged_remove = old->staged_remove;
	spare->spare = false;	/* it leaves the pool for the partition */
	core_unit_release(old);
	core_put_unit(core, spare);
	core_put_unit(core, old);
	return 0;
}

static int commit_nothing(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)core, (void)op, (void)err;
	return 0;
}

static const struct phase_desc offline_phases[] = { COMMIT };

static const struct phase_desc start_phases[] = {
	PHASE("power-on", STEP_POWER_ON, STEP_POWER_OFF, TARGET_NEXT),
	PHASE("boot", STEP_BOOT, STEP_SHUTDOWN, TARGET_PARTITION),
	COMMIT,
};

static const struct phase_desc stop_phases[] = {
	PHASE("shutdown", STEP_SHUTDOWN, STEP_NONE, TARGET_PARTITION),
	PHASE("power-off", STEP_POWER_OFF, STEP_NONE, TARGET_OWNED),
	COMMIT,
};

static const struct phase_desc restart_phases[] = {
	PHASE("shutdown", STEP_SHUTDOWN, STEP_NONE, TARGET_PARTITION),
	PHASE("power-off", STEP_POWER_OFF, STEP_NONE, TARGET_OWNED),
	{ .name = "power-on", .run = STEP_POWER_ON, .undo = STEP_POWER_OFF,
	  .target = TARGET_NEXT, .note = NO_NOTE, .undo_note = NO_NOTE,
	  .enter = DHP_PARTITION_STARTING },
	PHASE("boot", STEP_BOOT, STEP_SHUTDOWN, TARGET_PARTITION),
	COMMIT,
};

static const struct phase_desc hot_add_phases[] = {
	PHASE("power-on", STEP_POWER_ON, STEP_POWER_OFF, TARGET_UNIT),
	NOTIFY("add-start", DHP_NOTIFY_ADD_START, DHP_NOTIFY_ADD_FAILURE),
	PHASE("attach", STEP_ATTACH, STEP_DETACH, TARGET_UNIT),
	PHASE("online", STEP_ONLINE, STEP_OFFLINE, TARGET_UNIT),
	COMMIT,
	NOTIFY("add-complete", DHP_NOTIFY_ADD_COMPLETE, NO_NOTE),
};

static const struct phase_desc hot_remove_phases[] = {
	NOTIFY("remove-query", DHP_NOTIFY_REMOVE_QUERY, DHP_NOTIFY_REMOVE_FAILURE),
	PHASE("offline", STEP_OFFLINE, STEP_ONLINE, TARGET_UNIT),
	PHASE("detach", STEP_DETACH, STEP_ATTACH, TARGET_UNIT),
	PHASE("power-off", STEP_POWER_OFF, STEP_POWER_ON, TARGET_UNIT),
	COMMIT,
	NOTIFY("remove-complete", DHP_NOTIFY_REMOVE_COMPLETE, NO_NOTE),
};

static const struct phase_desc hot_replace_phases[] = {
	PHASE("power-on-spare", STEP_POWER_ON, STEP_POWER_OFF, TARGET_SPARE),
	NOTIFY("replace-start", DHP_NOTIFY_REPLACE_START, DHP_NOTIFY_REPLACE_FAILURE),
	PHASE("move", STEP_MOVE, STEP_MOVE_BACK, TARGET_UNIT),
	PHASE("power-off-old", STEP_POWER_OFF, STEP_POWER_ON, TARGET_UNIT),
	COMMIT,
	NOTIFY("replace-complete", DHP_NOTIFY_REPLACE_COMPLETE, NO_NOTE),
};

static const struct phase_desc power_on_phases[] = {
	PHASE("power-on", STEP_POWER_ON, STEP_POWER_OFF, TARGET_UNIT),
	COMMIT,
};

static const struct phase_desc power_off_phases[] = {
	PHASE("power-off", STEP_POWER_OFF, STEP_POWER_ON, TARGET_UNIT),
	COMMIT,
};

/*
 * A resize of a running partition: the adds, then the removes, so the
 * partition never has fewer units than at either end (a plan may swap its
 * only processor). Both kinds of veto are asked before any unit is
 * attached or taken offline: a veto then costs no hardware work. Each
 * phase visits every unit of its set; a set may be empty.
 */
static const struct phase_desc hot_resize_phases[] = {
	SET("add-power-on", STEP_POWER_ON, STEP_POWER_OFF, TARGET_ADDS, false),
	NOTIFY_SET("add-start", DHP_NOTIFY_ADD_START, DHP_NOTIFY_ADD_FAILURE, TARGET_ADDS, false),
	NOTIFY_SET("remove-query", DHP_NOTIFY_REMOVE_QUERY, DHP_NOTIFY_REMOVE_FAILURE,
		   TARGET_REMOVES, false),
	SET("add-attach", STEP_ATTACH, STEP_DETACH, TARGET_ADDS, false),
	SET("add-online", STEP_ONLINE, STEP_OFFLINE, TARGET_ADDS, false),
	SET("remove-offline", STEP_OFFLINE, STEP_ONLINE, TARGET_REMOVES, false),
	SET("remove-detach", STEP_DETACH, STEP_ATTACH, TARGET_REMOVES, false),
	SET("remove-power-off", STEP_POWER_OFF, STEP_POWER_ON, TARGET_REMOVES, false),
	COMMIT,
	NOTIFY_SET("add-complete", DHP_NOTIFY_ADD_COMPLETE, NO_NOTE, TARGET_ADDS, false),
	NOTIFY_SET("remove-complete", DHP_NOTIFY_REMOVE_COMPLETE, NO_NOTE, TARGET_REMOVES, false),
};

/*
 * A move: a hot remove from the partition and a hot add to the target,
 * as one operation. Both OSes are asked first (either may veto); the
 * units stay powered, as they are never free in between.
 */
static const struct phase_desc hot_move_phases[] = {
	NOTIFY_SET("remove-query", DHP_NOTIFY_REMOVE_QUERY, DHP_NOTIFY_REMOVE_FAILURE,
		   TARGET_ALL, false),
	NOTIFY_SET("add-start", DHP_NOTIFY_ADD_START, DHP_NOTIFY_ADD_FAILURE, TARGET_ALL, true),
	SET("source-offline", STEP_OFFLINE, STEP_ONLINE, TARGET_ALL, false),
	SET("source-detach", STEP_DETACH, STEP_ATTACH, TARGET_ALL, false),
	SET("target-attach", STEP_ATTACH, STEP_DETACH, TARGET_ALL, true),
	SET("target-online", STEP_ONLINE, STEP_OFFLINE, TARGET_ALL, true),
	COMMIT,
	NOTIFY_SET("remove-complete", DHP_NOTIFY_REMOVE_COMPLETE, NO_NOTE, TARGET_ALL, false),
	NOTIFY_SET("add-complete", DHP_NOTIFY_ADD_COMPLETE, NO_NOTE, TARGET_ALL, true),
};

#define PHASES(a) .phases = a, .n_phases = sizeof(a) / sizeof(a[0])

static const struct op_desc descs[DHP_OP_KIND_MAX] = {
	[DHP_OP_CREATE] = { PHASES(offline_phases), commit_create, NO_STATE, NO_STATE, false },
	[DHP_OP_DELETE] = { PHASES(offline_phases), commit_delete, NO_STATE, NO_STATE, false },
	[DHP_OP_START] = { PHASES(start_phases), commit_start,
			   DHP_PARTITION_STARTING, DHP_PARTITION_STOPPED, false },
	[DHP_OP_STOP] = { PHASES(stop_phases), commit_stop,
			  DHP_PARTITION_STOPPING, DHP_PARTITION_RUNNING, true },
	[DHP_OP_RESTART] = { PHASES(restart_phases), commit_start,
			     DHP_PARTITION_STOPPING, DHP_PARTITION_RUNNING, true },
	[DHP_OP_ASSIGN] = { PHASES(offline_phases), commit_assign, NO_STATE, NO_STATE, false },
	[DHP_OP_UNASSIGN] = { PHASES(offline_phases), commit_unassign, NO_STATE, NO_STATE, false },
	[DHP_OP_HOT_ADD] = { PHASES(hot_add_phases), commit_hot_add, NO_STATE, NO_STATE, false },
	[DHP_OP_HOT_REMOVE] = { PHASES(hot_remove_phases), commit_hot_remove,
				NO_STATE, NO_STATE, false },
	[DHP_OP_HOT_REPLACE] = { PHASES(hot_replace_phases), commit_hot_replace,
				 NO_STATE, NO_STATE, false },
	[DHP_OP_POWER_ON] = { PHASES(power_on_phases), commit_nothing, NO_STATE, NO_STATE, false },
	[DHP_OP_POWER_OFF] = { PHASES(power_off_phases), commit_nothing, NO_STATE, NO_STATE, false },
	[DHP_OP_RESIZE] = { PHASES(offline_phases), core_commit_resize, NO_STATE, NO_STATE, false },
	[DHP_OP_HOT_RESIZE] = { PHASES(hot_resize_phases), core_commit_hot_resize,
				NO_STATE, NO_STATE, false },
	[DHP_OP_HOT_MOVE] = { PHASES(hot_move_phases), core_commit_hot_move,
			      NO_STATE, NO_STATE, false },
};

const struct op_desc *op_desc(enum dhp_op_kind kind)
{
	return (unsigned)kind < DHP_OP_KIND_MAX ? &descs[kind] : NULL;
}

unsigned op_commit_phase(const struct op_desc *desc)
{
	for (unsigned i = 0; i < desc->n_phases; i++)
		if (desc->phases[i].run == STEP_COMMIT)
			return i;
	return desc->n_phases;
}

unsigned dhp_core_phase_count(enum dhp_op_kind kind)
{
	const struct op_desc *desc = op_desc(kind);

	return desc ? desc->n_phases : 0;
}

const char *dhp_core_phase_name(enum dhp_op_kind kind, unsigned i)
{
	const struct op_desc *desc = op_desc(kind);

	return desc && i < desc->n_phases ? desc->phases[i].name : "?";
}
