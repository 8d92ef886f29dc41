/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store: round trips, the durability rule, migrations and the
 * refusals. Every case works on real files in a fresh temporary directory.
 */
#include "harness.h"
#include "rawdb.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"

static char tmpdir[PATH_MAX];

/* The cases run inside the directory: file names are paths. */
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

static void add_unit(struct dhp_server *s, enum dhp_unit_type type, unsigned socket,
		     unsigned index)
{
	static const char *const kind[] = { "cpu", "mem", "iohb" };
	struct dhp_unit tmpl = {
		.type = type, .socket = (uint16_t)socket, .index = (uint16_t)index,
		.model = type == DHP_UNIT_MEMORY ? "ddr4" : "x1",
		.size_bytes = type == DHP_UNIT_MEMORY ? 128u << 20 : 0,
		.host_cpu = -1,
	};

	snprintf(tmpl.id, sizeof(tmpl.id), "s%u-%s%u", socket, kind[type], index);
	CHECK_INT(dhp_server_add_unit(s, &tmpl, NULL), 0);
}

/* sockets x (cpus processors, mems memory modules, one I/O host bridge). */
static struct dhp_server *server_make(const char *name, unsigned sockets, unsigned cpus,
				      unsigned mems)
{
	struct dhp_server *s = dhp_server_new(name, DHP_MODE_DYNAMIC);

	for (unsigned so = 0; so < sockets; so++) {
		for (unsigned i = 0; i < cpus; i++)
			add_unit(s, DHP_UNIT_PROCESSOR, so, i);
		for (unsigned i = 0; i < mems; i++)
			add_unit(s, DHP_UNIT_MEMORY, so, i);
		add_unit(s, DHP_UNIT_IO_HOST_BRIDGE, so, 0);
	}
	return s;
}

static struct dhp_server *small_server(void)
{
	return server_make("test-server", 2, 2, 2);
}

/* Open and load; *ret_server is a fresh small server. */
static struct dhp_store *open_loaded(const char *name, struct dhp_server **ret_server,
				     struct dhp_store_counters *ret_counters)
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
	if (ret_counters)
		*ret_counters = counters;
	return store;
}

static void close_all(struct dhp_store *store, struct dhp_server *server)
{
	dhp_store_close(store);
	dhp_server_free(server);
}

static struct dhp_op op_make(uint64_t id, enum dhp_op_state state)
{
	struct dhp_op op = {
		.id = id, .kind = DHP_OP_HOT_ADD, .state = state, .partition = 1,
		.spare = -1, .created_ms = 1000 + id,
	};

	snprintf(op.partition_name, sizeof(op.partition_name), "web");
	return op;
}

static struct dhp_event event_make(const char *text)
{
	struct dhp_event ev = { .time_ms = 42, .kind = DHP_EVENT_OP_PHASE, .op = 7, .partition = 1 };

	snprintf(ev.unit, sizeof(ev.unit), "s0-cpu1");
	snprintf(ev.text, sizeof(ev.text), "%s", text);
	return ev;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define WEB_UUID "6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5f"

static void test_round_trip(void)
{
	struct dhp_store_counters counters = { 0 };
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_partition *p;
	struct dhp_store *store;
	struct dhp_event ev;
	struct dhp_op op, got;
	struct dhp_unit *u;

	store = open_loaded("round.db", &server, &counters);
	CHECK_INT(counters.next_partition_id, 1);
	CHECK_INT(counters.next_op_id, 1);

	p = dhp_server_add_partition(server, 1, "web", dhp_profile_find("windows-server-2008-x64"));
	p->state = DHP_PARTITION_RUNNING;
	/* No UUID: refused, and the transaction with it. */
	CHECK_INT(dhp_store_put_partition(store, p, &err), -EINVAL);
	CHECK(strstr(err.message, "UUID") != NULL);
	dhp_store_rollback(store);
	dhp_error_clear(&err);
	snprintf(p->uuid, sizeof(p->uuid), "%s", WEB_UUID);
	CHECK_INT(dhp_store_put_partition(store, p, &err), 0);
	u = dhp_server_unit(server, "s1-mem1");
	u->powered = true;
	u->health = DHP_HEALTH_DEGRADED;
	u->partition = 1;
	u->boot = true;
	CHECK_INT(dhp_store_put_unit(store, u, &err), 0);
	u = dhp_server_unit(server, "s0-cpu0");
	u->staged_partition = 1;
	u->staged_remove = true;
	CHECK_INT(dhp_store_put_unit(store, u, &err), 0);
	counters = (struct dhp_store_counters){ .next_partition_id = 2, .next_op_id = 5 };
	CHECK_INT(dhp_store_put_counters(store, &counters, &err), 0);

	op = op_make(4, DHP_OP_FAILED);
	op.kind = DHP_OP_HOT_REPLACE;
	op.profile = dhp_profile_find("linux");
	op.units[0] = 3;
	op.units[1] = 9;
	op.n_units = 2;
	op.spare = 7;
	op.staged = true;
	op.phase = 3;
	op.rolling_back = true;
	op.ended_ms = 99;
	dhp_error_set(&op.error, -EIO, "attach failed");
	dhp_error_resolve(&op.error, "replace the board");
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	ev = event_make("phase attach: done");
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(ev.seq, 1);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_MSG(!err.code, "%s", err.message);
	close_all(store, server);

	store = open_loaded("round.db", &server, &counters);
	CHECK_INT(counters.next_partition_id, 2);
	CHECK_INT(counters.next_op_id, 5);
	CHECK_INT(server->n_partitions, 1);
	p = dhp_server_partition(server, 1);
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->name, "web");
		CHECK_STR(p->uuid, WEB_UUID);
		CHECK_STR(p->profile->name, "windows-server-2008-x64");
		CHECK_INT(p->state, DHP_PARTITION_RUNNING);
		/* A later put (a state change) keeps the UUID the row has. */
		snprintf(p->uuid, sizeof(p->uuid), "%s", "00000000-0000-4000-8000-000000000000");
		p->state = DHP_PARTITION_STOPPED;
		CHECK_INT(dhp_store_put_partition(store, p, &err), 0);
		CHECK_INT(dhp_store_commit(store, false, &err), 0);
	}
	u = dhp_server_unit(server, "s1-mem1");
	CHECK(u->powered && u->boot && u->partition == 1 && u->health == DHP_HEALTH_DEGRADED);
	u = dhp_server_unit(server, "s0-cpu0");
	CHECK(!u->powered && u->staged_partition == 1 && u->staged_remove && !u->partition);
	u = dhp_server_unit(server, "s0-cpu1");
	CHECK(!u->powered && u->health == DHP_HEALTH_OK && !u->partition);

	CHECK_INT(dhp_store_get_op(store, server, 4, &got, &err), 0);
	CHECK_INT(got.id, 4);
	CHECK_INT(got.kind, DHP_OP_HOT_REPLACE);
	CHECK_INT(got.state, DHP_OP_FAILED);
	CHECK_INT(got.partition, 1);
	CHECK_STR(got.partition_name, "web");
	CHECK(got.profile == dhp_profile_find("linux"));
	CHECK_INT(got.n_units, 2);
	CHECK(got.units[0] == 3 && got.units[1] == 9);
	CHECK_INT(got.spare, 7);
	CHECK(got.staged && got.rolling_back);
	CHECK_INT(got.phase, 3);
	CHECK_INT(got.error.code, -EIO);
	CHECK_STR(got.error.message, "attach failed");
	CHECK_STR(got.error.resolution, "replace the board");
	CHECK_INT(got.created_ms, 1004);
	CHECK_INT(got.ended_ms, 99);
	CHECK_INT(dhp_store_get_op(store, server, 5, &got, &err), -ENOENT);
	dhp_error_clear(&err);

	/* An op with no profile, no units and no spare comes back so. */
	op = op_make(5, DHP_OP_QUEUED);
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_get_op(store, server, 5, &got, &err), 0);
	CHECK(!got.profile && !got.n_units && got.spare == -1 && !got.error.code);

	CHECK_INT(dhp_store_last_event(store), 1);
	close_all(store, server);
	/* The stored values are the names, readable with the sqlite3 shell. */
	CHECK_INT(raw_int("round.db",
			  "SELECT count(*) FROM units WHERE id = 's1-mem1' AND health = 'degraded'"), 1);
	CHECK_INT(raw_int("round.db",
			  "SELECT count(*) FROM operations WHERE kind = 'hot-replace'"
			  " AND state = 'failed' AND units = 's0-mem1,s1-iohb0' AND spare = 's1-mem0'"), 1);
}

static void test_uncommitted_lost(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev = event_make("lost");
	struct dhp_op op = op_make(1, DHP_OP_QUEUED);

	store = open_loaded("lost.db", &server, NULL);
	dhp_server_unit(server, "s0-mem0")->powered = true;
	CHECK_INT(dhp_store_put_unit(store, dhp_server_unit(server, "s0-mem0"), &err), 0);
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	close_all(store, server);

	store = open_loaded("lost.db", &server, NULL);
	CHECK(!dhp_server_unit(server, "s0-mem0")->powered);
	CHECK_INT(dhp_store_get_op(store, server, 1, &op, &err), -ENOENT);
	CHECK_INT(dhp_store_last_event(store), 0);
	close_all(store, server);
}

static void test_committed_survives(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev = event_make("kept");

	store = open_loaded("kept.db", &server, NULL);
	dhp_server_unit(server, "s1-iohb0")->powered = true;
	CHECK_INT(dhp_store_put_unit(store, dhp_server_unit(server, "s1-iohb0"), &err), 0);
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	/* A write after the commit, never committed: only it is lost. */
	dhp_server_unit(server, "s1-cpu1")->powered = true;
	CHECK_INT(dhp_store_put_unit(store, dhp_server_unit(server, "s1-cpu1"), &err), 0);
	close_all(store, server);

	store = open_loaded("kept.db", &server, NULL);
	CHECK(dhp_server_unit(server, "s1-iohb0")->powered);
	CHECK(!dhp_server_unit(server, "s1-cpu1")->powered);
	CHECK_INT(dhp_store_last_event(store), 1);
	close_all(store, server);
}

/*
 * A VFS that counts fsyncs, so that the durability rule is tested and not
 * only read: the default VFS, with xSync counted for the WAL and for every
 * other file. The default VFS gives different files different method
 * tables: each gets its counting copies.
 */
struct count_methods {
	const sqlite3_io_methods *real;
	sqlite3_io_methods wal, other;
};

static sqlite3_vfs count_vfs, *real_vfs;
static struct count_methods count_methods[8];
static unsigned wal_syncs, other_syncs;

static int count_sync(sqlite3_file *file, int flags)
{
	for (size_t i = 0; i < 8 && count_methods[i].real; i++) {
		struct count_methods *m = &count_methods[i];

		if (file->pMethods == &m->wal || file->pMethods == &m->other) {
			++*(file->pMethods == &m->wal ? &wal_syncs : &other_syncs);
			return m->real->xSync(file, flags);
		}
	}
	return SQLITE_IOERR_FSYNC;
}

static int count_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		      int *ret_flags)
{
	int rc = real_vfs->xOpen(real_vfs, name, file, flags, ret_flags);
	struct count_methods *m = count_methods;

	(void)vfs;
	if (rc != SQLITE_OK || !file->pMethods)
		return rc;
	while (m->real && m->real != file->pMethods && m < &count_methods[7])
		m++;
	if (!m->real) {
		m->real = file->pMethods;
		m->wal = m->other = *m->real;
		m->wal.xSync = m->other.xSync = count_sync;
	}
	if (m->real == file->pMethods)
		file->pMethods = flags & SQLITE_OPEN_WAL ? &m->wal : &m->other;
	return rc;
}

static void test_durable_commit_syncs(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev = event_make("x");

	real_vfs = sqlite3_vfs_find(NULL);
	count_vfs = *real_vfs;
	count_vfs.zName = "dhp-count-syncs";
	count_vfs.xOpen = count_open;
	CHECK_INT(sqlite3_vfs_register(&count_vfs, 1), SQLITE_OK);

	store = open_loaded("sync.db", &server, NULL);
	/* The first frames of a new WAL sync its header: warm up. */
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	wal_syncs = other_syncs = 0;

	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	CHECK_INT(wal_syncs, 0);
	/* Nothing pending, but the plain commit before is not yet synced. */
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(wal_syncs, 1);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(wal_syncs, 1);
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	CHECK_INT(wal_syncs, 2);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	CHECK_INT(wal_syncs, 2);
	CHECK_INT(other_syncs, 0);
	CHECK_MSG(!err.code, "%s", err.message);
	close_all(store, server);

	sqlite3_vfs_unregister(&count_vfs);
	sqlite3_vfs_register(real_vfs, 1);
}

static void test_event_seq(void)
{
	const char *path = "seq.db";
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev;
	uint64_t last = 0;

	store = open_loaded("seq.db", &server, NULL);
	for (int i = 0; i < 5; i++) {
		ev = event_make("e");
		CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
		CHECK(ev.seq > last);
		last = ev.seq;
	}
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	close_all(store, server);

	/* Pruning the newest events does not free their numbers. */
	raw_exec(path, "DELETE FROM events WHERE seq >= 4");
	store = open_loaded("seq.db", &server, NULL);
	CHECK_INT(dhp_store_last_event(store), 5);
	ev = event_make("after prune");
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(ev.seq, 6);
	CHECK_INT(dhp_store_last_event(store), 6);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	close_all(store, server);
}

/* A store of schema version 1 is migrated: its data stays, the index of
 * version 2 appears (and version 3's column, version 4's table). */
static void test_migration_1_to_2(void)
{
	const char *path = "v1.db";
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev = event_make("kept"), *got = NULL;
	size_t n = 0;

	store = open_loaded(path, &server, NULL);
	CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	close_all(store, server);
	raw_exec(path, "ALTER TABLE units DROP COLUMN spare; ALTER TABLE operations DROP COLUMN n_add;"
		 "ALTER TABLE operations DROP COLUMN target;"
		 "DROP INDEX events_op; ALTER TABLE partitions DROP COLUMN uuid;"
		 "DROP TABLE event_destinations; PRAGMA user_version = 1");
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events_op'"), 0);

	store = open_loaded(path, &server, NULL);
	CHECK_INT(raw_int(path, "PRAGMA user_version"), 5);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events_op'"), 1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_master "
			  "WHERE name = 'event_destinations'"), 1);
	CHECK_INT(dhp_store_op_events(store, 7, 0, 10, &got, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n)
		CHECK_STR(got[0].text, "kept");
	free(got);
	close_all(store, server);
}

static void put_named(struct dhp_store *store, struct dhp_server *server, uint32_t id,
		      const char *name)
{
	struct dhp_error err = { 0 };
	struct dhp_partition *p = dhp_server_add_partition(server, id, name,
							   dhp_profile_find("linux"));

	CHECK_INT(dhp_uuid_random(p->uuid), 0);
	CHECK_INT(dhp_store_put_partition(store, p, &err), 0);
}

static bool uuid_v4(const char *u)
{
	return dhp_uuid_valid(u) && u[14] == '4' && strchr("89ab", u[19]);
}

/* A store of version 2 has partitions without UUIDs: the migration gives
 * each its own, random, version 4, and they stay at the next opens. */
static void test_migration_2_to_3(void)
{
	const char *path = "v2.db";
	char kept[2][DHP_UUID_LEN] = { "", "" };
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;

	store = open_loaded(path, &server, NULL);
	put_named(store, server, 1, "web");
	put_named(store, server, 2, "db");
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	close_all(store, server);
	raw_exec(path, "ALTER TABLE units DROP COLUMN spare; ALTER TABLE operations DROP COLUMN n_add;"
		 "ALTER TABLE operations DROP COLUMN target;"
		 "ALTER TABLE partitions DROP COLUMN uuid; DROP TABLE event_destinations;"
		 "PRAGMA user_version = 2");

	store = open_loaded(path, &server, NULL);
	CHECK_INT(raw_int(path, "PRAGMA user_version"), 5);
	CHECK_INT(server->n_partitions, 2);
	for (size_t i = 0; i < server->n_partitions && i < 2; i++) {
		CHECK_MSG(uuid_v4(server->partitions[i]->uuid), "\"%s\"",
			  server->partitions[i]->uuid);
		memcpy(kept[i], server->partitions[i]->uuid, DHP_UUID_LEN);
	}
	CHECK(strcmp(kept[0], kept[1]) != 0);
	close_all(store, server);

	store = open_loaded(path, &server, NULL);
	CHECK_INT(server->n_partitions, 2);
	for (size_t i = 0; i < server->n_partitions && i < 2; i++)
		CHECK_STR(server->partitions[i]->uuid, kept[i]);
	close_all(store, server);

	/* A UUID that is not one (written by hand) is refused, named. */
	raw_exec(path, "UPDATE partitions SET uuid = 'not-a-uuid' WHERE id = 2");
	struct dhp_store_counters counters;

	server = small_server();
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	CHECK_INT(dhp_store_load(store, server, &counters, &err), -EINVAL);
	CHECK_MSG(strstr(err.message, "\"db\"") && strstr(err.message, "not-a-uuid"), "%s",
		  err.message);
	close_all(store, server);
}

/*
 * A store of version 4 (before the spare pool and the plans) opens: its
 * units are no spares, its operations plain ones (no adds, no target);
 * then both round-trip.
 */
static void test_migration_4_to_5(void)
{
	const char *path = "v4.db";
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_op op = op_make(3, DHP_OP_COMPLETED), got;

	store = open_loaded(path, &server, NULL);
	op.units[0] = 1;
	op.n_units = 1;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_put_unit(store, &server->units[1], &err), 0);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	close_all(store, server);
	raw_exec(path, "ALTER TABLE units DROP COLUMN spare; ALTER TABLE operations DROP COLUMN n_add;"
		 "ALTER TABLE operations DROP COLUMN target; PRAGMA user_version = 4");

	store = open_loaded(path, &server, NULL);
	CHECK_INT(raw_int(path, "PRAGMA user_version"), 5);
	CHECK(!server->units[1].spare);
	CHECK_INT(dhp_store_get_op(store, server, 3, &got, &err), 0);
	CHECK_INT(got.n_units, 1);
	CHECK_INT(got.n_add, 0);
	CHECK_INT(got.target, 0);

	/* The new columns keep what they are given. */
	server->units[1].spare = true;
	CHECK_INT(dhp_store_put_unit(store, &server->units[1], &err), 0);
	op = op_make(4, DHP_OP_RUNNING);
	op.kind = DHP_OP_HOT_MOVE;
	op.units[0] = 0, op.units[1] = 1, op.units[2] = 3;
	op.n_units = 3;
	op.n_add = 2;
	op.target = 9;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	/* More adds than units is refused, not written. */
	op.id = 5, op.n_add = 4;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), -EINVAL);
	dhp_store_rollback(store);
	close_all(store, server);

	store = open_loaded(path, &server, NULL);
	CHECK(server->units[1].spare);
	CHECK(!server->units[0].spare);
	CHECK_INT(dhp_store_get_op(store, server, 4, &got, &err), 0);
	CHECK_INT(got.kind, DHP_OP_HOT_MOVE);
	CHECK_INT(got.n_units, 3);
	CHECK_INT(got.n_add, 2);
	CHECK_INT(got.target, 9);
	CHECK_INT(got.units[2], 3);
	close_all(store, server);
}

/* Random UUIDs are version 4, of the RFC variant, and differ. */
static void test_uuid_random(void)
{
	char a[DHP_UUID_LEN], b[DHP_UUID_LEN];

	CHECK_INT(dhp_uuid_random(a), 0);
	CHECK_INT(dhp_uuid_random(b), 0);
	CHECK_MSG(uuid_v4(a) && uuid_v4(b), "%s %s", a, b);
	CHECK(strcmp(a, b) != 0);
	CHECK(!dhp_uuid_valid("6F1C2A4E-93D5-4B7A-8C1E-2F0A9B3D4E5F"));
	CHECK(!dhp_uuid_valid("6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5"));
	CHECK(!dhp_uuid_valid("6f1c2a4e_93d5-4b7a-8c1e-2f0a9b3d4e5f"));
	CHECK(!dhp_uuid_valid(""));
}

/* The events of one operation, in order, paged. */
static void test_op_events(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event ev, *got = NULL;
	size_t n = 0;

	store = open_loaded("opev.db", &server, NULL);
	for (int i = 0; i < 9; i++) {
		ev = event_make(i % 3 ? "other" : "mine");
		ev.op = i % 3 ? 8 : 7;
		CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	}
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	CHECK_INT(dhp_store_op_events(store, 7, 0, 2, &got, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK(got[0].seq < got[1].seq && got[0].op == 7 && got[1].op == 7);
		ev.seq = got[1].seq;
	}
	free(got);
	CHECK_INT(dhp_store_op_events(store, 7, ev.seq, 10, &got, &n, &err), 0);
	CHECK_INT(n, 1);
	free(got);
	CHECK_INT(dhp_store_op_events(store, 99, 0, 10, &got, &n, &err), 0);
	CHECK_INT(n, 0);
	free(got);
	close_all(store, server);
}

static void test_digest_mismatch(void)
{
	struct dhp_store_counters counters;
	struct dhp_error err = { 0 };
	struct dhp_server *server, *other;
	struct dhp_store *store;

	store = open_loaded("digest.db", &server, NULL);
	close_all(store, server);

	other = server_make("other-server", 2, 2, 2);
	CHECK_INT(dhp_store_open("digest.db", &store, &err), 0);
	CHECK_INT(dhp_store_load(store, other, &counters, &err), -ESTALE);
	CHECK(strstr(err.message, "\"test-server\"") && strstr(err.message, "\"other-server\""));
	CHECK(strstr(err.message, "another topology"));
	close_all(store, other);

	/* Same name, one unit more: still another topology. */
	dhp_error_clear(&err);
	other = server_make("test-server", 2, 2, 3);
	CHECK_INT(dhp_store_open("digest.db", &store, &err), 0);
	CHECK_INT(dhp_store_load(store, other, &counters, &err), -ESTALE);
	close_all(store, other);
}

static void test_newer_version(void)
{
	const char *path = "newer.db";
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store = NULL;

	store = open_loaded("newer.db", &server, NULL);
	close_all(store, server);
	CHECK_INT(raw_int(path, "PRAGMA user_version"), 5);
	raw_exec(path, "PRAGMA user_version = 99");
	store = NULL;
	CHECK_INT(dhp_store_open(path, &store, &err), -EPROTONOSUPPORT);
	CHECK(store == NULL);
	CHECK(strstr(err.message, "99") && strstr(err.message, "newer dhp"));
}

static void test_unfinished_ops(void)
{
	static const enum dhp_op_state states[] = {
		[1] = DHP_OP_COMPLETED, [2] = DHP_OP_RUNNING, [3] = DHP_OP_QUEUED,
		[4] = DHP_OP_ROLLED_BACK, [5] = DHP_OP_RUNNING, [6] = DHP_OP_FAILED,
	};
	static const uint64_t order[] = { 5, 3, 1, 6, 2, 4 };
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_op *ops = (void *)1, op;
	size_t n = 99;

	store = open_loaded("unfinished.db", &server, NULL);
	CHECK_INT(dhp_store_unfinished_ops(store, server, &ops, &n, &err), 0);
	CHECK(ops == NULL && n == 0);
	for (size_t i = 0; i < 6; i++) {
		op = op_make(order[i], states[order[i]]);
		CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	}
	/* An update moves an op out of the unfinished set. */
	op = op_make(3, DHP_OP_RUNNING);
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	close_all(store, server);

	store = open_loaded("unfinished.db", &server, NULL);
	CHECK_INT(dhp_store_unfinished_ops(store, server, &ops, &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK(ops[0].id == 2 && ops[1].id == 3 && ops[2].id == 5);
		CHECK(ops[0].state == DHP_OP_RUNNING && ops[1].state == DHP_OP_RUNNING);
	}
	free(ops);
	close_all(store, server);
}

static void test_list_ops_paging(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_op *ops, op;
	uint64_t after = 0, expect = 1;
	size_t n;
	int pages = 0;

	store = open_loaded("list.db", &server, NULL);
	for (uint64_t id = 1; id <= 10; id++) {
		op = op_make(id, DHP_OP_COMPLETED);
		op.units[0] = (uint32_t)id - 1;
		op.n_units = 1;
		CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	}
	for (;;) {
		CHECK_INT(dhp_store_list_ops(store, server, after, 4, &ops, &n, &err), 0);
		if (!n) {
			CHECK(ops == NULL);
			break;
		}
		CHECK(n <= 4);
		for (size_t i = 0; i < n; i++) {
			CHECK_INT(ops[i].id, expect);
			CHECK_INT(ops[i].units[0], expect - 1);
			expect++;
		}
		after = ops[n - 1].id;
		free(ops);
		pages++;
	}
	CHECK_INT(pages, 3);
	CHECK_INT(expect, 11);
	CHECK_INT(dhp_store_list_ops(store, server, 0, 0, &ops, &n, &err), 0);
	CHECK_INT(n, 0);
	close_all(store, server);
}

static void test_events_paging(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_event *evs, ev;
	uint64_t after = 0, expect = 1;
	size_t n;
	char text[32];

	store = open_loaded("events.db", &server, NULL);
	for (int i = 1; i <= 25; i++) {
		snprintf(text, sizeof(text), "event %d", i);
		ev = event_make(text);
		ev.kind = (enum dhp_event_kind)(i % DHP_EVENT_KIND_MAX);
		CHECK_INT(dhp_store_append_event(store, &ev, &err), 0);
	}
	CHECK_INT(dhp_store_commit(store, false, &err), 0);
	do {
		CHECK_INT(dhp_store_events(store, after, 10, &evs, &n, &err), 0);
		for (size_t i = 0; i < n; i++, expect++) {
			snprintf(text, sizeof(text), "event %d", (int)expect);
			CHECK_INT(evs[i].seq, expect);
			CHECK_STR(evs[i].text, text);
			CHECK_STR(evs[i].unit, "s0-cpu1");
			CHECK_INT(evs[i].kind, expect % DHP_EVENT_KIND_MAX);
			CHECK(evs[i].time_ms == 42 && evs[i].op == 7 && evs[i].partition == 1);
		}
		if (n)
			after = evs[n - 1].seq;
		free(evs);
	} while (n == 10);
	CHECK_INT(expect, 26);
	close_all(store, server);
}

static void test_integrity_ok(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;

	store = open_loaded("integrity.db", &server, NULL);
	CHECK_INT(dhp_store_integrity_check(store, &err), 0);
	close_all(store, server);
}

static void write_file(const char *path, const void *data, size_t len, off_t offset)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	CHECK(fd >= 0);
	CHECK_INT(pwrite(fd, data, len, offset), (long long)len);
	close(fd);
}

static void test_garbage_file(void)
{
	const char *path = "garbage.db";
	struct dhp_error err = { 0 };
	struct dhp_store *store = NULL;
	char junk[8192];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(path, junk, sizeof(junk), 0);
	CHECK_INT(dhp_store_open(path, &store, &err), -EIO);
	CHECK(store == NULL);
	CHECK_MSG(strstr(err.message, "not a database"), "%s", err.message);
	CHECK(strstr(err.resolution, "garbage.db") && strstr(err.message, "garbage.db"));

	/* Someone else's SQLite database. */
	dhp_error_clear(&err);
	raw_exec("foreign.db", "CREATE TABLE foo (x)");
	CHECK_INT(dhp_store_open("foreign.db", &store, &err), -EINVAL);
	CHECK(strstr(err.message, "not a dhp store"));
}

/* A real store with pages overwritten: an error somewhere, never a crash. */
static void test_corrupted_store(void)
{
	const char *path = "corrupt.db";
	struct dhp_store_counters counters;
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store = NULL;
	char junk[4096];
	int r;

	server = server_make("big", 4, 64, 64);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	CHECK_INT(dhp_store_load(store, server, &counters, &err), 0);
	close_all(store, server);
	memset(junk, 0x5a, sizeof(junk));
	write_file(path, junk, sizeof(junk), 3 * 4096);
	write_file(path, junk, sizeof(junk), 5 * 4096);

	server = server_make("big", 4, 64, 64);
	r = dhp_store_open(path, &store, &err);
	if (!r) {
		r = dhp_store_integrity_check(store, &err);
		CHECK_INT(r, -EIO);
		CHECK(strstr(err.message, "damaged"));
		dhp_error_clear(&err);
		r = dhp_store_load(store, server, &counters, &err);
		CHECK(r != 0);
		dhp_store_close(store);
	}
	CHECK(r != 0 && err.code == r && err.message[0]);
	dhp_server_free(server);
}

static void test_two_writers(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server, *server2;
	struct dhp_store *store, *store2 = NULL;
	struct dhp_unit *u;

	store = open_loaded("two.db", &server, NULL);
	u = dhp_server_unit(server, "s0-cpu0");
	u->powered = true;
	CHECK_INT(dhp_store_put_unit(store, u, &err), 0);

	/* The second opens and reads, but cannot write while the first
	 * holds a transaction. */
	server2 = small_server();
	CHECK_INT(dhp_store_open("two.db", &store2, &err), 0);
	CHECK_INT(dhp_store_put_unit(store2, &server2->units[1], &err), -EBUSY);
	CHECK(strstr(err.message, "in use by another dhp process"));
	CHECK(!dhp_store_last_event(store2));

	/* Once the first commits, the lock is free again (see docs/store.md);
	 * the second's failed write still spoils its own transaction, which
	 * it commits (refused: rolled back) or rolls back before it goes on. */
	CHECK_INT(dhp_store_commit(store, false, NULL), 0);
	CHECK_INT(dhp_store_put_unit(store2, &server2->units[1], NULL), -EBUSY);
	CHECK_INT(dhp_store_commit(store2, false, NULL), -EBUSY);
	CHECK_INT(dhp_store_put_unit(store2, &server2->units[1], NULL), 0);
	CHECK_INT(dhp_store_put_unit(store, u, NULL), -EBUSY);
	close_all(store2, server2);
	close_all(store, server);
}

/* A process killed after a plain commit loses nothing it committed. */
static void test_crash_durability(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct dhp_event ev = event_make("before the crash");

		store = open_loaded("crash.db", &server, NULL);
		dhp_server_unit(server, "s1-mem0")->powered = true;
		dhp_store_put_unit(store, dhp_server_unit(server, "s1-mem0"), NULL);
		dhp_store_append_event(store, &ev, NULL);
		if (dhp_store_commit(store, false, NULL))
			_exit(1);
		/* Written but not committed: must not survive. */
		dhp_server_unit(server, "s1-mem1")->powered = true;
		dhp_store_put_unit(store, dhp_server_unit(server, "s1-mem1"), NULL);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	CHECK(access("crash.db-wal", F_OK) == 0);
	store = open_loaded("crash.db", &server, NULL);
	CHECK(dhp_server_unit(server, "s1-mem0")->powered);
	CHECK(!dhp_server_unit(server, "s1-mem1")->powered);
	CHECK_INT(dhp_store_last_event(store), 1);
	CHECK_INT(dhp_store_integrity_check(store, &err), 0);
	close_all(store, server);
}

/* What the store holds that the topology does not know is refused. */
static void test_unknown_names(void)
{
	const char *path = "unknown.db";
	struct dhp_store_counters counters;
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_op op = op_make(1, DHP_OP_QUEUED);

	store = open_loaded("unknown.db", &server, NULL);
	op.n_units = 1;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	op.units[0] = (uint32_t)server->n_units;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), -EINVAL);
	/* A transaction with a failed write is refused whole. */
	CHECK_INT(dhp_store_commit(store, false, NULL), -EINVAL);
	op.units[0] = 0;
	CHECK_INT(dhp_store_put_op(store, server, &op, &err), 0);
	CHECK_INT(dhp_store_commit(store, false, NULL), 0);
	close_all(store, server);

	raw_exec(path, "UPDATE operations SET units = 's0-cpu0,s9-cpu9'");
	store = open_loaded("unknown.db", &server, NULL);
	dhp_error_clear(&err);
	CHECK_INT(dhp_store_get_op(store, server, 1, &op, &err), -ESTALE);
	CHECK(strstr(err.message, "s9-cpu9"));
	close_all(store, server);

	raw_exec(path, "INSERT INTO partitions VALUES (1, 'db', 'os2-warp', 'stopped',"
		 " '6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5f')");
	server = small_server();
	dhp_error_clear(&err);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	CHECK_INT(dhp_store_load(store, server, &counters, &err), -EINVAL);
	CHECK(strstr(err.message, "os2-warp"));
	close_all(store, server);

	raw_exec(path, "INSERT INTO units (id, powered, health) VALUES ('s7-cpu0', 0, 'ok')");
	server = small_server();
	dhp_error_clear(&err);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	CHECK_INT(dhp_store_load(store, server, &counters, &err), -ESTALE);
	CHECK(strstr(err.message, "s7-cpu0"));
	close_all(store, server);
}

/* The largest server: 32 sockets of 256 processors, 128 memory modules and
 * an I/O host bridge (12,544 units) with 256 partitions. */
static void test_load_speed(void)
{
	const char *path = "big.db";
	struct dhp_store_counters counters;
	struct dhp_error err = { 0 };
	struct dhp_server *server;
	struct dhp_store *store;
	uint64_t t0, bind_ms, load_ms;
	char name[16];

	server = server_make("big", 32, 256, 135);
	CHECK_INT(server->n_units, 32 * (256 + 135 + 1));
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	t0 = now_ms();
	CHECK_INT(dhp_store_load(store, server, &counters, &err), 0);
	bind_ms = now_ms() - t0;
	for (uint32_t id = 1; id <= 256; id++) {
		struct dhp_partition *p;

		snprintf(name, sizeof(name), "p%u", id);
		p = dhp_server_add_partition(server, id, name, dhp_profile_find("linux"));
		CHECK_INT(dhp_uuid_random(p->uuid), 0);
		CHECK_INT(dhp_store_put_partition(store, p, &err), 0);
	}
	for (size_t i = 0; i < server->n_units; i++) {
		server->units[i].partition = (uint32_t)(i % 257);
		server->units[i].powered = server->units[i].partition != 0;
		CHECK_INT(dhp_store_put_unit(store, &server->units[i], &err), 0);
	}
	CHECK_INT(dhp_store_commit(store, true, &err), 0);
	close_all(store, server);

	server = server_make("big", 32, 256, 135);
	CHECK_INT(dhp_store_open(path, &store, &err), 0);
	t0 = now_ms();
	CHECK_INT(dhp_store_load(store, server, &counters, &err), 0);
	load_ms = now_ms() - t0;
	CHECK_INT(server->n_partitions, 256);
	CHECK_INT(server->units[12543].partition, 12543 % 257);
	CHECK_INT(dhp_server_count_units(server, 7, DHP_UNIT_TYPE_MAX), 49);
	CHECK_MSG(load_ms < 500, "load took %llu ms", (unsigned long long)load_ms);
	printf("# %zu units: bind %llu ms, load with 256 partitions %llu ms\n", server->n_units,
	       (unsigned long long)bind_ms, (unsigned long long)load_ms);
	close_all(store, server);
}

static void run_cases(void)
{
	RUN(test_round_trip);
	RUN(test_uncommitted_lost);
	RUN(test_committed_survives);
	RUN(test_durable_commit_syncs);
	RUN(test_event_seq);
	RUN(test_migration_1_to_2);
	RUN(test_migration_2_to_3);
	RUN(test_migration_4_to_5);
	RUN(test_uuid_random);
	RUN(test_op_events);
	RUN(test_digest_mismatch);
	RUN(test_newer_version);
	RUN(test_unfinished_ops);
	RUN(test_list_ops_paging);
	RUN(test_events_paging);
	RUN(test_integrity_ok);
	RUN(test_garbage_file);
	RUN(test_corrupted_store);
	RUN(test_two_writers);
	RUN(test_crash_durability);
	RUN(test_unknown_names);
	RUN(test_load_speed);
}

int main(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/dhp-t0200-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || chdir(tmpdir)) {
		perror(tmpdir);
		return 1;
	}
	run_cases();
	tmpdir_remove();
	return test_done();
}
