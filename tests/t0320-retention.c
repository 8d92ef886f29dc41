/* SPDX-License-Identifier: MIT */
/*
 * Retention of the journal (docs/store.md, "Retention"): the oldest
 * finished operations and the oldest events are pruned, never an
 * unfinished operation or its events, a bounded batch at a time, in the
 * transaction of the caller; a finished operation can be deleted. Every
 * case works on real files in a fresh temporary directory, reopens them
 * and checks their integrity.
 */
#include "harness.h"
#include "rawdb.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/store.h"

static char tmpdir[PATH_MAX];

static void tmpdir_remove(void)
{
	DIR *dir = opendir(".");
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlink(de->d_name);
	closedir(dir);
	if (chdir("/") == 0)
		rmdir(tmpdir);
}

static struct dhp_server *small_server(void)
{
	struct dhp_server *s = dhp_server_new("test-server", DHP_MODE_DYNAMIC);
	struct dhp_unit cpu = { .type = DHP_UNIT_PROCESSOR, .model = "x1", .host_cpu = -1 };
	struct dhp_unit mem = { .type = DHP_UNIT_MEMORY, .model = "ddr4",
				.size_bytes = 128u << 20, .host_cpu = -1 };

	snprintf(cpu.id, sizeof(cpu.id), "s0-cpu0");
	snprintf(mem.id, sizeof(mem.id), "s0-mem0");
	CHECK_INT(dhp_server_add_unit(s, &cpu, NULL), 0);
	CHECK_INT(dhp_server_add_unit(s, &mem, NULL), 0);
	return s;
}

static struct dhp_store *open_loaded(const char *name, struct dhp_server **ret_server)
{
	struct dhp_store_counters counters;
	struct dhp_store *store = NULL;
	struct dhp_error err = { 0 };

	*ret_server = small_server();
	CHECK_INT(dhp_store_open(name, &store, &err), 0);
	if (!store)
		return NULL;
	CHECK_INT(dhp_store_load(store, *ret_server, &counters, &err), 0);
	CHECK_MSG(!err.code, "%s", err.message);
	return store;
}

static void close_all(struct dhp_store *store, struct dhp_server *server)
{
	dhp_store_close(store);
	dhp_server_free(server);
}

static void set_keep(struct dhp_store *store, uint32_t ops, uint32_t events)
{
	dhp_store_set_retention(store, &(struct dhp_store_retention){ ops, events });
}

/* Operation id in state with n events of its own. */
static void put_op(struct dhp_store *store, struct dhp_server *server, uint64_t id,
		   enum dhp_op_state state, unsigned n_events)
{
	struct dhp_op op = {
		.id = id, .kind = DHP_OP_HOT_ADD, .state = state, .partition = 1,
		.spare = -1, .created_ms = 1000 + id, .ended_ms = 2000 + id,
	};
	struct dhp_error err = { 0 };

	snprintf(op.partition_name, sizeof(op.partition_name), "web");
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	for (unsigned i = 0; i < n_events; i++) {
		struct dhp_event ev = { .time_ms = 42, .kind = DHP_EVENT_OP_PHASE, .op = id };

		snprintf(ev.text, sizeof(ev.text), "operation %llu event %u",
			 (unsigned long long)id, i);
		CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	}
}

/* As the engine does at an outcome: prune, then the durable commit. */
static void prune_commit(struct dhp_store *store)
{
	struct dhp_error err = { 0 };

	CHECK_INT(dhp_store_prune(store, &err), 0);
	CHECK_MSG(!err.code, "%s", err.message);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
}

static long long count(const char *path, const char *what)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", what);
	return raw_int(path, sql);
}

static void reopen_check(const char *path)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store = open_loaded(path, &server);

	CHECK_INT(dhp_store_integrity_check(store, &err), 0);
	close_all(store, server);
}

/* The newest N finished operations stay, and every unfinished one. */
static void test_ops_pruned(void)
{
	struct dhp_server *server;
	struct dhp_store *store = open_loaded("ops.db", &server);
	struct dhp_op *ops = NULL;
	struct dhp_error err = { 0 };
	size_t n = 0;

	set_keep(store, 10, 0);
	put_op(store, server, 1, DHP_OP_RUNNING, 2);
	put_op(store, server, 2, DHP_OP_QUEUED, 1);
	prune_commit(store);
	for (uint64_t id = 3; id <= 100; id++) {
		put_op(store, server, id, id % 3 ? DHP_OP_COMPLETED : DHP_OP_ROLLED_BACK, 3);
		prune_commit(store);
		if (id >= 12)	/* with so few kept, it looks at every outcome */
			CHECK_INT(count("ops.db", "operations WHERE state NOT IN"
					" ('queued', 'running')"), 10);
	}
	CHECK_INT(count("ops.db", "operations WHERE state NOT IN ('queued', 'running')"), 10);
	CHECK_INT(raw_int("ops.db", "SELECT MIN(id) FROM operations WHERE state = 'completed'"
			  " OR state = 'rolled-back'"), 91);
	CHECK_INT(dhp_store_unfinished_ops(store, server, &ops, &n, &err), 0);
	CHECK_INT(n, 2);
	free(ops);
	/* events=0 keeps every event, of pruned operations too */
	CHECK_INT(count("ops.db", "events"), 3 + 98 * 3);
	close_all(store, server);
	reopen_check("ops.db");
}

/* The newest events stay, and every event from an unfinished operation's on. */
static void test_events_pruned(void)
{
	struct dhp_server *server;
	struct dhp_store *store = open_loaded("events.db", &server);
	struct dhp_error err = { 0 };
	struct dhp_event *evs = NULL;
	uint64_t first = 0;
	size_t n = 0;

	set_keep(store, 0, 50);
	put_op(store, server, 1, DHP_OP_RUNNING, 1);	/* event 1 */
	for (uint64_t id = 2; id <= 101; id++) {
		put_op(store, server, id, DHP_OP_COMPLETED, 2);
		prune_commit(store);
	}
	/* Operation 1 still runs: its event, and all after it, stay. */
	CHECK_INT(count("events.db", "events"), 201);
	CHECK_INT(dhp_store_first_event(store, &first, &err), 0);
	CHECK_INT(first, 1);
	put_op(store, server, 1, DHP_OP_COMPLETED, 0);
	set_keep(store, 0, 50);
	prune_commit(store);
	CHECK_INT(count("events.db", "events"), 50);
	CHECK_INT(dhp_store_first_event(store, &first, &err), 0);
	CHECK_INT(first, 152);
	CHECK_INT(dhp_store_last_event(store), 201);
	/* The kept ones are one run of numbers. */
	CHECK_INT(dhp_store_events(store, 0, 100, &evs, &n, &err), 0);
	CHECK_INT(n, 50);
	for (size_t i = 0; i < n; i++)
		CHECK_INT(evs[i].seq, 152 + i);
	free(evs);
	close_all(store, server);
	/* AUTOINCREMENT: numbers go on after a reopen, never back. */
	store = open_loaded("events.db", &server);
	CHECK_INT(dhp_store_last_event(store), 201);
	put_op(store, server, 102, DHP_OP_COMPLETED, 1);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(dhp_store_last_event(store), 202);
	close_all(store, server);
	reopen_check("events.db");
}

/* A long history (a store from before retention) goes a batch at a time. */
static void test_batches_bounded(void)
{
	struct dhp_server *server;
	struct dhp_store *store = open_loaded("batch.db", &server);
	long long ops, events, prev_ops, prev_events;
	unsigned rounds = 0;

	set_keep(store, 0, 0);
	for (uint64_t id = 1; id <= 2000; id++)
		put_op(store, server, id, DHP_OP_COMPLETED, 6);
	prune_commit(store);
	CHECK_INT(count("batch.db", "operations"), 2000);
	set_keep(store, 100, 1000);
	ops = count("batch.db", "operations");
	events = count("batch.db", "events");
	do {
		prev_ops = ops, prev_events = events;
		prune_commit(store);
		ops = count("batch.db", "operations");
		events = count("batch.db", "events");
		CHECK(prev_ops - ops <= 256 && prev_events - events <= 4096);
		rounds++;
	} while ((ops != prev_ops || events != prev_events) && rounds < 100);
	CHECK_INT(ops, 100);
	CHECK_INT(events, 1000);
	CHECK(rounds >= 8);	/* 1,900 operations at 256 a time */
	close_all(store, server);
	reopen_check("batch.db");
}

/* A crash in the middle of pruning: the last commit stands, whole. */
static void test_crash_while_pruning(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_op *ops = NULL;
	int status = 0;
	size_t n = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		store = open_loaded("crash.db", &server);
		set_keep(store, 5, 20);
		put_op(store, server, 1, DHP_OP_RUNNING, 1);
		for (uint64_t id = 2; id <= 60; id++)
			put_op(store, server, id, DHP_OP_COMPLETED, 2);
		if (dhp_store_commit(store, true, NULL))
			_exit(1);
		put_op(store, server, 1, DHP_OP_COMPLETED, 1);	/* the outcome */
		if (dhp_store_prune(store, NULL))		/* pruned, not committed */
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_INT(count("crash.db", "operations"), 60);
	CHECK_INT(count("crash.db", "events"), 119);
	store = open_loaded("crash.db", &server);
	CHECK_INT(dhp_store_integrity_check(store, &err), 0);
	CHECK_INT(dhp_store_unfinished_ops(store, server, &ops, &n, &err), 0);
	CHECK_INT(n, 1);	/* recovery still finds it */
	free(ops);
	/* The outcome committed later, with its pruning. */
	set_keep(store, 5, 20);
	put_op(store, server, 1, DHP_OP_COMPLETED, 1);
	prune_commit(store);
	close_all(store, server);
	CHECK_INT(count("crash.db", "operations"), 5);
	CHECK_INT(count("crash.db", "events"), 20);
	reopen_check("crash.db");
}

static void test_delete_op(void)
{
	struct dhp_server *server;
	struct dhp_store *store = open_loaded("delete.db", &server);
	struct dhp_error err = { 0 };
	struct dhp_op op;

	put_op(store, server, 1, DHP_OP_COMPLETED, 2);
	put_op(store, server, 2, DHP_OP_RUNNING, 1);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(dhp_store_delete_op(store, 2, &err), -EBUSY);
	dhp_error_clear(&err);
	CHECK_INT(dhp_store_delete_op(store, 3, &err), -ENOENT);
	dhp_error_clear(&err);
	/* Neither refusal spoiled the transaction. */
	CHECK_INT(dhp_store_delete_op(store, 1, &err), 0);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(dhp_store_get_op(store, server, 1, &op, &err), -ENOENT);
	dhp_error_clear(&err);
	CHECK_INT(dhp_store_get_op(store, server, 2, &op, &err), 0);
	CHECK_INT(count("delete.db", "events"), 3);	/* its events stay */
	close_all(store, server);
	reopen_check("delete.db");
}

int main(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/dhp-t0320-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || chdir(tmpdir)) {
		perror(tmpdir);
		return 1;
	}
	RUN(test_ops_pruned);
	RUN(test_events_pruned);
	RUN(test_batches_bounded);
	RUN(test_crash_while_pruning);
	RUN(test_delete_op);
	tmpdir_remove();
	return test_done();
}
