/* SPDX-License-Identifier: MIT */
/*
 * The crash test: a child process drives random operations (with random
 * faults) on the simulated demo server in real time and is SIGKILLed at a
 * random moment; the parent restarts dhp on the same state directory,
 * recovers, and checks the invariants, SQLite's integrity check, and that
 * no acknowledged event was lost. DHP_CRASH_RUNS sets the number of
 * rounds (default 200).
 *
 * Replay: every run prints its random seed first, as a "# seed N" line.
 * All randomness (each round's requests, faults, latency and the moment
 * of the kill) comes from that seed, so
 *   DHP_SEED=N DHP_CRASH_RUNS=R+1 DHP_CRASH_KEEP=1 build/tests/t0500-crash
 * runs the same rounds again up to round R (the rounds share one state
 * directory, so a failing round is replayed by replaying those before it)
 * and keeps the state directory of the first failing round. The kill
 * lands at the same delay, but the child's progress by then depends on
 * the machine's load: a replay is the same scenario, not always the same
 * interleaving.
 *
 * The kill is guarded: a round whose fork() failed stops there; kill()
 * and waitpid() are never given a pid <= 0 (kill(-1, SIGKILL) as root
 * would kill every process of the machine).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"

static const char *const profiles[] = {
	"linux", "windows-server-2003-sp1", "windows-server-2008-x86", "windows-server-2008-x64",
};

static const char *const fault_specs[] = {
	"notify:add-start=veto*1", "notify:remove-query=veto*1", "offline=fail*1",
	"attach=hang*1", "power-on=fail*1", "move=crash*1", "online=slow:30*2",
	"start=crash*1", "detach=hang*1", "stop=hang*1", "offline=hang*1",
	"notify:add-start=crash*1",
};

#define N_FAULT_SPECS (sizeof(fault_specs) / sizeof(fault_specs[0]))

static const char *random_unit(struct testbed *tb)
{
	return tb->server->units[(size_t)rand() % tb->server->n_units].id;
}

static const char *random_partition(struct testbed *tb)
{
	if (!tb->server->n_partitions || rand() % 8 == 0)
		return "nope";
	return tb->server->partitions[(size_t)rand() % tb->server->n_partitions]->name;
}

/* A unit of partition name most of the time (so that plans run), else any. */
static const char *owned_unit(struct testbed *tb, const char *name)
{
	struct dhp_partition *p = dhp_server_partition_by_name(tb->server, name);
	size_t start = (size_t)rand() % tb->server->n_units;

	for (size_t i = 0; p && rand() % 4 && i < tb->server->n_units; i++) {
		const struct dhp_unit *u = &tb->server->units[(start + i) % tb->server->n_units];

		if (u->partition == p->id)
			return u->id;
	}
	return random_unit(tb);
}

/* One random request; most are refused, which is part of the test. */
static void random_request(struct testbed *tb, unsigned *n_created)
{
	const char *units[3] = { random_unit(tb), random_unit(tb), random_unit(tb) };
	char name[16];
	struct dhp_request req = {
		.verb = (enum dhp_verb)(rand() % DHP_VERB_MAX),
		.partition = random_partition(tb),
		.units = units,
		.n_units = 1,
		.on_restart = rand() % 4 == 0,
	};

	if (req.verb == DHP_VERB_CREATE) {
		snprintf(name, sizeof(name), "p%u", (*n_created)++);
		req.partition = name;
		req.profile = profiles[rand() % 4];
		/* a processor and a memory module of one socket, most of the time */
		unsigned s = (unsigned)rand() % 4, k = (unsigned)rand() % 4;
		static char cpu[16], mem[16];

		snprintf(cpu, sizeof(cpu), "s%u-cpu%u", s, k);
		snprintf(mem, sizeof(mem), "s%u-mem%u", s, k);
		units[0] = cpu;
		units[1] = mem;
		req.n_units = 2;
	}
	if (req.verb == DHP_VERB_DELETE && rand() % 2)
		req.verb = DHP_VERB_START;
	/* Plans (issue 11): a resize of up to two adds and two removes, a
	 * move of one or two units to another partition; most are refused,
	 * some run and are caught in flight. */
	if (rand() % 3 == 0)
		req.verb = rand() % 2 ? DHP_VERB_RESIZE : DHP_VERB_MOVE;
	if (req.verb == DHP_VERB_RESIZE) {
		req.n_units = (size_t)rand() % 2;
		units[1] = owned_unit(tb, req.partition);
		units[2] = owned_unit(tb, req.partition);
		req.remove_units = units + 1;
		req.n_remove = (size_t)rand() % 3;
	} else if (req.verb == DHP_VERB_MOVE) {
		units[0] = owned_unit(tb, req.partition);
		units[1] = owned_unit(tb, req.partition);
		req.n_units = 1 + (size_t)rand() % 2;
		req.target = random_partition(tb);
	}
	dhp_core_submit(tb->core, &req, NULL, NULL);
}

static void child(const char *dir, unsigned round, unsigned seed)
{
	struct testbed tb = { .virtual_time = false, .deadline_ms = 40 };
	struct dhp_error err = { 0 };
	unsigned n_created = (round + 1) * 100;

	srand(seed);
	if (tb_open_dir(&tb, DEMO, dir, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.message);
		_exit(3);
	}
	dhp_sim_set_latency(tb.backend, (uint32_t)(rand() % 3));
	if (rand() % 2)
		dhp_sim_faults_configure(tb.backend, fault_specs[(size_t)rand() % N_FAULT_SPECS],
					 NULL);
	for (;;) {
		for (int i = rand() % 3; i >= 0; i--)
			random_request(&tb, &n_created);
		for (int i = rand() % 20; i >= 0 && dhp_loop_pending(tb.loop); i--)
			dhp_loop_run_once(tb.loop);
	}
}

static unsigned rounds_with_recovery;
static unsigned plans_recovered;	/* resizes and moves ended by recovery */

static void count_plans(struct testbed *tb, const struct dhp_op *op)
{
	(void)tb;
	plans_recovered += op->kind == DHP_OP_HOT_RESIZE || op->kind == DHP_OP_HOT_MOVE ||
			   op->kind == DHP_OP_RESIZE;
}

/* Kill and reap our child: only ever a real child's pid (see above). */
static int kill_child(pid_t pid, int *ret_status)
{
	if (pid <= 0)
		return -EINVAL;
	if (kill(pid, SIGKILL) < 0)
		return -errno;
	while (waitpid(pid, ret_status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void one_round(const char *dir, unsigned round, uint64_t *last_event)
{
	struct testbed tb = { .virtual_time = true, .hook_op_end = count_plans };
	struct dhp_error err = { 0 };
	/* Drawn in the parent, in a fixed order: the seed replays them. */
	unsigned delay_us = (unsigned)(rand() % 40000);
	unsigned child_seed = (unsigned)rand();
	pid_t pid;
	int status = 0, r;

	test_begin("crash %u: killed after %u us", round, delay_us);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child(dir, round, child_seed);
	if (pid < 0) {
		CHECK_MSG(pid > 0, "fork: %s", strerror(errno));
		test_end();
		return;
	}
	usleep(delay_us);
	r = kill_child(pid, &status);
	CHECK_MSG(r == 0, "kill or wait of child %d: %s", (int)pid, strerror(-r));
	CHECK_MSG(WIFSIGNALED(status), "child ended on its own (status %d)", status);

	CHECK_MSG(tb_open_dir(&tb, DEMO, dir, &err) == 0, "restart: %s", err.message);
	if (tb.core) {
		/* Recovery publishes an event for each operation it finishes. */
		rounds_with_recovery += tb.n_events > 0;
		CHECK_MSG(tb_invariants(&tb, &err) == 0, "invariant broken: %s", err.message);
		CHECK_MSG(dhp_store_integrity_check(tb.store, &err) == 0, "integrity: %s",
			  err.message);
		/* Committed events survive; numbers only go up. */
		CHECK(dhp_store_last_event(tb.store) >= *last_event);
		*last_event = dhp_store_last_event(tb.store);
	}
	tb_close(&tb);
	if (test_state.failures && getenv("DHP_CRASH_KEEP")) {
		printf("# state kept in %s\n", dir);
		exit(1);
	}
	test_end();
}

/*
 * A resize and a move stopped at every phase (dhp freed mid-operation,
 * as a crash, and started again on the same state): recovery finishes or
 * undoes the whole plan, never part of it.
 */
static void plan_stopped_at(bool move, unsigned stop_at)
{
	static const char *const adds[] = { "s2-cpu0", "s2-mem0" };
	static const char *const removes[] = { "s0-cpu1", "s0-mem1" };
	struct testbed tb = { .virtual_time = true };
	struct dhp_request req = {
		.verb = move ? DHP_VERB_MOVE : DHP_VERB_RESIZE, .partition = "p",
		.units = move ? removes : adds, .n_units = 2,
		.remove_units = move ? NULL : removes, .n_remove = move ? 0 : 2,
		.target = move ? "q" : NULL,
	};
	struct dhp_error err = { 0 };
	const struct dhp_op *active;
	struct dhp_op op = { 0 };
	uint32_t p_id, q_id = 0;
	uint64_t id = 0;
	char dir[256];
	bool done;

	test_begin("%s stopped at phase %u", move ? "hot-move" : "hot-resize", stop_at);
	if (tb_open(&tb, DEMO, &err) || tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0 s0-cpu1 s0-mem1",
						   &err) ||
	    tb_do(&tb, DHP_VERB_START, "p", NULL, NULL, &err) ||
	    (move && (tb_create(&tb, "q", "linux", "s1-cpu0 s1-mem0", &err) ||
		      tb_do(&tb, DHP_VERB_START, "q", NULL, NULL, &err)))) {
		CHECK_MSG(0, "setup: %s", err.message);
		goto out;
	}
	p_id = dhp_server_partition_by_name(tb.server, "p")->id;
	if (move)
		q_id = dhp_server_partition_by_name(tb.server, "q")->id;
	CHECK_MSG(dhp_core_submit(tb.core, &req, &id, &err) == 0, "%s", err.message);
	while ((active = dhp_core_active_op(tb.core, id)) && active->phase < (int)stop_at &&
	       dhp_loop_pending(tb.loop))
		dhp_loop_run_once(tb.loop);
	snprintf(dir, sizeof(dir), "%s", tb.dir);
	tb_close(&tb);
	CHECK_MSG(tb_open_dir(&tb, DEMO, dir, &err) == 0, "restart: %s", err.message);
	if (!tb.core)
		goto out;
	CHECK_MSG(tb_invariants(&tb, &err) == 0, "invariant broken: %s", err.message);
	CHECK_INT(dhp_store_get_op(tb.store, tb.server, id, &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_COMPLETED || op.state == DHP_OP_ROLLED_BACK, "ended %s",
		  dhp_op_state_name(op.state));
	done = op.state == DHP_OP_COMPLETED;
	for (int i = 0; i < 2; i++) {
		const struct dhp_unit *r = dhp_server_unit(tb.server, removes[i]);
		const struct dhp_unit *a = dhp_server_unit(tb.server, adds[i]);

		CHECK_MSG(r->partition == (done ? (move ? q_id : 0) : p_id), "%s is in %u",
			  r->id, r->partition);
		if (!move)
			CHECK_MSG(a->partition == (done ? p_id : 0), "%s is in %u", a->id,
				  a->partition);
	}
out:
	tb_destroy(&tb);
	test_end();
}

static void plans_in_flight(void)
{
	for (int move = 0; move < 2; move++) {
		enum dhp_op_kind kind = move ? DHP_OP_HOT_MOVE : DHP_OP_HOT_RESIZE;

		for (unsigned i = 0; i <= dhp_core_phase_count(kind); i++)
			plan_stopped_at(move, i);
	}
}

/* DHP_SEED, or a new seed from the clock and the pid. */
static int pick_seed(unsigned *ret_seed)
{
	const char *text = getenv("DHP_SEED");
	unsigned long v;
	char *end;

	if (!text || !*text) {
		*ret_seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
		return 0;
	}
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v > 0xffffffffUL)
		return -EINVAL;
	*ret_seed = (unsigned)v;
	return 0;
}

int main(void)
{
	const char *runs = getenv("DHP_CRASH_RUNS");
	const char *tmp = getenv("DHP_TEST_TMP");
	unsigned n = runs ? (unsigned)atoi(runs) : 200;
	struct testbed tb = { .virtual_time = true };
	struct dhp_error err = { 0 };
	uint64_t last_event = 0;
	unsigned seed;
	char dir[256];

	if (pick_seed(&seed) < 0) {
		fprintf(stderr, "t0500-crash: DHP_SEED must be a number from 0 to 4294967295\n");
		return 2;
	}
	/* First, so that a run that fails or hangs can be replayed. */
	printf("# seed %u (replay: DHP_SEED=%u)\n", seed, seed);
	fflush(stdout);
	srand(seed);
	snprintf(dir, sizeof(dir), "%s/dhp-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	plans_in_flight();
	for (unsigned i = 0; i < n; i++)
		one_round(dir, i, &last_event);
	/* The end state is a usable server. */
	test_begin("after %u crashes: operations were caught in flight", n);
	CHECK(last_event > 0);
	printf("# %u of %u rounds had operations in flight to recover\n", rounds_with_recovery, n);
	printf("# %u resizes and moves were recovered\n", plans_recovered);
	CHECK(n < 20 || rounds_with_recovery > 0);
	test_end();
	if (tb_open_dir(&tb, DEMO, dir, &err) == 0)
		snprintf(tb.dir, sizeof(tb.dir), "%s", dir);
	tb_destroy(&tb);
	return test_done();
}
