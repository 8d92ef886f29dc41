/* SPDX-License-Identifier: MIT */
/*
 * A journal write that fails must not be acknowledged (DESIGN.md
 * invariant 5). The failure is real: a trigger that says RAISE(ABORT) is
 * put into the store's own SQLite file, from a second connection, while
 * dhp has it open; SQLite then fails dhp's INSERT or UPDATE as it would
 * for a full disk or a damaged page, with the transaction still open.
 *
 * Engine: a request whose operation row, event or counters cannot be
 * written is refused with -EIO; it is not queued, the model is unchanged,
 * nothing of it is in the file after reopening, and the invariants hold.
 * Store: a commit after a failed write fails and writes nothing of the
 * transaction (the store's own defence, whatever its caller does).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/topology.h"
#include "testbed.h"

#define DEMO "topologies/demo"

static struct testbed tb;

/* Run SQL on the store file through a connection of the test's own. */
static void store_sql(const char *dir, const char *sql)
{
	char path[320], *msg = NULL;
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 1000);
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	}
	CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void invariants(void)
{
	struct dhp_error err = { 0 };
	int r = tb_invariants(&tb, &err);

	CHECK_MSG(r == 0, "invariant broken: %s", err.message);
}

/* The highest operation id in the store, 0 when none. */
static uint64_t last_op_id(struct dhp_store *store, struct dhp_server *server)
{
	struct dhp_error err = { 0 };
	struct dhp_op *ops = NULL;
	uint64_t last = 0;
	size_t n = 0;

	CHECK_INT(dhp_store_list_ops(store, server, 0, 1000, &ops, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		if (ops[i].id > last)
			last = ops[i].id;
	free(ops);
	return last;
}

/* What the store file holds of operations after last, read afresh. */
static void check_file_has_nothing_after(const char *dir, uint64_t last)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server = NULL;
	struct dhp_store *store = NULL;
	struct dhp_event *events = NULL;
	struct dhp_op *ops = NULL, op;
	char path[320];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	CHECK_INT(dhp_topology_load(DEMO, &server, &err), 0);
	CHECK_MSG(dhp_store_open(path, &store, &err) == 0, "reopen: %s", err.message);
	if (!store || !server)
		goto out;
	CHECK_INT(dhp_store_get_op(store, server, last + 1, &op, NULL), -ENOENT);
	CHECK_INT(dhp_store_list_ops(store, server, last, 100, &ops, &n, &err), 0);
	CHECK_MSG(n == 0, "%zu operation(s) after %llu in the file", n, (unsigned long long)last);
	free(ops);
	CHECK_INT(dhp_store_unfinished_ops(store, server, &ops, &n, &err), 0);
	CHECK_MSG(n == 0, "%zu unfinished operation(s) in the file", n);
	free(ops);
	CHECK_INT(dhp_store_op_events(store, last + 1, 0, 100, &events, &n, &err), 0);
	CHECK_MSG(n == 0, "%zu event(s) of the refused operation in the file", n);
	free(events);
out:
	dhp_store_close(store);
	dhp_server_free(server);
}

/*
 * A request on a testbed whose store file fails the statement that
 * trigger_sql makes fail. The request must be refused and leave nothing.
 */
static void refused_by_journal(const char *trigger_sql, enum dhp_verb verb,
			       const char *partition, const char *units)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	char *before, *after;
	uint64_t last;
	int r;

	tb.virtual_time = true;
	r = tb_open(&tb, DEMO, &err);
	CHECK_MSG(r == 0, "tb_open: %s", err.message);
	if (r)
		return;
	/* Something journaled before, so that the file is not empty. */
	CHECK_INT(tb_create(&tb, "web", "linux", "s0-cpu0 s0-mem0", &err), 0);
	invariants();
	last = last_op_id(tb.store, tb.server);
	CHECK(last > 0);

	store_sql(tb.dir, trigger_sql);
	before = tb_snapshot(&tb);
	r = tb_do(&tb, verb, partition, units, &op, &err);
	CHECK_MSG(r == -EIO, "%s %s: %d (%s), expected -EIO", dhp_verb_name(verb), partition,
		  r, err.message);
	CHECK_MSG(strstr(err.message, "journaled") && strstr(err.message, "injected"),
		  "message \"%s\" says neither what failed nor why", err.message);
	CHECK_MSG(err.resolution[0], "no resolution");
	/* Not queued, not running, nothing changed in memory. */
	CHECK(dhp_core_active_op(tb.core, last + 1) == NULL);
	CHECK(dhp_core_idle(tb.core));
	after = tb_snapshot(&tb);
	CHECK_MSG(before && after && !strcmp(before, after),
		  "a request that was not journaled changed state:\n%s\n---\n%s", before, after);
	free(before);
	free(after);
	invariants();
	/* The store failed: later changes are refused, not half journaled. */
	CHECK_INT(tb_do(&tb, DHP_VERB_POWER_ON, NULL, "s1-cpu0", NULL, NULL), -EIO);
	tb_close(&tb);

	check_file_has_nothing_after(tb.dir, last);

	/* A dhp that starts again on the file (the fault gone) finds the
	 * state as it was before the refused request. */
	store_sql(tb.dir, "DROP TRIGGER injected");
	r = tb_open_dir(&tb, DEMO, tb.dir, &err);
	CHECK_MSG(r == 0, "reopen: %s", err.message);
	if (!r) {
		CHECK(dhp_server_partition_by_name(tb.server, "web") != NULL);
		CHECK(verb != DHP_VERB_CREATE ||
		      dhp_server_partition_by_name(tb.server, partition) == NULL);
		CHECK_INT(last_op_id(tb.store, tb.server), last);
		invariants();
	}
	tb_destroy(&tb);
}

/* The operation's row: a create, whose partition must vanish again. */
static void test_op_write_fails(void)
{
	refused_by_journal("CREATE TRIGGER injected BEFORE INSERT ON operations BEGIN"
			   " SELECT RAISE(ABORT, 'injected: no room for the operation'); END",
			   DHP_VERB_CREATE, "db", NULL);
}

/* The "queued" event, the last write before the commit. */
static void test_event_write_fails(void)
{
	refused_by_journal("CREATE TRIGGER injected BEFORE INSERT ON events BEGIN"
			   " SELECT RAISE(ABORT, 'injected: no room for the event'); END",
			   DHP_VERB_START, "web", NULL);
}

/* The counters, the first write of a request. */
static void test_counters_write_fails(void)
{
	refused_by_journal("CREATE TRIGGER injected BEFORE UPDATE ON meta BEGIN"
			   " SELECT RAISE(ABORT, 'injected: no room for the counters'); END",
			   DHP_VERB_ADD, "web", "s0-cpu1");
}

/* The store alone: a commit after a failed write fails and writes nothing. */
static void test_store_commit_after_failed_write(void)
{
	struct dhp_store_counters counters = { 0 };
	struct dhp_error err = { 0 };
	struct dhp_server *server = NULL;
	struct dhp_store *store = NULL;
	struct dhp_op op = { 0 };
	char path[320];
	int r;

	tb.virtual_time = true;
	r = tb_open(&tb, DEMO, &err);
	CHECK_MSG(r == 0, "tb_open: %s", err.message);
	if (r)
		return;
	tb_close(&tb);
	snprintf(path, sizeof(path), "%s/state.db", tb.dir);
	CHECK_INT(dhp_topology_load(DEMO, &server, &err), 0);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	if (!store || !server)
		goto out;
	CHECK_INT(dhp_store_load(store, server, &counters, &err), 0);
	store_sql(tb.dir, "CREATE TRIGGER injected BEFORE INSERT ON operations BEGIN"
		  " SELECT RAISE(ABORT, 'injected: no room'); END");

	op.id = counters.next_op_id;
	op.kind = DHP_OP_POWER_ON;
	op.state = DHP_OP_QUEUED;
	op.n_units = 1;
	op.units[0] = 0;
	op.spare = -1;
	server->units[0].powered = !server->units[0].powered;
	counters.next_op_id++;
	CHECK_INT(dhp_store_put_counters(store, &counters, NULL), 0);
	CHECK(dhp_store_put_op(store, server, &op, NULL) < 0);	/* the trigger */
	/* A caller that drops the result goes on writing, then commits. */
	dhp_store_put_unit(store, &server->units[0], NULL);
	dhp_error_clear(&err);
	r = dhp_store_commit(store, true, &err);
	CHECK_MSG(r < 0, "a commit after a failed write succeeded");
	CHECK_MSG(strstr(err.message, "injected"), "commit's message \"%s\" lacks the cause",
		  err.message);
	dhp_store_close(store);
	store = NULL;
	dhp_server_free(server);
	server = NULL;

	/* Nothing of that transaction is in the file. */
	check_file_has_nothing_after(tb.dir, 0);
	CHECK_INT(dhp_topology_load(DEMO, &server, &err), 0);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	if (!store || !server)
		goto out;
	CHECK_INT(dhp_store_load(store, server, &counters, &err), 0);
	CHECK_INT(counters.next_op_id, 1);
	CHECK_INT(server->units[0].powered, 0);

	/* The failure belonged to that transaction only: the next one works. */
	store_sql(tb.dir, "DROP TRIGGER injected");
	counters.next_op_id = 2;
	CHECK_INT(dhp_store_put_counters(store, &counters, NULL), 0);
	CHECK_INT(dhp_store_put_op(store, server, &op, NULL), 0);
	CHECK_INT(dhp_store_commit(store, false, NULL), 0);
	CHECK_INT(dhp_store_get_op(store, server, op.id, &op, NULL), 0);
out:
	dhp_store_close(store);
	dhp_server_free(server);
	tb_destroy(&tb);
}

int main(void)
{
	RUN(test_op_write_fails);
	RUN(test_event_write_fails);
	RUN(test_counters_write_fails);
	RUN(test_store_commit_after_failed_write);
	return test_done();
}
