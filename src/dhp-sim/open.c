/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim's start-up and shut-down. Start-up order: state directory (made,
 * locked, emptied by --fresh), loop (real time), topology, store, simulated
 * backend (latency, faults), engine, recovery; sim_close frees everything
 * in reverse. Interrupting a run mid-operation is a crash of the manager:
 * the next run recovers it.
 */
#include "dhp-sim/dhp-sim.h"

#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/topology.h"

#define PATH_LEN 4096

static void on_recovered(void *ctx, int rc, const struct dhp_error *err)
{
	struct sim *s = ctx;

	s->recover_done = true;
	s->recover_rc = rc;
	if (err)
		s->recover_err = *err;
}

/* ---- the state directory and the engine ---- */

static int state_path(const struct sim *s, const char *name, char *buf, size_t len,
		      struct dhp_error *err)
{
	int n = snprintf(buf, len, "%s/%s", s->opt.state_dir, name);

	if (n < 0 || (size_t)n >= len)
		return dhp_error_set(err, -ENAMETOOLONG, "state directory path too long");
	return 0;
}

/*
 * One dhp-sim at a time per state directory: two would each drive the
 * same simulated hardware from their own copy of the model.
 */
static int lock_state_dir(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r = state_path(s, "dhp-sim.lock", path, sizeof(path), err);

	if (r < 0)
		return r;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		int e = errno;

		return dhp_error_set(err, -e, "cannot open %s: %s", path, strerror(e));
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		dhp_error_set(err, -EBUSY, "state directory %s is in use by another dhp-sim",
			      s->opt.state_dir);
		return dhp_error_resolve(err, "wait for it to end, or use another --state-dir");
	}
	return 0;
}

static int prepare_state_dir(struct sim *s, struct dhp_error *err)
{
	static const char *const files[] = { "state.db", "state.db-wal", "state.db-shm", "sim-hw" };
	char path[PATH_LEN];
	struct stat st;
	int r = dhp_mkdir_p(s->opt.state_dir, err);

	if (r < 0)
		return r;
	if (stat(s->opt.state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return dhp_error_set(err, -ENOTDIR, "%s is not a directory", s->opt.state_dir);
	r = lock_state_dir(s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; s->opt.fresh && i < sizeof(files) / sizeof(files[0]); i++) {
		r = state_path(s, files[i], path, sizeof(path), err);
		if (r < 0)
			return r;
		if (unlink(path) < 0 && errno != ENOENT) {
			int e = errno;

			return dhp_error_set(err, -e, "cannot remove %s: %s", path, strerror(e));
		}
	}
	return 0;
}

static int open_backend(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r = state_path(s, "sim-hw", path, sizeof(path), err);

	if (!r)
		r = dhp_sim_new(s->server, s->loop, path, &s->backend, err);
	if (r < 0)
		return SIM_EXIT_STATE;
	dhp_sim_set_latency(s->backend, s->opt.latency_ms);
	if (s->opt.faults && dhp_sim_faults_configure(s->backend, s->opt.faults, err) < 0)
		return SIM_EXIT_USAGE;
	return SIM_EXIT_OK;
}

static int open_core(struct sim *s, struct dhp_error *err)
{
	struct dhp_core_config cfg = {
		.server = s->server, .store = s->store, .backend = s->backend, .loop = s->loop,
		.phase_deadline_ms = s->opt.deadline_ms,
		.listener = { sim_on_event, sim_on_op_end, s },
	};
	int r = dhp_core_new(&cfg, &s->core, err);

	if (r < 0)
		return r;
	s->t0 = dhp_loop_now(s->loop);
	s->recovering = true;
	r = dhp_core_recover(s->core, on_recovered, s);
	if (r < 0)
		return dhp_error_set(err, r, "recovery could not begin");
	sim_run_until(s, &s->recover_done);
	s->recovering = false;
	if (!s->recover_done)
		return dhp_error_set(err, -EIO, "recovery did not end");
	if (s->recover_rc < 0 && err)
		*err = s->recover_err;
	return s->recover_rc;
}

int sim_open(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r;

	if (prepare_state_dir(s, err) < 0)
		return SIM_EXIT_STATE;
	s->loop = dhp_loop_new(false);
	if (!s->loop) {
		dhp_error_set(err, -ENOMEM, "out of memory");
		return SIM_EXIT_STATE;
	}
	if (dhp_topology_load(s->opt.topology, &s->server, err) < 0) {
		if (!err->resolution[0])
			dhp_error_resolve(err, "name a topology file with --topology FILE "
					  "(docs/topology.md)");
		return SIM_EXIT_STATE;
	}
	if (state_path(s, "state.db", path, sizeof(path), err) < 0 ||
	    dhp_store_open(path, &s->store, err) < 0)
		return SIM_EXIT_STATE;
	r = open_backend(s, err);
	if (r != SIM_EXIT_OK)
		return r;
	if (open_core(s, err) < 0)
		return SIM_EXIT_STATE;
	if (s->n_recovery_events)
		printf("recovered.\n");
	return SIM_EXIT_OK;
}

void sim_close(struct sim *s)
{
	dhp_core_free(s->core);
	dhp_backend_free(s->backend);
	dhp_store_close(s->store);
	dhp_server_free(s->server);
	dhp_loop_free(s->loop);
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* and the lock with it */
}
