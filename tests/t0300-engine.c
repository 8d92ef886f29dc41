/* SPDX-License-Identifier: MIT */
/*
 * The operation engine on the simulated demo server: every operation and
 * every refusal, with the invariant checker after each.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"

static struct testbed tb;

static void invariants(void)
{
	struct dhp_error err = { 0 };
	int r = tb_invariants(&tb, &err);

	CHECK_MSG(r == 0, "invariant broken: %s", err.message);
}

/* Do a request that must complete. */
static void ok(enum dhp_verb verb, const char *partition, const char *units)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	int r = tb_do(&tb, verb, partition, units, &op, &err);

	CHECK_MSG(r == 0, "%s %s %s refused: %s", dhp_verb_name(verb), partition,
		  units ? units : "", err.message);
	if (r == 0)
		CHECK_MSG(op.state == DHP_OP_COMPLETED, "%s %s %s ended %s: %s",
			  dhp_verb_name(verb), partition, units ? units : "",
			  dhp_op_state_name(op.state), op.error.message);
	invariants();
}

/* A request that must be refused at once with rc, changing nothing. */
static void refused(enum dhp_verb verb, const char *partition, const char *units, int rc,
		    const char *word)
{
	struct dhp_error err = { 0 };
	char *before = tb_snapshot(&tb), *after;
	int r = tb_do(&tb, verb, partition, units, NULL, &err);

	CHECK_MSG(r == rc, "%s %s %s: %d (%s), expected %d", dhp_verb_name(verb), partition,
		  units ? units : "", r, err.message, rc);
	CHECK_MSG(!word || strstr(err.message, word), "message \"%s\" lacks \"%s\"",
		  err.message, word);
	after = tb_snapshot(&tb);
	CHECK_MSG(before && after && !strcmp(before, after), "a refused request changed state");
	free(before);
	free(after);
	invariants();
}

static struct dhp_unit *unit(const char *id)
{
	return dhp_server_unit(tb.server, id);
}

static struct dhp_partition *partition(const char *name)
{
	return dhp_server_partition_by_name(tb.server, name);
}

static void test_lifecycle(void)
{
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	invariants();
	CHECK_INT(tb_create(&tb, "web", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK(partition("web") && partition("web")->state == DHP_PARTITION_STOPPED);
	CHECK_INT(unit("s0-cpu0")->partition, partition("web")->id);
	ok(DHP_VERB_START, "web", NULL);
	CHECK_INT(partition("web")->state, DHP_PARTITION_RUNNING);
	CHECK(unit("s0-cpu0")->powered && unit("s0-mem0")->powered && unit("s0-mem0")->boot);

	ok(DHP_VERB_ADD, "web", "s0-cpu1");
	ok(DHP_VERB_ADD, "web", "s0-mem1");
	ok(DHP_VERB_ADD, "web", "s0-iohb0");
	CHECK_INT(dhp_server_count_units(tb.server, partition("web")->id, DHP_UNIT_TYPE_MAX), 5);

	ok(DHP_VERB_REPLACE, "web", "s0-cpu1");
	CHECK_INT(unit("s0-cpu1")->partition, 0);
	CHECK(!unit("s0-cpu1")->powered);
	CHECK_INT(dhp_server_count_units(tb.server, partition("web")->id, DHP_UNIT_PROCESSOR), 2);

	ok(DHP_VERB_REPLACE, "web", "s0-mem1");
	CHECK_INT(unit("s0-mem1")->partition, 0);

	ok(DHP_VERB_REMOVE, "web", "s0-iohb0");
	CHECK_INT(unit("s0-iohb0")->partition, 0);
	CHECK(!unit("s0-iohb0")->powered);

	ok(DHP_VERB_STOP, "web", NULL);
	CHECK_INT(partition("web")->state, DHP_PARTITION_STOPPED);
	CHECK(!unit("s0-cpu0")->powered);
	ok(DHP_VERB_DELETE, "web", NULL);
	CHECK(partition("web") == NULL);
	CHECK_INT(unit("s0-cpu0")->partition, 0);
	CHECK(tb.n_events > 20);
	tb_destroy(&tb);
}

/* Replacing the boot memory moves the boot role with it. */
static void test_replace_boot_memory(void)
{
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "db", "linux", "s1-cpu0 s1-mem0", &err), 0);
	ok(DHP_VERB_START, "db", NULL);
	ok(DHP_VERB_REPLACE, "db", "s1-mem0");
	CHECK(!unit("s1-mem0")->boot && unit("s1-mem0")->partition == 0);
	CHECK_INT(dhp_server_count_units(tb.server, partition("db")->id, DHP_UNIT_MEMORY), 1);
	tb_destroy(&tb);
}

static void test_named_spare(void)
{
	struct dhp_error err = { 0 };
	const char *ids[] = { "s0-cpu0" };
	struct dhp_request req = {
		.verb = DHP_VERB_REPLACE, .partition = "a", .units = ids, .n_units = 1,
		.spare = "s3-cpu3",
	};
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "windows-server-2008-x64", "s0-cpu0 s0-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	CHECK_INT(unit("s3-cpu3")->partition, partition("a")->id);
	req.units = (const char *[]){ "s3-cpu3" };
	req.spare = "s0-mem1";
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), -EINVAL);
	CHECK(strstr(err.message, "not identical") != NULL);
	invariants();
	tb_destroy(&tb);
}

static void test_refusals(void)
{
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK_INT(tb_create(&tb, "w3", "windows-server-2003-sp1", "s1-cpu0 s1-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	ok(DHP_VERB_START, "w3", NULL);

	refused(DHP_VERB_ADD, "nope", "s0-cpu1", -ENOENT, "no partition");
	refused(DHP_VERB_ADD, "a", "s9-cpu9", -ENOENT, "no unit");
	refused(DHP_VERB_ADD, "a", "s1-cpu0", -EBUSY, "belongs to");
	refused(DHP_VERB_ADD, "a", "s0-cpu1 s0-cpu2", -EINVAL, "one unit");
	refused(DHP_VERB_ADD, "a", "s0-cpu1 s0-cpu1", -EINVAL, "twice");
	refused(DHP_VERB_ADD, "a", NULL, -EINVAL, "no unit");
	refused(DHP_VERB_ADD, "w3", "s1-cpu1", -EOPNOTSUPP, "cannot hot add");
	refused(DHP_VERB_REMOVE, "w3", "s1-cpu0", -EOPNOTSUPP, "cannot hot remove");
	refused(DHP_VERB_REPLACE, "w3", "s1-mem0", -EOPNOTSUPP, "cannot hot replace");
	refused(DHP_VERB_REMOVE, "a", "s0-mem0", -EOPNOTSUPP, "boot memory");
	refused(DHP_VERB_REMOVE, "a", "s0-cpu0", -ERANGE, "without a processor");
	refused(DHP_VERB_REMOVE, "a", "s1-cpu1", -EINVAL, "not in partition");
	refused(DHP_VERB_DELETE, "a", NULL, -EBUSY, "running");
	refused(DHP_VERB_START, "a", NULL, -EBUSY, "running");
	refused(DHP_VERB_CREATE, "a", "s2-cpu0", -EEXIST, "exists");
	refused(DHP_VERB_CREATE, "-bad", "s2-cpu0", -EINVAL, "invalid partition name");
	refused(DHP_VERB_POWER_ON, NULL, "s0-cpu0", -EBUSY, "belongs to");
	refused(DHP_VERB_REPLACE, "a", "s0-iohb0", -EINVAL, "not in partition");
	ok(DHP_VERB_ADD, "a", "s0-iohb0");
	refused(DHP_VERB_REPLACE, "a", "s0-iohb0", -EOPNOTSUPP, "cannot hot replace");
	tb_destroy(&tb);
}

/* Windows Server 2003 SP1 adds memory online; other changes are staged. */
static void test_staged_changes(void)
{
	struct dhp_error err = { 0 };
	const char *ids[] = { "s1-cpu1" };
	struct dhp_request req = {
		.verb = DHP_VERB_ADD, .partition = "w3", .units = ids, .n_units = 1,
		.on_restart = true,
	};
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "w3", "windows-server-2003-sp1", "s1-cpu0 s1-mem0", &err), 0);
	ok(DHP_VERB_START, "w3", NULL);
	ok(DHP_VERB_ADD, "w3", "s1-mem1");
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK_INT(op.kind, DHP_OP_ASSIGN);
	CHECK(op.staged);
	CHECK_INT(unit("s1-cpu1")->staged_partition, partition("w3")->id);
	CHECK_INT(unit("s1-cpu1")->partition, 0);
	CHECK_INT(tb_create(&tb, "b", "linux", "s2-cpu0 s2-mem0", &err), 0);
	refused(DHP_VERB_ADD, "b", "s1-cpu1", -EBUSY, "staged to join");
	req.verb = DHP_VERB_REMOVE;
	ids[0] = "s1-mem1";
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK(unit("s1-mem1")->staged_remove);
	invariants();
	ok(DHP_VERB_RESTART, "w3", NULL);
	CHECK_INT(unit("s1-cpu1")->partition, partition("w3")->id);
	CHECK_INT(unit("s1-cpu1")->staged_partition, 0);
	CHECK_INT(unit("s1-mem1")->partition, 0);
	CHECK(!unit("s1-mem1")->powered);
	CHECK_INT(partition("w3")->state, DHP_PARTITION_RUNNING);
	tb_destroy(&tb);
}

/* On a static server a running partition changes only at restart. */
static void test_static_server(void)
{
	struct dhp_error err = { 0 };
	const char *ids[] = { "s0-cpu1" };
	struct dhp_request req = {
		.verb = DHP_VERB_ADD, .partition = "a", .units = ids, .n_units = 1,
		.on_restart = true,
	};
	struct dhp_op op;

	tb_open_virtual(&tb, "topologies/static-demo");
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	refused(DHP_VERB_ADD, "a", "s0-cpu1", -EROFS, "statically partitioned");
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	ok(DHP_VERB_STOP, "a", NULL);
	ok(DHP_VERB_START, "a", NULL);
	CHECK_INT(unit("s0-cpu1")->partition, partition("a")->id);
	tb_destroy(&tb);
}

/* Offline changes to a stopped partition; the minimum applies at start. */
static void test_offline_changes(void)
{
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0", &err), 0);
	refused(DHP_VERB_START, "a", NULL, -ERANGE, "at least one processor and one memory");
	ok(DHP_VERB_ADD, "a", "s0-mem0 s0-mem1");
	ok(DHP_VERB_REMOVE, "a", "s0-mem1");
	CHECK_INT(unit("s0-mem1")->partition, 0);
	ok(DHP_VERB_START, "a", NULL);
	ok(DHP_VERB_POWER_ON, NULL, "s3-iohb0");
	CHECK(unit("s3-iohb0")->powered);
	ok(DHP_VERB_POWER_OFF, NULL, "s3-iohb0");
	CHECK(!unit("s3-iohb0")->powered);
	tb_destroy(&tb);
}

/* One operation at a time: a second request on a busy partition or unit
 * fails at once; the first one is unharmed. */
static void test_conflicts(void)
{
	struct dhp_error err = { 0 };
	const char *cpu[] = { "s0-cpu1" }, *mem[] = { "s0-mem1" };
	struct dhp_request add = { .verb = DHP_VERB_ADD, .partition = "a", .units = cpu,
				   .n_units = 1 };
	struct dhp_request add_b = { .verb = DHP_VERB_ADD, .partition = "b", .units = cpu,
				     .n_units = 1 };
	struct dhp_request add_mem = { .verb = DHP_VERB_ADD, .partition = "a", .units = mem,
				       .n_units = 1 };
	uint64_t id = 0, id2 = 0;
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK_INT(tb_create(&tb, "b", "linux", "s2-cpu0 s2-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	ok(DHP_VERB_START, "b", NULL);
	CHECK_INT(dhp_core_submit(tb.core, &add, &id, &err), 0);
	CHECK_INT(dhp_core_submit(tb.core, &add_mem, &id2, &err), -EBUSY);
	CHECK(strstr(err.message, "busy") != NULL);
	dhp_error_clear(&err);
	CHECK_INT(dhp_core_submit(tb.core, &add_b, &id2, &err), -EBUSY);
	tb_settle(&tb);
	CHECK_INT(dhp_store_get_op(tb.store, tb.server, id, &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	invariants();
	tb_destroy(&tb);
}

/* Everything survives a clean close and reopen. */
static void test_reopen(void)
{
	struct dhp_error err = { 0 };
	char dir[256], *before, *after;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	ok(DHP_VERB_ADD, "a", "s0-cpu1");
	before = tb_snapshot(&tb);
	snprintf(dir, sizeof(dir), "%s", tb.dir);
	tb_close(&tb);
	CHECK_INT(tb_open_dir(&tb, DEMO, dir, &err), 0);
	after = tb_snapshot(&tb);
	CHECK(before && after && !strcmp(before, after));
	invariants();
	ok(DHP_VERB_REMOVE, "a", "s0-cpu1");
	free(before);
	free(after);
	tb_destroy(&tb);
}

static const char *uuid_of(const char *name)
{
	struct dhp_partition *p = dhp_server_partition_by_name(tb.server, name);

	return p ? p->uuid : "";
}

/* A partition's UUID: made at its create (version 4), its own, the same
 * after a restart of the engine; a partition of the same name made after
 * a delete gets a new one. */
static void test_uuid(void)
{
	struct dhp_error err = { 0 };
	char dir[256], a[DHP_UUID_LEN], b[DHP_UUID_LEN];

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK_INT(tb_create(&tb, "b", "linux", "s1-cpu0 s1-mem0", &err), 0);
	snprintf(a, sizeof(a), "%s", uuid_of("a"));
	snprintf(b, sizeof(b), "%s", uuid_of("b"));
	CHECK_MSG(dhp_uuid_valid(a) && a[14] == '4', "\"%s\"", a);
	CHECK(dhp_uuid_valid(b) && strcmp(a, b) != 0);
	ok(DHP_VERB_START, "a", NULL);
	ok(DHP_VERB_ADD, "a", "s0-cpu1");
	CHECK_STR(uuid_of("a"), a);
	snprintf(dir, sizeof(dir), "%s", tb.dir);
	tb_close(&tb);
	CHECK_INT(tb_open_dir(&tb, DEMO, dir, &err), 0);
	CHECK_STR(uuid_of("a"), a);
	CHECK_STR(uuid_of("b"), b);
	ok(DHP_VERB_DELETE, "b", NULL);
	CHECK_INT(tb_create(&tb, "b", "linux", "s1-cpu0 s1-mem0", &err), 0);
	CHECK(dhp_uuid_valid(uuid_of("b")) && strcmp(uuid_of("b"), b) != 0);
	invariants();
	tb_destroy(&tb);
}

/*
 * A failed partition (its OS crashed) changes only at its restart: a
 * remove is staged, and the start that follows stops what is left of the
 * OS first. The removed boot memory keeps no boot role.
 */
static void test_failed_partition(void)
{
	struct dhp_error err = { 0 };
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0 s0-mem1", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	CHECK_INT(dhp_sim_faults_configure(tb.backend, "notify:add-start=crash*1", &err), 0);
	CHECK_INT(tb_do(&tb, DHP_VERB_ADD, "a", "s0-cpu1", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_ROLLED_BACK);
	CHECK_INT(op.error.code, -EHOSTDOWN);
	CHECK_INT(partition("a")->state, DHP_PARTITION_FAILED);
	CHECK_INT(unit("s0-cpu1")->partition, 0);
	invariants();
	CHECK_INT(tb_do(&tb, DHP_VERB_REMOVE, "a", "s0-mem0", &op, &err), 0);
	CHECK(op.staged && unit("s0-mem0")->staged_remove);
	ok(DHP_VERB_START, "a", NULL);
	CHECK_INT(partition("a")->state, DHP_PARTITION_RUNNING);
	CHECK_INT(unit("s0-mem0")->partition, 0);
	CHECK(!unit("s0-mem0")->boot && unit("s0-mem1")->boot);
	tb_destroy(&tb);
}

/* While the OS takes no part (no agent), online changes are refused at
 * once; staged ones are still taken; its return lifts the refusal. */
static void test_os_not_ready(void)
{
	struct dhp_error err = { 0 };
	const char *ids[] = { "s0-cpu1" };
	struct dhp_request req = {
		.verb = DHP_VERB_ADD, .partition = "a", .units = ids, .n_units = 1,
		.on_restart = true,
	};
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-mem0", &err), 0);
	ok(DHP_VERB_START, "a", NULL);
	CHECK(partition("a")->os_ready);
	dhp_sim_set_os_ready(tb.backend, partition("a")->id, false);
	CHECK(!partition("a")->os_ready);
	refused(DHP_VERB_ADD, "a", "s0-cpu2", -ENOTCONN, "no agent");
	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK(op.staged && op.state == DHP_OP_COMPLETED);
	dhp_sim_set_os_ready(tb.backend, partition("a")->id, true);
	ok(DHP_VERB_ADD, "a", "s0-cpu2");
	tb_destroy(&tb);
}

int main(void)
{
	RUN(test_lifecycle);
	RUN(test_replace_boot_memory);
	RUN(test_named_spare);
	RUN(test_refusals);
	RUN(test_staged_changes);
	RUN(test_static_server);
	RUN(test_offline_changes);
	RUN(test_conflicts);
	RUN(test_reopen);
	RUN(test_uuid);
	RUN(test_failed_partition);
	RUN(test_os_not_ready);
	return test_done();
}
