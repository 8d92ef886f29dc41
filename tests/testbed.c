/* SPDX-License-Identifier: MIT */
#include "testbed.h"

#include "model/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_event(void *ctx, const struct dhp_event *ev)
{
	struct testbed *tb = ctx;

	if (ev->seq <= tb->last_seq)
		tb->seq_broken = true;
	tb->last_seq = ev->seq;
	tb->n_events++;
	if (tb->hook_event)
		tb->hook_event(tb, ev);
}

static void on_op_end(void *ctx, const struct dhp_op *op)
{
	struct testbed *tb = ctx;

	if (tb->hook_op_end)
		tb->hook_op_end(tb, op);
}

static void on_storage(void *ctx, bool full, const struct dhp_error *why)
{
	struct testbed *tb = ctx;

	if (tb->hook_storage)
		tb->hook_storage(tb, full, why);
}

static void recovered(void *ctx, int rc, const struct dhp_error *err)
{
	struct testbed *tb = ctx;

	tb->recover_rc = rc;
	if (err)
		tb->recover_err = *err;
}

int tb_open_dir(struct testbed *tb, const char *topology, const char *dir,
		struct dhp_error *err)
{
	struct dhp_core_config cfg = { 0 };
	char path[320];
	int r;

	if (tb->dir != dir)
		snprintf(tb->dir, sizeof(tb->dir), "%s", dir);
	snprintf(tb->topology, sizeof(tb->topology), "%s", topology);
	tb->loop = dhp_loop_new(tb->virtual_time);
	if (!tb->loop)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	r = dhp_topology_load(topology, &tb->server, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state.db", tb->dir);
	r = dhp_store_open(path, &tb->store, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/sim-hw", tb->dir);
	r = dhp_sim_new(tb->server, tb->loop, path, &tb->backend, err);
	if (r < 0)
		return r;
	cfg.server = tb->server;
	cfg.store = tb->store;
	cfg.backend = tb->backend;
	cfg.loop = tb->loop;
	cfg.phase_deadline_ms = tb->deadline_ms;
	cfg.listener = (struct dhp_core_listener){ on_event, on_op_end, tb };
	cfg.storage_full = on_storage;
	cfg.storage_ctx = tb;
	r = dhp_core_new(&cfg, &tb->core, err);
	if (r < 0)
		return r;
	tb->recover_rc = 1;
	r = dhp_core_recover(tb->core, recovered, tb);
	if (r < 0)
		return dhp_error_set(err, r, "recovery could not begin");
	tb_settle(tb);
	if (tb->recover_rc) {
		if (err)
			*err = tb->recover_err;
		return tb->recover_rc < 0 ? tb->recover_rc : -EIO;
	}
	tb->view.n_units = tb->server->n_units;
	tb->view.units = calloc(tb->server->n_units, sizeof(*tb->view.units));
	return tb->view.units ? 0 : -ENOMEM;
}

void tb_open_virtual(struct testbed *tb, const char *topology)
{
	struct dhp_error err = { 0 };

	tb->virtual_time = true;
	if (tb_open(tb, topology, &err) < 0) {
		printf("not ok tb_open\n#   tb_open %s: %s\n", topology, err.message);
		exit(1);
	}
}

int tb_open(struct testbed *tb, const char *topology, struct dhp_error *err)
{
	const char *tmp = getenv("DHP_TEST_TMP");
	struct testbed keep = *tb;

	memset(tb, 0, sizeof(*tb));
	tb->virtual_time = keep.virtual_time;
	tb->deadline_ms = keep.deadline_ms;
	tb->hook_event = keep.hook_event;
	tb->hook_op_end = keep.hook_op_end;
	tb->hook_storage = keep.hook_storage;
	snprintf(tb->dir, sizeof(tb->dir), "%s/dhp-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tb->dir))
		return dhp_error_set(err, -errno, "mkdtemp %s failed", tb->dir);
	return tb_open_dir(tb, topology, tb->dir, err);
}

void tb_close(struct testbed *tb)
{
	dhp_core_free(tb->core);
	dhp_backend_free(tb->backend);
	dhp_store_close(tb->store);
	dhp_server_free(tb->server);
	dhp_loop_free(tb->loop);
	free(tb->view.units);
	free(tb->view.partitions);
	tb->core = NULL;
	tb->backend = NULL;
	tb->store = NULL;
	tb->server = NULL;
	tb->loop = NULL;
	tb->view.units = NULL;
	tb->view.partitions = NULL;
}

void tb_destroy(struct testbed *tb)
{
	char path[320];

	tb_close(tb);
	if (!tb->dir[0])
		return;
	static const char *const files[] = { "state.db", "state.db-wal", "state.db-shm", "sim-hw" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tb->dir, files[i]);
		unlink(path);
	}
	rmdir(tb->dir);
	tb->dir[0] = '\0';
}

void tb_settle(struct testbed *tb)
{
	/* Bounded: a bug that re-arms timers forever fails the test instead
	 * of hanging it. */
	for (unsigned turns = 0; turns < 1000000 && dhp_loop_pending(tb->loop); turns++) {
		if (tb->core && dhp_core_idle(tb->core) && turns > 0)
			break;
		dhp_loop_run_once(tb->loop);
	}
}

/* Split "a b c" into an array of pointers into buf. */
static size_t split_units(const char *units, char *buf, size_t len, const char **ids, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	snprintf(buf, len, "%s", units ? units : "");
	for (char *t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		ids[n++] = t;
	return n;
}

int tb_do_req(struct testbed *tb, const struct dhp_request *req, struct dhp_op *ret_op,
	      struct dhp_error *err)
{
	uint64_t id = 0;
	int r = dhp_core_submit(tb->core, req, &id, err);

	if (r < 0)
		return r;
	tb_settle(tb);
	if (ret_op)
		return dhp_store_get_op(tb->store, tb->server, id, ret_op, err);
	return 0;
}

int tb_do(struct testbed *tb, enum dhp_verb verb, const char *partition, const char *units,
	  struct dhp_op *ret_op, struct dhp_error *err)
{
	char buf[1024];
	const char *ids[64];
	struct dhp_request req = { .verb = verb, .partition = partition, .units = ids };

	req.n_units = split_units(units, buf, sizeof(buf), ids, 64);
	return tb_do_req(tb, &req, ret_op, err);
}

int tb_resize(struct testbed *tb, const char *partition, const char *adds, const char *removes,
	      bool on_restart, struct dhp_op *ret_op, struct dhp_error *err)
{
	char buf[1024], rbuf[1024];
	const char *ids[64], *rids[64];
	struct dhp_request req = { .verb = DHP_VERB_RESIZE, .partition = partition, .units = ids,
				   .remove_units = rids, .on_restart = on_restart };

	req.n_units = split_units(adds, buf, sizeof(buf), ids, 64);
	req.n_remove = split_units(removes, rbuf, sizeof(rbuf), rids, 64);
	return tb_do_req(tb, &req, ret_op, err);
}

int tb_move(struct testbed *tb, const char *from, const char *to, const char *units,
	    struct dhp_op *ret_op, struct dhp_error *err)
{
	char buf[1024];
	const char *ids[64];
	struct dhp_request req = { .verb = DHP_VERB_MOVE, .partition = from, .target = to,
				   .units = ids };

	req.n_units = split_units(units, buf, sizeof(buf), ids, 64);
	return tb_do_req(tb, &req, ret_op, err);
}

int tb_create(struct testbed *tb, const char *name, const char *profile, const char *units,
	      struct dhp_error *err)
{
	char buf[1024];
	const char *ids[64];
	struct dhp_request req = {
		.verb = DHP_VERB_CREATE, .partition = name, .profile = profile, .units = ids,
	};
	struct dhp_op op;
	int r;

	req.n_units = split_units(units, buf, sizeof(buf), ids, 64);
	r = tb_do_req(tb, &req, &op, err);
	if (r == 0 && op.state != DHP_OP_COMPLETED)
		return dhp_error_set(err, -EIO, "create ended %s", dhp_op_state_name(op.state));
	return r;
}

static void view_done(void *ctx, uint64_t token, int rc, const struct dhp_error *err)
{
	int *result = ctx;

	(void)token, (void)err;
	*result = rc;
}

int tb_invariants(struct testbed *tb, struct dhp_error *err)
{
	struct dhp_backend_view *v = &tb->view;
	int result = 1, r;

	free(v->partitions);
	v->n_partitions = tb->server->n_partitions;
	v->partitions = calloc(v->n_partitions + 1, sizeof(*v->partitions));
	if (!v->partitions)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_partitions; i++)
		v->partitions[i].id = tb->server->partitions[i]->id;
	r = tb->backend->ops->reconcile(tb->backend, v,
					(struct dhp_backend_cb){ view_done, &result, UINT64_MAX });
	if (r < 0)
		return dhp_error_set(err, r, "reconcile failed");
	while (result == 1 && dhp_loop_pending(tb->loop))
		dhp_loop_run_once(tb->loop);
	if (result)
		return dhp_error_set(err, -EIO, "reconcile did not answer");
	if (tb->seq_broken)
		return dhp_error_set(err, -EPROTO, "event numbers went backwards");
	return dhp_core_check_invariants(tb->core, v, err);
}

char *tb_snapshot(struct testbed *tb)
{
	size_t cap = 64 + tb->server->n_units * 64 + tb->server->n_partitions * 96, len = 0;
	char *s = malloc(cap);
	struct dhp_error err = { 0 };

	if (!s)
		return NULL;
	tb_invariants(tb, &err);	/* refreshes the view */
	for (size_t i = 0; i < tb->server->n_units; i++) {
		const struct dhp_unit *u = &tb->server->units[i];
		const struct dhp_unit_view *uv = &tb->view.units[i];

		len += (size_t)snprintf(s + len, cap - len, "%s p%u%s%s%s s%u%s h%d | w%u%s%s\n",
					u->id, u->partition, u->powered ? " on" : "",
					u->boot ? " boot" : "", u->spare ? " spare" : "",
					u->staged_partition,
					u->staged_remove ? " -" : "", (int)u->health,
					uv->partition, uv->powered ? " on" : "",
					uv->online ? " online" : "");
	}
	for (size_t i = 0; i < tb->server->n_partitions; i++) {
		const struct dhp_partition *p = tb->server->partitions[i];

		len += (size_t)snprintf(s + len, cap - len, "partition %u %s %s %s\n", p->id,
					p->name, p->profile->name,
					dhp_partition_state_name(p->state));
	}
	return s;
}
