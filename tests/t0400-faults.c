/* SPDX-License-Identifier: MIT */
/*
 * The fault matrix: every operation with backend phases x unit type x OS
 * profile x injected fault at every phase, on the simulated demo server,
 * with the invariant checker after each. Phases come from the engine's own
 * tables, so a phase added there is covered here without a change.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define BOOT_SET "s0-cpu0 s0-mem0 s0-cpu1 s0-mem1 s0-iohb0"

struct effect {
	const char *name;
	enum dhp_sim_effect effect;
	uint32_t delay_ms;
};

/* late: slower than the 30 s deadline, so it is given up and cancelled. */
static const struct effect effects[] = {
	{ "fail", DHP_SIM_FAIL, 0 },
	{ "hang", DHP_SIM_HANG, 0 },
	{ "crash", DHP_SIM_CRASH, 0 },
	{ "slow", DHP_SIM_SLOW, 5000 },
	{ "late", DHP_SIM_SLOW, 60000 },
};

static const char *const profiles[] = {
	"linux", "windows-server-2003-sp1", "windows-server-2008-x86", "windows-server-2008-x64",
};

static const char *const type_ids[DHP_UNIT_TYPE_MAX] = { "cpu", "mem", "iohb" };

static enum dhp_sim_call step_call(enum step step)
{
	switch (step) {
	case STEP_POWER_ON:	return DHP_SIM_POWER_ON;
	case STEP_POWER_OFF:	return DHP_SIM_POWER_OFF;
	case STEP_NOTIFY:	return DHP_SIM_NOTIFY;
	case STEP_ATTACH:	return DHP_SIM_ATTACH;
	case STEP_DETACH:	return DHP_SIM_DETACH;
	case STEP_ONLINE:	return DHP_SIM_ONLINE;
	case STEP_OFFLINE:	return DHP_SIM_OFFLINE;
	case STEP_MOVE:
	case STEP_MOVE_BACK:	return DHP_SIM_MOVE;
	case STEP_BOOT:		return DHP_SIM_START;
	case STEP_SHUTDOWN:	return DHP_SIM_STOP;
	default:		return DHP_SIM_CALL_MAX;
	}
}

static int default_failure(enum dhp_sim_call call)
{
	switch (call) {
	case DHP_SIM_NOTIFY:	return -EPERM;
	case DHP_SIM_ONLINE:
	case DHP_SIM_OFFLINE:	return -EAGAIN;
	default:		return -EIO;
	}
}

/* A case: one request on a fresh server set up for it. */
struct scenario {
	enum dhp_op_kind kind;
	enum dhp_verb verb;
	const char *profile;
	const char *partition;		/* NULL: power of a free unit */
	char unit[DHP_UNIT_ID_MAX];	/* "" for partition verbs */
	bool start_first;		/* partition running before the request */
};

static struct testbed tb;

static bool setup(const struct scenario *sc)
{
	struct dhp_error err = { 0 };
	struct dhp_op op;

	tb.virtual_time = true;
	tb.deadline_ms = 0;
	if (tb_open(&tb, DEMO, &err) || tb_create(&tb, "p", sc->profile, BOOT_SET, &err)) {
		CHECK_MSG(0, "setup: %s", err.message);
		return false;
	}
	if (sc->start_first && (tb_do(&tb, DHP_VERB_START, "p", NULL, &op, &err) ||
				op.state != DHP_OP_COMPLETED)) {
		CHECK_MSG(0, "start: %s %s", err.message, op.error.message);
		return false;
	}
	/* Powering off takes a unit that is on. */
	if (sc->kind == DHP_OP_POWER_OFF && (tb_do(&tb, DHP_VERB_POWER_ON, NULL, sc->unit, &op,
						   &err) || op.state != DHP_OP_COMPLETED)) {
		CHECK_MSG(0, "power-on: %s %s", err.message, op.error.message);
		return false;
	}
	return true;
}

static int submit(const struct scenario *sc, struct dhp_op *op, struct dhp_error *err)
{
	return tb_do(&tb, sc->verb, sc->partition, sc->unit[0] ? sc->unit : NULL, op, err);
}

static void invariants(void)
{
	struct dhp_error err = { 0 };

	CHECK_MSG(tb_invariants(&tb, &err) == 0, "invariant broken: %s", err.message);
}

/* Whether a crash fault can hit this call: power calls for a free unit
 * belong to no partition, so there is no OS to crash. */
static bool crash_applies(const struct scenario *sc, const struct phase_desc *ph)
{
	if (ph->run != STEP_POWER_ON && ph->run != STEP_POWER_OFF)
		return true;
	/* Power calls crash an OS only when they touch a unit it is using. */
	return ph->target == TARGET_UNIT &&
	       (sc->kind == DHP_OP_HOT_REMOVE || sc->kind == DHP_OP_HOT_REPLACE);
}

/* What the engine must make of a failure at phase i (see engine.c). */
static enum dhp_op_state expected_state(const struct op_desc *desc, unsigned i, bool unknown)
{
	unsigned undo_to = unknown ? i + 1 : i;

	for (unsigned j = 0; j < undo_to; j++) {
		const struct phase_desc *ph = &desc->phases[j];

		if (ph->undo == STEP_NONE && ph->run != STEP_NOTIFY && ph->run != STEP_COMMIT)
			return DHP_OP_FAILED;
	}
	return DHP_OP_ROLLED_BACK;
}

static void one_fault(const struct scenario *sc, unsigned i, const struct effect *fx)
{
	const struct op_desc *desc = op_desc(sc->kind);
	const struct phase_desc *ph = &desc->phases[i];
	unsigned commit = op_commit_phase(desc);
	struct dhp_sim_fault fault = {
		.call = step_call(ph->run),
		.note = ph->run == STEP_NOTIFY ? (int)ph->note : DHP_SIM_ANY_NOTE,
		.effect = fx->effect, .delay_ms = fx->delay_ms, .count = 1,
	};
	bool crash = fx->effect == DHP_SIM_CRASH && crash_applies(sc, ph);
	bool harmless = (fx->effect == DHP_SIM_SLOW && fx->delay_ms < 30000) ||
			(fx->effect == DHP_SIM_CRASH && !crash);
	bool unknown = fx->effect == DHP_SIM_HANG || fx->effect == DHP_SIM_SLOW;
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	char *before, *after;
	uint32_t owners[64];

	test_begin("%s %s%s%s: %s at %s", dhp_op_kind_name(sc->kind), sc->unit[0] ? sc->unit : "",
		   sc->partition ? " " : "", sc->partition ? sc->profile : "", fx->name, ph->name);
	if (!setup(sc))
		goto out;
	before = tb_snapshot(&tb);
	for (size_t u = 0; u < tb.server->n_units && u < 64; u++)
		owners[u] = tb.server->units[u].partition;
	CHECK_INT(dhp_sim_fault_add(tb.backend, &fault, &err), 0);
	CHECK_INT(submit(sc, &op, &err), 0);
	CHECK_INT(dhp_sim_faults_fired(tb.backend), 1);
	if (harmless || i > commit) {
		CHECK_MSG(op.state == DHP_OP_COMPLETED, "ended %s: %s", dhp_op_state_name(op.state),
			  op.error.message);
	} else {
		enum dhp_op_state want = expected_state(desc, i, unknown);
		int code = fx->effect == DHP_SIM_FAIL ? default_failure(fault.call) :
			   crash ? -EHOSTDOWN : -ETIMEDOUT;

		CHECK_MSG(op.state == want, "ended %s, expected %s: %s", dhp_op_state_name(op.state),
			  dhp_op_state_name(want), op.error.message);
		CHECK_MSG(op.error.code == code, "error %d (%s), expected %d", op.error.code,
			  op.error.message, code);
		CHECK(strstr(op.error.message, ph->name) != NULL);
		after = tb_snapshot(&tb);
		if (want == DHP_OP_ROLLED_BACK && !crash)
			CHECK_MSG(before && after && !strcmp(before, after),
				  "not exactly as before:\n%s---\n%s", before, after);
		free(after);
	}
	if (crash) {
		CHECK_INT(dhp_server_partition_by_name(tb.server, "p")->state, DHP_PARTITION_FAILED);
		if (op.state != DHP_OP_COMPLETED)
			for (size_t u = 0; u < tb.server->n_units && u < 64; u++)
				CHECK_INT(tb.server->units[u].partition, owners[u]);
	}
	free(before);
	invariants();
out:
	tb_destroy(&tb);
	test_end();
}

static void every_phase(const struct scenario *sc)
{
	const struct op_desc *desc = op_desc(sc->kind);

	for (unsigned i = 0; i < desc->n_phases; i++) {
		if (desc->phases[i].run == STEP_COMMIT)
			continue;
		for (size_t e = 0; e < sizeof(effects) / sizeof(effects[0]); e++)
			one_fault(sc, i, &effects[e]);
	}
}

static void refused_by_profile(const struct scenario *sc)
{
	struct dhp_error err = { 0 };

	test_begin("%s %s %s: refused by the profile", dhp_op_kind_name(sc->kind), sc->unit,
		   sc->profile);
	if (setup(sc)) {
		CHECK_INT(submit(sc, NULL, &err), -EOPNOTSUPP);
		CHECK(strstr(err.message, "cannot") != NULL);
		invariants();
	}
	tb_destroy(&tb);
	test_end();
}

static void hot_operations(void)
{
	static const struct { enum dhp_op_kind kind; enum dhp_verb verb;
			      enum dhp_online_action action; const char *socket; } ops[] = {
		{ DHP_OP_HOT_ADD, DHP_VERB_ADD, DHP_ONLINE_ADD, "s1" },
		{ DHP_OP_HOT_REMOVE, DHP_VERB_REMOVE, DHP_ONLINE_REMOVE, "s0" },
		{ DHP_OP_HOT_REPLACE, DHP_VERB_REPLACE, DHP_ONLINE_REPLACE, "s0" },
	};

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++)
			for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
				struct scenario sc = {
					.kind = ops[o].kind, .verb = ops[o].verb,
					.profile = profiles[p], .partition = "p",
					.start_first = true,
				};

				/* remove and replace take the second unit of a type
				 * (the boot set's first ones are its minimum). */
				snprintf(sc.unit, sizeof(sc.unit), "%s-%s%d", ops[o].socket,
					 type_ids[t], ops[o].kind == DHP_OP_HOT_ADD ||
					 t == DHP_UNIT_IO_HOST_BRIDGE ? 0 : 1);
				if (dhp_profile_can(dhp_profile_find(profiles[p]), ops[o].action,
						    (enum dhp_unit_type)t))
					every_phase(&sc);
				else
					refused_by_profile(&sc);
			}
}

static void partition_operations(void)
{
	static const struct { enum dhp_op_kind kind; enum dhp_verb verb; bool running; } ops[] = {
		{ DHP_OP_START, DHP_VERB_START, false },
		{ DHP_OP_STOP, DHP_VERB_STOP, true },
		{ DHP_OP_RESTART, DHP_VERB_RESTART, true },
	};

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
			struct scenario sc = {
				.kind = ops[o].kind, .verb = ops[o].verb, .profile = profiles[p],
				.partition = "p", .start_first = ops[o].running,
			};

			every_phase(&sc);
		}
}

static void power_operations(void)
{
	for (int on = 0; on < 2; on++)
		for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++) {
			struct scenario sc = {
				.kind = on ? DHP_OP_POWER_ON : DHP_OP_POWER_OFF,
				.verb = on ? DHP_VERB_POWER_ON : DHP_VERB_POWER_OFF,
				.profile = "linux",
			};

			snprintf(sc.unit, sizeof(sc.unit), "s2-%s0", type_ids[t]);
			every_phase(&sc);
		}
}

/*
 * A rollback whose own undo fails: a hardware undo fences the unit and the
 * operation ends failed; a notification that does not get through does not.
 */
static void failed_undo(void)
{
	static const char *const units[] = { "s1-cpu0", "s1-mem0", "s1-iohb0" };
	const struct op_desc *desc = op_desc(DHP_OP_HOT_ADD);

	for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++)
		for (unsigned i = 1; i < op_commit_phase(desc); i++)
			for (unsigned j = 0; j < i; j++) {
				const struct phase_desc *ph = &desc->phases[i], *uph = &desc->phases[j];
				struct scenario sc = { .kind = DHP_OP_HOT_ADD, .verb = DHP_VERB_ADD,
						       .profile = "linux", .partition = "p",
						       .start_first = true };
				struct dhp_sim_fault f1 = {
					.call = step_call(ph->run), .effect = DHP_SIM_FAIL, .count = 1,
					.note = ph->run == STEP_NOTIFY ? (int)ph->note : DHP_SIM_ANY_NOTE,
				}, f2 = {
					.call = step_call(uph->undo), .effect = DHP_SIM_FAIL, .count = 1,
					.note = uph->undo == STEP_NOTIFY ? (int)uph->undo_note
									  : DHP_SIM_ANY_NOTE,
				};
				struct dhp_error err = { 0 };
				struct dhp_op op = { 0 };
				bool fenced = uph->undo != STEP_NOTIFY && uph->undo != STEP_NONE;

				if (uph->undo == STEP_NONE)
					continue;
				snprintf(sc.unit, sizeof(sc.unit), "%s", units[t]);
				test_begin("hot-add %s: fail at %s, its undo of %s fails too", sc.unit,
					   ph->name, uph->name);
				if (setup(&sc)) {
					dhp_sim_fault_add(tb.backend, &f1, NULL);
					dhp_sim_fault_add(tb.backend, &f2, NULL);
					CHECK_INT(submit(&sc, &op, &err), 0);
					CHECK_INT(op.state, fenced ? DHP_OP_FAILED : DHP_OP_ROLLED_BACK);
					CHECK_INT(dhp_server_unit(tb.server, sc.unit)->health,
						  fenced ? DHP_HEALTH_FAILED : DHP_HEALTH_OK);
					CHECK_INT(dhp_sim_faults_fired(tb.backend), 2);
					invariants();
					/* A fenced unit is never assigned again. */
					if (fenced)
						CHECK_INT(tb_do(&tb, DHP_VERB_ADD, "p", sc.unit, NULL,
								&err), -EIO);
				}
				tb_destroy(&tb);
				test_end();
			}
}

/* veto:REASON: the OS's reason, any text (a client shows it as text). */
static void veto_reason(void)
{
	struct dhp_sim_fault f;
	char long_reason[160];

	test_begin("a veto's reason in a fault spec");
	CHECK_INT(dhp_sim_fault_parse("notify:remove-query@s0-mem1=veto:<b onclick=x()>no</b>*2",
				      &f, NULL), 0);
	CHECK_INT(f.call, DHP_SIM_NOTIFY);
	CHECK_INT(f.effect, DHP_SIM_FAIL);
	CHECK_INT(f.rc, -EPERM);
	CHECK_INT(f.count, 2);
	CHECK_STR(f.unit, "s0-mem1");
	CHECK_STR(f.reason, "<b onclick=x()>no</b>");
	CHECK_INT(dhp_sim_fault_parse("notify=veto", &f, NULL), 0);
	CHECK_STR(f.reason, "");
	CHECK_INT(dhp_sim_fault_parse("notify=veto:", &f, NULL), -EINVAL);
	memset(long_reason, 'x', sizeof(long_reason));
	memcpy(long_reason, "notify=veto:", 12);
	long_reason[12 + 96] = '\0';
	CHECK_INT(dhp_sim_fault_parse(long_reason, &f, NULL), -EINVAL);
	test_end();
}

/*
 * Plans (issue 11): a resize and a move, with every fault at every step:
 * each phase, for each unit of its set. Before the commit, the plan is
 * undone whole (in reverse) and everything is exactly as before, both
 * partitions for a move; after it, the notices cannot undo it.
 */
struct plan {
	enum dhp_op_kind kind;
	const char *profile;		/* of p */
	const char *target_profile;	/* of q, a move's target */
	const char *adds, *removes;	/* a move's units are its adds */
};

static bool plan_setup(const struct plan *pl)
{
	struct scenario sc = { .profile = pl->profile, .start_first = true };
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };

	if (!setup(&sc))
		return false;
	if (pl->kind != DHP_OP_HOT_MOVE)
		return true;
	if (tb_create(&tb, "q", pl->target_profile, "s1-cpu0 s1-mem0", &err) ||
	    tb_do(&tb, DHP_VERB_START, "q", NULL, &op, &err) || op.state != DHP_OP_COMPLETED) {
		CHECK_MSG(0, "setup of q: %s %s", err.message, op.error.message);
		return false;
	}
	return true;
}

static int plan_submit(const struct plan *pl, struct dhp_op *op, struct dhp_error *err)
{
	if (pl->kind == DHP_OP_HOT_MOVE)
		return tb_move(&tb, "p", "q", pl->adds, op, err);
	return tb_resize(&tb, "p", pl->adds, pl->removes, false, op, err);
}

/* The k-th unit of phase ph's set, or NULL past its end. */
static const char *plan_unit(const struct plan *pl, const struct phase_desc *ph, unsigned k,
			     char *buf, size_t size)
{
	const char *set = ph->target == TARGET_REMOVES ? pl->removes : pl->adds;
	char *save = NULL, *t;

	snprintf(buf, size, "%s", set ? set : "");
	for (t = strtok_r(buf, " ", &save); t && k; t = strtok_r(NULL, " ", &save))
		k--;
	return t;
}

static void one_plan_fault(const struct plan *pl, unsigned i, const char *unit_id,
			   const struct effect *fx)
{
	const struct op_desc *desc = op_desc(pl->kind);
	const struct phase_desc *ph = &desc->phases[i];
	const char *victim = ph->at_target ? "q" : "p";
	struct dhp_sim_fault fault = {
		.call = step_call(ph->run),
		.note = ph->run == STEP_NOTIFY ? (int)ph->note : DHP_SIM_ANY_NOTE,
		.effect = fx->effect, .delay_ms = fx->delay_ms, .count = 1,
	};
	/* Power calls of a resize's adds are for free units: no OS to crash. */
	bool crash = fx->effect == DHP_SIM_CRASH &&
		     !(ph->run == STEP_POWER_ON && ph->target == TARGET_ADDS);
	bool harmless = (fx->effect == DHP_SIM_SLOW && fx->delay_ms < 30000) ||
			(fx->effect == DHP_SIM_CRASH && !crash);
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	char *before = NULL, *after;
	uint32_t owners[64];

	test_begin("%s %s -> %s: %s at %s of %s", dhp_op_kind_name(pl->kind), pl->profile,
		   pl->target_profile ? pl->target_profile : "-", fx->name, ph->name, unit_id);
	snprintf(fault.unit, sizeof(fault.unit), "%s", unit_id);
	if (!plan_setup(pl))
		goto out;
	before = tb_snapshot(&tb);
	for (size_t u = 0; u < tb.server->n_units && u < 64; u++)
		owners[u] = tb.server->units[u].partition;
	CHECK_INT(dhp_sim_fault_add(tb.backend, &fault, &err), 0);
	CHECK_INT(plan_submit(pl, &op, &err), 0);
	CHECK_INT(dhp_sim_faults_fired(tb.backend), 1);
	if (harmless || i > op_commit_phase(desc)) {
		CHECK_MSG(op.state == DHP_OP_COMPLETED, "ended %s: %s", dhp_op_state_name(op.state),
			  op.error.message);
	} else {
		int code = fx->effect == DHP_SIM_FAIL ? default_failure(fault.call) :
			   crash ? -EHOSTDOWN : -ETIMEDOUT;

		CHECK_MSG(op.state == DHP_OP_ROLLED_BACK, "ended %s: %s",
			  dhp_op_state_name(op.state), op.error.message);
		CHECK_MSG(op.error.code == code, "error %d (%s), expected %d", op.error.code,
			  op.error.message, code);
		CHECK(strstr(op.error.message, ph->name) != NULL);
		after = tb_snapshot(&tb);
		if (!crash)
			CHECK_MSG(before && after && !strcmp(before, after),
				  "not exactly as before:\n%s---\n%s", before, after);
		free(after);
		/* Never part of the plan: every unit where it was. */
		for (size_t u = 0; u < tb.server->n_units && u < 64; u++)
			CHECK_MSG(tb.server->units[u].partition == owners[u], "unit %s moved",
				  tb.server->units[u].id);
	}
	if (crash)
		CHECK_INT(dhp_server_partition_by_name(tb.server, victim)->state,
			  DHP_PARTITION_FAILED);
	invariants();
out:
	free(before);
	tb_destroy(&tb);
	test_end();
}

static void plan_operations(void)
{
	static const struct plan plans[] = {
		{ DHP_OP_HOT_RESIZE, "linux", NULL, "s1-cpu0 s1-mem0 s1-iohb0",
		  "s0-cpu1 s0-mem1 s0-iohb0" },
		/* An OS that cannot hot remove takes one add (resize.c). */
		{ DHP_OP_HOT_RESIZE, "windows-server-2008-x64", NULL, "s2-mem0", NULL },
		{ DHP_OP_HOT_MOVE, "linux", "linux", "s0-cpu1 s0-mem1 s0-iohb0", NULL },
		{ DHP_OP_HOT_MOVE, "linux", "windows-server-2008-x64", "s0-cpu1", NULL },
	};
	char buf[128];

	for (size_t p = 0; p < sizeof(plans) / sizeof(plans[0]); p++) {
		const struct op_desc *desc = op_desc(plans[p].kind);

		for (unsigned i = 0; i < desc->n_phases; i++) {
			const struct phase_desc *ph = &desc->phases[i];
			const char *id;

			if (ph->run == STEP_COMMIT)
				continue;
			for (unsigned k = 0; (id = plan_unit(&plans[p], ph, k, buf, sizeof(buf)));
			     k++)
				for (size_t e = 0; e < sizeof(effects) / sizeof(effects[0]); e++) {
					char unit_id[DHP_UNIT_ID_MAX];

					snprintf(unit_id, sizeof(unit_id), "%s", id);
					one_plan_fault(&plans[p], i, unit_id, &effects[e]);
				}
		}
	}
}

int main(void)
{
	veto_reason();
	plan_operations();
	hot_operations();
	partition_operations();
	power_operations();
	failed_undo();
	return test_done();
}
