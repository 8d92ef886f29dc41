/* SPDX-License-Identifier: MIT */
/*
 * A full state directory (docs/engine.md, "A full disk"): the K-th commit
 * after a request is made to fail as a full file system does, for every K
 * until the operation ends untouched, so the failure lands once on the
 * request's journal, once on each phase record and once on the outcome.
 *
 * The failure is SQLite's own: a VFS over the default one whose xWrite
 * answers SQLITE_FULL (what the unix VFS answers for ENOSPC), or
 * SQLITE_IOERR_WRITE with errno EDQUOT (a quota), from the commit frame of
 * the K-th transaction on, until the test says space has returned.
 *
 * Each round checks: a refused request changes nothing and says the file
 * system is full and where; nothing is acknowledged that is not journaled
 * (every event told is in the file with its number and text, every
 * operation told ended is ended in the file); while full the operation
 * waits and the hardware does not move; the engine tells "full" once and
 * "back" once; after space returns it goes on without a restart, the
 * events told are exactly the file's, and the invariants hold.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define MAX_SEEN 512

/* ---- a disk that fills ---- */

static struct disk {
	int commits_left;	/* commit frames let through before filling; -1: never */
	bool full;		/* every write fails */
	bool quota;		/* as EDQUOT (an I/O error) rather than SQLITE_FULL */
	bool tripped;		/* a write was refused */
} disk = { .commits_left = -1 };

struct full_methods {
	const sqlite3_io_methods *real;
	sqlite3_io_methods wal, other;
};

/* The unix VFS keeps the errno of a file's last failed call for
 * SQLITE_FCNTL_LAST_ERRNO; so does this one, for the writes it refuses. */
static int last_errno;

static sqlite3_vfs full_vfs, *real_vfs;
static struct full_methods methods[8];

/* A WAL frame header (24 bytes) whose "database size" field is not zero
 * ends a transaction: SQLite writes it apart from the page. */
static bool commit_frame(const void *buf, int amt)
{
	const unsigned char *p = buf;

	return amt == 24 && (p[4] | p[5] | p[6] | p[7]);
}

static int full_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	for (size_t i = 0; i < 8 && methods[i].real; i++) {
		struct full_methods *m = &methods[i];

		if (file->pMethods != &m->wal && file->pMethods != &m->other)
			continue;
		if (!disk.full && file->pMethods == &m->wal && disk.commits_left >= 0 &&
		    commit_frame(buf, amt) && disk.commits_left-- == 0)
			disk.full = true;
		if (!disk.full)
			return m->real->xWrite(file, buf, amt, off);
		disk.tripped = true;
		if (!disk.quota)
			return SQLITE_FULL;
		errno = last_errno = EDQUOT;
		return SQLITE_IOERR_WRITE;
	}
	return SQLITE_IOERR_WRITE;
}

static int full_file_control(sqlite3_file *file, int op, void *arg)
{
	for (size_t i = 0; i < 8 && methods[i].real; i++) {
		struct full_methods *m = &methods[i];

		if (file->pMethods != &m->wal && file->pMethods != &m->other)
			continue;
		if (op == SQLITE_FCNTL_LAST_ERRNO && last_errno) {
			*(int *)arg = last_errno;
			return SQLITE_OK;
		}
		return m->real->xFileControl(file, op, arg);
	}
	return SQLITE_NOTFOUND;
}

/* Opens the database as a read-only file system would let SQLite. */
static bool read_only;

static int full_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		     int *ret_flags)
{
	struct full_methods *m = methods;
	int rc;

	(void)vfs;
	if (read_only && (flags & SQLITE_OPEN_MAIN_DB))
		flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
			SQLITE_OPEN_READONLY;
	rc = real_vfs->xOpen(real_vfs, name, file, flags, ret_flags);
	if (rc != SQLITE_OK || !file->pMethods)
		return rc;
	while (m->real && m->real != file->pMethods && m < &methods[7])
		m++;
	if (!m->real) {
		m->real = file->pMethods;
		m->wal = m->other = *m->real;
		m->wal.xWrite = m->other.xWrite = full_write;
		m->wal.xFileControl = m->other.xFileControl = full_file_control;
	}
	if (m->real == file->pMethods)
		file->pMethods = flags & SQLITE_OPEN_WAL ? &m->wal : &m->other;
	return rc;
}

static void space_returns(void)
{
	disk.full = false;
	disk.commits_left = -1;
	last_errno = 0;
}

/* ---- what the engine tells ---- */

static struct testbed tb;
static struct {
	struct dhp_event events[MAX_SEEN];
	size_t n_events;
	uint64_t ended[MAX_SEEN];
	size_t n_ended;
	unsigned n_full, n_back;
	struct dhp_error why;
} seen;

static void saw_event(struct testbed *t, const struct dhp_event *ev)
{
	(void)t;
	if (seen.n_events < MAX_SEEN)
		seen.events[seen.n_events++] = *ev;
}

static void saw_op_end(struct testbed *t, const struct dhp_op *op)
{
	(void)t;
	if (seen.n_ended < MAX_SEEN)
		seen.ended[seen.n_ended++] = op->id;
}

static void saw_storage(struct testbed *t, bool full, const struct dhp_error *why)
{
	(void)t;
	if (full) {
		seen.n_full++;
		seen.why = *why;
	} else {
		seen.n_back++;
	}
}

static bool was_ended(uint64_t id)
{
	for (size_t i = 0; i < seen.n_ended; i++)
		if (seen.ended[i] == id)
			return true;
	return false;
}

static void invariants(void)
{
	struct dhp_error err = { 0 };
	int r = tb_invariants(&tb, &err);

	CHECK_MSG(r == 0, "invariant broken: %s", err.message);
}

/* Run the loop for ms of (virtual) time, whatever is pending. */
static void run_for(uint64_t ms)
{
	uint64_t end = dhp_loop_now(tb.loop) + ms;

	while (dhp_loop_now(tb.loop) < end && dhp_loop_pending(tb.loop))
		dhp_loop_run_once(tb.loop);
}

/* Nothing acknowledged that is not journaled: every event told is in the
 * file with its number and text, every operation told ended is ended. */
static void check_told_is_journaled(void)
{
	struct dhp_error err = { 0 };

	for (size_t i = 0; i < seen.n_events; i++) {
		struct dhp_event *ev = NULL;
		size_t n = 0;

		CHECK_INT(dhp_store_events(tb.store, seen.events[i].seq - 1, 1, &ev, &n, &err), 0);
		CHECK_MSG(n == 1 && ev[0].seq == seen.events[i].seq &&
			  !strcmp(ev[0].text, seen.events[i].text),
			  "event %llu \"%s\" was told but is not in the file",
			  (unsigned long long)seen.events[i].seq, seen.events[i].text);
		free(ev);
	}
	for (size_t i = 0; i < seen.n_ended; i++) {
		struct dhp_op op;

		CHECK_INT(dhp_store_get_op(tb.store, tb.server, seen.ended[i], &op, &err), 0);
		CHECK_MSG(dhp_op_state_final(op.state), "operation %llu told ended is %s in the file",
			  (unsigned long long)op.id, dhp_op_state_name(op.state));
	}
}

/* After space returned: the events told are exactly the file's since. */
static void check_told_is_the_journal(uint64_t since)
{
	struct dhp_error err = { 0 };
	struct dhp_event *ev = NULL;
	size_t n = 0;

	CHECK_INT(dhp_store_events(tb.store, since, MAX_SEEN, &ev, &n, &err), 0);
	CHECK_MSG(n == seen.n_events, "%zu events in the file, %zu told", n, seen.n_events);
	for (size_t i = 0; i < n && i < seen.n_events; i++)
		CHECK_MSG(ev[i].seq == seen.events[i].seq && !strcmp(ev[i].text, seen.events[i].text),
			  "event %zu: file %llu \"%s\", told %llu \"%s\"", i,
			  (unsigned long long)ev[i].seq, ev[i].text,
			  (unsigned long long)seen.events[i].seq, seen.events[i].text);
	free(ev);
}

static void check_full_message(const struct dhp_error *err)
{
	CHECK_INT(err->code, -EDQUOT);
	CHECK_MSG(strstr(err->message, "database or disk is full") || strstr(err->message, "disk I/O"),
		  "\"%s\" does not say what SQLite said", err->message);
	CHECK_MSG(strstr(err->message, disk.quota ? "EDQUOT" : "ENOSPC"),
		  "\"%s\" does not name the errno", err->message);
	CHECK_MSG(strstr(err->message, "is full") && strstr(err->message, tb.dir),
		  "\"%s\" does not say the file system of %s is full", err->message, tb.dir);
	CHECK_MSG(!strstr(err->resolution, "restart dhpd"), "resolution \"%s\" asks for a restart",
		  err->resolution);
}

static int submit(enum dhp_verb verb, const char *partition, const char *unit, uint64_t *ret_id,
		  struct dhp_error *err)
{
	const char *ids[1] = { unit };
	struct dhp_request req = { .verb = verb, .partition = partition, .units = ids,
				   .n_units = unit ? 1 : 0 };

	return dhp_core_submit(tb.core, &req, ret_id, err);
}

enum hit { HIT_REQUEST, HIT_PHASE, HIT_OUTCOME, HIT_NONE, HIT_MAX };
static const char *const hit_names[HIT_MAX] = { "request", "phase", "outcome", "none" };

/* The request was refused: nothing changed; the same request, once
 * space returns, is taken without a restart. */
static void refused_request(const char *before, const struct dhp_error *err, uint64_t *id)
{
	struct dhp_error e = { 0 };
	char *after = tb_snapshot(&tb);

	check_full_message(err);
	CHECK(dhp_core_idle(tb.core));
	CHECK_MSG(before && after && !strcmp(before, after), "a refused request changed state");
	free(after);
	check_told_is_journaled();
	space_returns();
	CHECK_INT(submit(DHP_VERB_ADD, "web", "s0-cpu1", id, &e), 0);
}

/* A phase or the outcome failed: the operation waits, the hardware
 * does not move, requests are refused, and it is told once. */
static enum hit waiting_operation(uint64_t id)
{
	const struct dhp_op *op;
	struct dhp_error e = { 0 };
	char *hw1, *hw2;
	enum hit hit;

	run_for(60000);
	op = dhp_core_active_op(tb.core, id);
	CHECK_MSG(op != NULL, "operation %llu is not held while the disk is full",
		  (unsigned long long)id);
	if (!op)
		return HIT_NONE;
	hit = dhp_op_state_final(op->state) ? HIT_OUTCOME : HIT_PHASE;
	CHECK(!was_ended(id));
	check_told_is_journaled();
	hw1 = tb_snapshot(&tb);
	run_for(60000);
	hw2 = tb_snapshot(&tb);
	CHECK_MSG(hw1 && hw2 && !strcmp(hw1, hw2), "the operation ran on while the disk was full");
	free(hw1);
	free(hw2);
	CHECK_INT(submit(DHP_VERB_POWER_ON, NULL, "s1-cpu0", NULL, &e), -EDQUOT);
	check_full_message(&e);
	check_told_is_journaled();
	space_returns();
	return hit;
}

/*
 * One round: web (running) gets s0-cpu1 by hot add, and the k-th commit
 * from the request on finds the disk full. faults: sim faults for the
 * hot add (a rollback), or NULL. Returns where the failure landed.
 */
static enum hit one_round(int k, const char *faults, bool quota, enum dhp_op_state expect)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	enum hit hit = HIT_NONE;
	uint64_t id = 0, since;
	char *before;
	int r;

	space_returns();
	tb.virtual_time = true;
	tb.hook_event = saw_event;
	tb.hook_op_end = saw_op_end;
	tb.hook_storage = saw_storage;
	r = tb_open(&tb, DEMO, &err);
	CHECK_MSG(r == 0, "tb_open: %s", err.message);
	if (r)
		return HIT_NONE;
	CHECK_INT(tb_create(&tb, "web", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK_INT(tb_do(&tb, DHP_VERB_START, "web", NULL, NULL, &err), 0);
	if (faults)
		CHECK_INT(dhp_sim_faults_configure(tb.backend, faults, &err), 0);
	memset(&seen, 0, sizeof(seen));
	since = dhp_store_last_event(tb.store);
	disk = (struct disk){ .commits_left = k, .quota = quota };
	before = tb_snapshot(&tb);

	r = submit(DHP_VERB_ADD, "web", "s0-cpu1", &id, &err);
	if (r < 0) {
		CHECK_MSG(disk.tripped, "refused (%s) with a disk not full", err.message);
		hit = HIT_REQUEST;
		refused_request(before, &err, &id);
	} else {
		while (!disk.tripped && !dhp_core_idle(tb.core) && dhp_loop_pending(tb.loop))
			dhp_loop_run_once(tb.loop);
		if (disk.tripped)
			hit = waiting_operation(id);
	}
	free(before);
	if (hit != HIT_NONE)
		CHECK_MSG(seen.n_full == 1 && strstr(seen.why.message, "is full"),
			  "told full %u times (%s)", seen.n_full, seen.why.message);
	tb_settle(&tb);
	space_returns();	/* untouched: the next commits must not count down */
	CHECK_MSG(seen.n_back == (hit == HIT_NONE ? 0u : 1u), "told back %u times", seen.n_back);
	CHECK_INT(dhp_store_get_op(tb.store, tb.server, id, &op, &err), 0);
	CHECK_MSG(op.state == expect, "k=%d (%s): operation ended %s, expected %s", k,
		  hit_names[hit], dhp_op_state_name(op.state), dhp_op_state_name(expect));
	CHECK(was_ended(id));
	check_told_is_the_journal(since);
	invariants();
	/* Going on: the next request is taken and runs. */
	CHECK_INT(tb_do(&tb, DHP_VERB_POWER_ON, NULL, "s1-cpu0", &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	invariants();
	tb_destroy(&tb);
	return hit;
}

/* Every k until the failure lands nowhere: each kind of write is met. */
static void sweep(const char *faults, enum dhp_op_state expect)
{
	unsigned hits[HIT_MAX] = { 0 };
	enum hit hit = HIT_REQUEST;

	for (int k = 0; k < 64 && hit != HIT_NONE && !test_state.failures; k++) {
		hit = one_round(k, faults, false, expect);
		hits[hit]++;
	}
	CHECK_MSG(hits[HIT_NONE] == 1, "the sweep did not reach an untouched operation");
	CHECK_MSG(hits[HIT_REQUEST] == 1, "the request's journal was hit %u times", hits[HIT_REQUEST]);
	CHECK_MSG(hits[HIT_PHASE] >= 3, "phase records were hit %u times", hits[HIT_PHASE]);
	CHECK_MSG(hits[HIT_OUTCOME] == 1, "the outcome was hit %u times", hits[HIT_OUTCOME]);
	printf("# %s: request %u, phases %u, outcome %u\n", faults ? faults : "no fault",
	       hits[HIT_REQUEST], hits[HIT_PHASE], hits[HIT_OUTCOME]);
}

static void test_hot_add(void)
{
	sweep(NULL, DHP_OP_COMPLETED);
}

/* The same while the operation rolls back: undo records wait too. */
static void test_hot_add_rolled_back(void)
{
	sweep("online=fail*1", DHP_OP_ROLLED_BACK);
}

/* A quota (EDQUOT) is a full disk too, not an I/O error. */
static void test_quota(void)
{
	CHECK_INT(one_round(0, NULL, true, DHP_OP_COMPLETED), HIT_REQUEST);
	CHECK_INT(one_round(2, NULL, true, DHP_OP_COMPLETED), HIT_PHASE);
}

/* A create refused for a full disk leaves no partition behind. */
static void test_create_refused(void)
{
	struct dhp_error err = { 0 };
	const char *ids[2] = { "s1-cpu0", "s1-mem0" };
	struct dhp_request req = { .verb = DHP_VERB_CREATE, .partition = "db",
				   .profile = "linux", .units = ids, .n_units = 2 };
	int r;

	tb.virtual_time = true;
	r = tb_open(&tb, DEMO, &err);
	CHECK_MSG(r == 0, "tb_open: %s", err.message);
	if (r)
		return;
	disk = (struct disk){ .commits_left = 0 };
	CHECK_INT(dhp_core_submit(tb.core, &req, NULL, &err), -EDQUOT);
	check_full_message(&err);
	CHECK(dhp_server_partition_by_name(tb.server, "db") == NULL);
	invariants();
	space_returns();
	dhp_error_clear(&err);
	CHECK_INT(tb_create(&tb, "db", "linux", "s1-cpu0 s1-mem0", &err), 0);
	invariants();
	tb_destroy(&tb);
}

/* A store SQLite can open only for reading is refused at open, not at
 * its first write. */
static void test_store_read_only(void)
{
	struct dhp_error err = { 0 };
	struct dhp_store *store = NULL;
	char path[320];
	int r;

	tb.virtual_time = true;
	tb.hook_event = NULL;
	tb.hook_op_end = NULL;
	tb.hook_storage = NULL;
	r = tb_open(&tb, DEMO, &err);
	CHECK_MSG(r == 0, "tb_open: %s", err.message);
	if (r)
		return;
	tb_close(&tb);
	snprintf(path, sizeof(path), "%s/state.db", tb.dir);
	read_only = true;
	r = dhp_store_open(path, &store, &err);
	read_only = false;
	CHECK_INT(r, -EROFS);
	CHECK_MSG(strstr(err.message, path) && strstr(err.message, "for writing"),
		  "\"%s\" does not say which store cannot be written", err.message);
	dhp_store_close(r ? NULL : store);
	tb_destroy(&tb);
}

int main(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	full_vfs = *real_vfs;
	full_vfs.zName = "dhp-full-disk";
	full_vfs.xOpen = full_open;
	if (sqlite3_vfs_register(&full_vfs, 1) != SQLITE_OK)
		return 1;
	RUN(test_store_read_only);
	RUN(test_create_refused);
	RUN(test_quota);
	RUN(test_hot_add);
	RUN(test_hot_add_rolled_back);
	sqlite3_vfs_unregister(&full_vfs);
	return test_done();
}
