/* SPDX-License-Identifier: MIT */
/*
 * Plans run as one operation (issue 11) on the simulated demo server: a
 * resize (adds and removes) of a running, stopped or staged partition, a
 * move between two running partitions, their refusals (nothing changed,
 * the step named), a veto on either side (everything as before), and the
 * spare pool (held back from adds, taken first by hot replaces, kept
 * across a restart). The invariant checker runs after each.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define BOOT_SET "s0-cpu0 s0-mem0 s0-cpu1 s0-mem1 s0-iohb0"

static struct testbed tb;

static void invariants(void)
{
	struct dhp_error err = { 0 };

	CHECK_MSG(tb_invariants(&tb, &err) == 0, "invariant broken: %s", err.message);
}

static struct dhp_unit *unit(const char *id)
{
	return dhp_server_unit(tb.server, id);
}

static uint32_t pid(const char *name)
{
	struct dhp_partition *p = dhp_server_partition_by_name(tb.server, name);

	return p ? p->id : 0xffffffffu;
}

/* A fresh demo server with partition name (profile) made of units, running. */
static void open_with(const char *name, const char *profile, const char *units)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };

	tb.virtual_time = true;
	CHECK_MSG(tb_open(&tb, DEMO, &err) == 0, "open: %s", err.message);
	CHECK_MSG(tb_create(&tb, name, profile, units, &err) == 0, "create: %s", err.message);
	CHECK_INT(tb_do(&tb, DHP_VERB_START, name, NULL, &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
}

static void another(const char *name, const char *profile, const char *units, bool start)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };

	CHECK_MSG(tb_create(&tb, name, profile, units, &err) == 0, "create: %s", err.message);
	if (start) {
		CHECK_INT(tb_do(&tb, DHP_VERB_START, name, NULL, &op, &err), 0);
		CHECK_INT(op.state, DHP_OP_COMPLETED);
	}
}

/* Each of ids (space-separated) belongs to partition id. */
static void owned_by(const char *ids, uint32_t id)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", ids);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		CHECK_MSG(unit(t) && unit(t)->partition == id, "%s belongs to %u, not %u", t,
			  unit(t) ? unit(t)->partition : 0, id);
}

static void resize_ok(const char *name, const char *adds, const char *removes, bool staged,
		      enum dhp_op_kind kind)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };

	CHECK_MSG(tb_resize(&tb, name, adds, removes, staged, &op, &err) == 0, "refused: %s",
		  err.message);
	CHECK_MSG(op.state == DHP_OP_COMPLETED, "ended %s: %s", dhp_op_state_name(op.state),
		  op.error.message);
	CHECK_INT(op.kind, kind);
	invariants();
}

/* A resize (target NULL) or move refused at once with rc, naming word. */
static void plan_refused(const char *name, const char *adds, const char *removes,
			 const char *target, bool staged, int rc, const char *word)
{
	struct dhp_error err = { 0 };
	char *before = tb_snapshot(&tb), *after;
	int r = target ? tb_move(&tb, name, target, adds, NULL, &err)
		       : tb_resize(&tb, name, adds, removes, staged, NULL, &err);

	CHECK_MSG(r == rc, "%s %s +[%s] -[%s]: %d (%s), expected %d", target ? "move" : "resize",
		  name, adds ? adds : "", removes ? removes : "", r, err.message, rc);
	CHECK_MSG(!word || strstr(err.message, word), "message \"%s\" lacks \"%s\"", err.message,
		  word);
	after = tb_snapshot(&tb);
	CHECK_MSG(before && after && !strcmp(before, after), "a refused plan changed state");
	free(before);
	free(after);
	invariants();
}

static void test_hot_resize(void)
{
	open_with("web", "linux", BOOT_SET);
	resize_ok("web", "s1-cpu0 s1-mem0 s1-iohb0", "s0-cpu1 s0-mem1 s0-iohb0", false,
		  DHP_OP_HOT_RESIZE);
	owned_by("s0-cpu0 s0-mem0 s1-cpu0 s1-mem0 s1-iohb0", pid("web"));
	owned_by("s0-cpu1 s0-mem1 s0-iohb0", 0);
	CHECK(!unit("s0-cpu1")->powered && unit("s1-cpu0")->powered);
	/* Only adds, only removes. */
	resize_ok("web", "s2-cpu0", NULL, false, DHP_OP_HOT_RESIZE);
	resize_ok("web", NULL, "s2-cpu0 s1-iohb0", false, DHP_OP_HOT_RESIZE);
	owned_by("s2-cpu0 s1-iohb0", 0);
	tb_destroy(&tb);

	/* Its only processor swapped: the add comes first. */
	open_with("one", "linux", "s3-cpu0 s3-mem0");
	resize_ok("one", "s3-cpu1", "s3-cpu0", false, DHP_OP_HOT_RESIZE);
	owned_by("s3-cpu1 s3-mem0", pid("one"));
	tb_destroy(&tb);
}

static void test_resize_refused(void)
{
	struct dhp_error err = { 0 };

	open_with("web", "linux", BOOT_SET);
	another("db", "linux", "s1-cpu0 s1-mem0", false);
	plan_refused("web", NULL, NULL, NULL, false, -EINVAL, "no unit");
	plan_refused("nope", "s2-cpu0", NULL, NULL, false, -ENOENT, "nope");
	plan_refused("web", "s2-cpu0", "s2-cpu0", NULL, false, -EINVAL, "twice");
	plan_refused("web", "s2-cpu0 s9-cpu9", NULL, NULL, false, -ENOENT, "s9-cpu9");
	plan_refused("web", "s2-cpu0", "s2-cpu1", NULL, false, -EINVAL, "step 2 of 2 (remove s2-cpu1)");
	plan_refused("web", "s1-cpu0", NULL, NULL, false, -EBUSY, "step 1 of 1 (add s1-cpu0)");
	plan_refused("web", NULL, "s0-mem0", NULL, false, -EOPNOTSUPP, "boot memory");
	plan_refused("web", "s2-mem0", "s0-cpu0 s0-cpu1", NULL, false, -ERANGE, "processor");
	/* A spare is held back: named in a plan, it is refused. */
	CHECK_INT(dhp_core_set_spare(tb.core, "s2-cpu3", true, &err), 0);
	plan_refused("web", "s2-cpu3", NULL, NULL, false, -EBUSY, "spare pool");
	tb_destroy(&tb);

	/* Windows Server 2008 x64 grows but does not shrink: the whole plan
	 * is refused, naming the remove; the adds alone go through. */
	open_with("win", "windows-server-2008-x64", BOOT_SET);
	plan_refused("win", "s1-cpu0 s1-mem0", "s0-cpu1", NULL, false, -EOPNOTSUPP,
		     "step 3 of 3 (remove s0-cpu1): Windows Server 2008");
	/* It cannot take a unit back once online: several adds could not be
	 * undone, so they are refused; one goes through. */
	plan_refused("win", "s1-cpu0 s1-mem0", NULL, NULL, false, -EOPNOTSUPP,
		     "step 1 of 2 (add s1-cpu0): Windows Server 2008");
	resize_ok("win", "s1-mem0", NULL, false, DHP_OP_HOT_RESIZE);
	/* Staged for its restart, the shrink is fine. */
	resize_ok("win", "s2-cpu0", "s0-cpu1", true, DHP_OP_RESIZE);
	CHECK_INT(unit("s2-cpu0")->staged_partition, pid("win"));
	CHECK(unit("s0-cpu1")->staged_remove);
	CHECK_INT(tb_do(&tb, DHP_VERB_RESTART, "win", NULL, NULL, &err), 0);
	owned_by("s2-cpu0", pid("win"));
	owned_by("s0-cpu1", 0);
	invariants();
	tb_destroy(&tb);
}

static void test_resize_stopped(void)
{
	struct dhp_error err = { 0 };

	tb.virtual_time = true;
	CHECK_INT(tb_open(&tb, DEMO, &err), 0);
	CHECK_INT(tb_create(&tb, "web", "linux", BOOT_SET, &err), 0);
	resize_ok("web", "s1-cpu0", "s0-cpu0 s0-mem0", false, DHP_OP_RESIZE);
	owned_by("s1-cpu0 s0-cpu1 s0-mem1", pid("web"));
	owned_by("s0-cpu0 s0-mem0", 0);
	/* Stopped, its boot memory is just a module. */
	resize_ok("web", "s1-mem0", "s0-mem1", false, DHP_OP_RESIZE);
	owned_by("s0-mem1", 0);
	tb_destroy(&tb);
}

/* A veto on any step rolls the whole plan back. */
static void test_resize_veto(void)
{
	static const char *const faults[] = {
		"notify:add-start=veto*1", "notify:remove-query=veto*1", "offline=fail*1",
		"online=fail*1", "power-on=fail*1",
	};
	struct dhp_error err = { 0 };

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct dhp_op op = { 0 };
		char *before, *after;

		test_begin("hot-resize rolled back by %s", faults[i]);
		open_with("web", "linux", BOOT_SET);
		before = tb_snapshot(&tb);
		CHECK_INT(dhp_sim_faults_configure(tb.backend, faults[i], &err), 0);
		CHECK_INT(tb_resize(&tb, "web", "s1-cpu0 s1-mem0", "s0-cpu1 s0-mem1", false, &op,
				    &err), 0);
		CHECK_MSG(op.state == DHP_OP_ROLLED_BACK, "ended %s", dhp_op_state_name(op.state));
		after = tb_snapshot(&tb);
		CHECK_MSG(before && after && !strcmp(before, after), "not as before:\n%s---\n%s",
			  before, after);
		free(before);
		free(after);
		invariants();
		tb_destroy(&tb);
		test_end();
	}
}

static void test_move(void)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	char *before, *after;

	open_with("a", "linux", BOOT_SET);
	another("b", "linux", "s1-cpu0 s1-mem0", true);
	CHECK_INT(tb_move(&tb, "a", "b", "s0-cpu1 s0-mem1 s0-iohb0", &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_COMPLETED, "ended %s: %s", dhp_op_state_name(op.state),
		  op.error.message);
	CHECK_INT(op.kind, DHP_OP_HOT_MOVE);
	CHECK_INT(op.target, pid("b"));
	owned_by("s0-cpu1 s0-mem1 s0-iohb0 s1-cpu0 s1-mem0", pid("b"));
	owned_by("s0-cpu0 s0-mem0", pid("a"));
	CHECK(unit("s0-cpu1")->powered && !unit("s0-mem1")->boot);
	invariants();

	/* A veto on either side leaves both as they were. */
	for (int side = 0; side < 2; side++) {
		CHECK_INT(dhp_sim_faults_configure(tb.backend, side ? "notify:add-start=veto*1"
							       : "notify:remove-query=veto*1", &err), 0);
		before = tb_snapshot(&tb);
		CHECK_INT(tb_move(&tb, "b", "a", "s0-cpu1", &op, &err), 0);
		CHECK_INT(op.state, DHP_OP_ROLLED_BACK);
		CHECK_INT(op.error.code, -EPERM);
		after = tb_snapshot(&tb);
		CHECK_MSG(before && after && !strcmp(before, after), "not as before");
		free(before);
		free(after);
		invariants();
	}
	/* The target's OS fails to take it: back online at the source. */
	CHECK_INT(dhp_sim_faults_configure(tb.backend, "online=fail*1", &err), 0);
	CHECK_INT(tb_move(&tb, "b", "a", "s0-mem1", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_ROLLED_BACK);
	CHECK(strstr(op.error.message, "target-online") != NULL);
	owned_by("s0-mem1", pid("b"));
	invariants();

	/* Refusals: nothing changed, said clearly. */
	another("c", "linux", "s2-cpu0 s2-mem0", false);
	plan_refused("a", "s0-cpu0", NULL, "a", false, -EINVAL, "to itself");
	plan_refused("b", "s0-cpu1", NULL, "c", false, -ENOTCONN, "\"c\" is stopped");
	plan_refused("c", "s2-cpu0", NULL, "a", false, -ENOTCONN, "\"c\" is stopped");
	plan_refused("b", "s0-cpu1", NULL, "nope", false, -ENOENT, "nope");
	plan_refused("b", "s0-cpu1", NULL, "", false, -EINVAL, "no target");
	plan_refused("a", "s0-cpu1", NULL, "b", false, -EINVAL, "not in partition \"a\"");
	plan_refused("a", "s0-mem0", NULL, "b", false, -EOPNOTSUPP, "boot memory");
	plan_refused("a", "s0-cpu0", NULL, "b", false, -ERANGE, "without a processor");
	plan_refused("b", "", NULL, "a", false, -EINVAL, "no unit");
	tb_destroy(&tb);

	/* Profiles: the target must add, the source remove, or nothing moves. */
	open_with("a", "linux", BOOT_SET);
	another("w3", "windows-server-2003-sp1", "s1-cpu0 s1-mem0", true);
	plan_refused("a", "s0-mem1 s0-cpu1", NULL, "w3", false, -EOPNOTSUPP,
		     "step 2 of 2 (add s0-cpu1)");
	resize_ok("a", "s0-mem2", NULL, false, DHP_OP_HOT_RESIZE);
	plan_refused("a", "s0-mem1 s0-mem2", NULL, "w3", false, -EOPNOTSUPP,
		     "step 1 of 2 (add s0-mem1): Windows Server 2003 SP1 cannot take back");
	CHECK_INT(tb_move(&tb, "a", "w3", "s0-mem1", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	plan_refused("w3", "s0-mem1", NULL, "a", false, -EOPNOTSUPP, "step 1 of 1 (remove s0-mem1)");
	invariants();
	tb_destroy(&tb);
}

static void test_spare_pool(void)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	char dir[256];

	open_with("web", "linux", BOOT_SET);
	CHECK_INT(dhp_core_set_spare(tb.core, "s0-cpu0", true, &err), -EBUSY);
	err = (struct dhp_error){ 0 };
	CHECK_INT(dhp_core_set_spare(tb.core, "s9-cpu0", true, &err), -ENOENT);
	/* A spare on another socket and a free unit on the same one: the
	 * spare is taken first. */
	CHECK_INT(dhp_core_set_spare(tb.core, "s3-cpu2", true, &err), 0);
	CHECK_INT(dhp_core_set_spare(tb.core, "s3-cpu2", true, &err), 0);	/* already */
	CHECK(unit("s3-cpu2")->spare);
	invariants();
	err = (struct dhp_error){ 0 };
	CHECK_INT(tb_do(&tb, DHP_VERB_ADD, "web", "s3-cpu2", NULL, &err), -EBUSY);
	CHECK(strstr(err.message, "spare pool") != NULL);
	CHECK_INT(tb_do(&tb, DHP_VERB_REPLACE, "web", "s0-cpu1", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	owned_by("s3-cpu2", pid("web"));
	CHECK(!unit("s3-cpu2")->spare);		/* it left the pool for the partition */
	invariants();

	/* Two spares: the one on the old unit's socket first. */
	CHECK_INT(dhp_core_set_spare(tb.core, "s2-mem3", true, &err), 0);
	CHECK_INT(dhp_core_set_spare(tb.core, "s0-mem3", true, &err), 0);
	CHECK_INT(tb_do(&tb, DHP_VERB_REPLACE, "web", "s0-mem1", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	owned_by("s0-mem3", pid("web"));
	CHECK(unit("s2-mem3")->spare);
	/* No spare fits: a free identical unit, on the same socket first. */
	err = (struct dhp_error){ 0 };
	CHECK_MSG(tb_do(&tb, DHP_VERB_REPLACE, "web", "s0-cpu0", &op, &err) == 0, "%s",
		  err.message);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	owned_by("s0-cpu1", pid("web"));
	/* Creating with a spare is refused; out of the pool it is fine. */
	err = (struct dhp_error){ 0 };
	CHECK_INT(tb_create(&tb, "db", "linux", "s2-cpu0 s2-mem3", &err), -EBUSY);
	CHECK_INT(dhp_core_set_spare(tb.core, "s2-mem3", false, &err), 0);
	CHECK_INT(tb_create(&tb, "db", "linux", "s2-cpu0 s2-mem3", &err), 0);
	CHECK_INT(dhp_core_set_spare(tb.core, "s1-mem1", true, &err), 0);
	invariants();

	/* The pool survives a restart of dhp. */
	snprintf(dir, sizeof(dir), "%s", tb.dir);
	tb_close(&tb);
	CHECK_INT(tb_open_dir(&tb, DEMO, dir, &err), 0);
	CHECK(unit("s1-mem1")->spare && unit("s2-mem3") && !unit("s2-mem3")->spare);
	invariants();
	tb_destroy(&tb);
}

int main(void)
{
	RUN(test_hot_resize);
	RUN(test_resize_refused);
	RUN(test_resize_stopped);
	test_resize_veto();
	RUN(test_move);
	RUN(test_spare_pool);
	return test_done();
}
