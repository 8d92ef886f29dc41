/* SPDX-License-Identifier: MIT */
/*
 * The largest server dhp must hold (topologies/large: 32 sockets, 8,192
 * processors, 4,096 memory modules, 256 I/O host bridges), fully
 * partitioned, started from its state directory: how long until dhp can
 * take requests (topology parse, store load, simulated hardware map,
 * recovery), and at what peak memory.
 *
 * Setup, not timed: 256 running partitions, each owning 32 processors,
 * 16 memory modules and one I/O host bridge (every unit of the server).
 * Then each measurement runs in a fresh process (this program executed
 * again with --open), so that its peak resident set is its own:
 *   clean      the state as a stopped dhp left it;
 *   in flight  after a dhp was killed (SIGKILL) while a hot remove was
 *              under way on every partition: recovery rolls back 256
 *              operations.
 * The files are in the page cache (they were just written): a warm start.
 *
 * Usage: large-recovery
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "testbed.h"

#define LARGE "topologies/large"
#define N_PARTS 256
#define TARGET_S 1.0
#define TARGET_MIB 150.0

static void must(int r, const struct dhp_error *err, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "large-recovery: %s: %s\n", what, err->message);
		exit(1);
	}
}

static void submit(struct testbed *tb, enum dhp_verb verb, const char *name,
		   const char *const *units, size_t n_units, uint64_t *ret_id)
{
	struct dhp_error err = { 0 };
	struct dhp_request req = {
		.verb = verb, .partition = name, .profile = "linux",
		.units = units, .n_units = n_units,
	};

	must(dhp_core_submit(tb->core, &req, ret_id, &err), &err, dhp_verb_name(verb));
}

/* Partition i: socket i/8, the k-th eighth of its units (k = i%8). */
static void partition_units(unsigned i, char ids[49][24], const char *ptrs[49])
{
	unsigned s = i / 8, k = i % 8, n = 0;

	for (unsigned c = 0; c < 32; c++)
		snprintf(ids[n++], sizeof(ids[0]), "s%u-cpu%u", s, 32 * k + c);
	for (unsigned m = 0; m < 16; m++)
		snprintf(ids[n++], sizeof(ids[0]), "s%u-mem%u", s, 16 * k + m);
	snprintf(ids[n++], sizeof(ids[0]), "s%u-iohb%u", s, k);
	for (unsigned j = 0; j < n; j++)
		ptrs[j] = ids[j];
}

static void setup(const char *dir)
{
	struct testbed tb = { .virtual_time = true };
	struct dhp_error err = { 0 };
	char name[16], ids[49][24];
	const char *ptrs[49];
	unsigned running = 0;
	double t0 = bench_now();
	char path[320];
	struct stat st;

	must(tb_open_dir(&tb, LARGE, dir, &err), &err, "open the testbed");
	for (unsigned i = 0; i < N_PARTS; i++) {
		snprintf(name, sizeof(name), "part%03u", i);
		partition_units(i, ids, ptrs);
		submit(&tb, DHP_VERB_CREATE, name, ptrs, 49, NULL);
	}
	tb_settle(&tb);
	for (unsigned i = 0; i < N_PARTS; i++) {
		snprintf(name, sizeof(name), "part%03u", i);
		submit(&tb, DHP_VERB_START, name, NULL, 0, NULL);
	}
	tb_settle(&tb);
	for (size_t i = 0; i < tb.server->n_partitions; i++)
		running += tb.server->partitions[i]->state == DHP_PARTITION_RUNNING;
	tb_close(&tb);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	printf("# large-recovery: setup: %u partitions running, %zu units, in %.1f s;"
	       " store %.1f MiB\n", running, (size_t)N_PARTS * 49, bench_now() - t0,
	       stat(path, &st) ? 0.0 : (double)st.st_size / (1 << 20));
	if (running != N_PARTS)
		exit(1);
}

/*
 * A dhp that dies mid-flight: a hot remove of its last processor on every
 * partition, slowed so that each is between phases (offline done, detach
 * under way) when the process is killed.
 */
static void crash_mid_flight(const char *dir)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		struct testbed tb = { .virtual_time = false };
		struct dhp_error err = { 0 };
		uint64_t ids[N_PARTS];
		char name[16], unit[24];
		const char *units[] = { unit };
		bool all_there = false;

		must(tb_open_dir(&tb, LARGE, dir, &err), &err, "open the testbed");
		dhp_sim_set_latency(tb.backend, 5);
		for (unsigned i = 0; i < N_PARTS; i++) {
			snprintf(name, sizeof(name), "part%03u", i);
			snprintf(unit, sizeof(unit), "s%u-cpu%u", i / 8, 32 * (i % 8) + 31);
			submit(&tb, DHP_VERB_REMOVE, name, units, 1, &ids[i]);
		}
		for (unsigned turns = 0; !all_there && turns < 100000; turns++) {
			dhp_loop_run_once(tb.loop);
			all_there = true;
			for (unsigned i = 0; i < N_PARTS && all_there; i++) {
				const struct dhp_op *op = dhp_core_active_op(tb.core, ids[i]);

				all_there = op && op->phase >= 2 && !op->rolling_back;
			}
		}
		printf("# large-recovery: killing a dhp with %u hot removes in flight%s\n",
		       N_PARTS, all_there ? " (offline done, detach under way)" : "");
		fflush(stdout);
		raise(SIGKILL);
		_exit(1);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL) {
		fprintf(stderr, "large-recovery: the crashing dhp did not die as planned\n");
		exit(1);
	}
}

/*
 * Drop the state files and the topology from the page cache, so that the
 * next open reads them from the disk, as after a reboot.
 */
static void evict(const char *dir)
{
	static const char *const files[] = { "state.db", "state.db-wal", "sim-hw" };
	char path[320];

	for (size_t i = 0; i <= sizeof(files) / sizeof(files[0]); i++) {
		int fd;

		if (i < sizeof(files) / sizeof(files[0]))
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		else
			snprintf(path, sizeof(path), "%s", LARGE);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		fdatasync(fd);	/* dirty pages are not dropped */
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

/* Run this program again to open dir, and wait for it. */
static void measure(const char *dir, const char *label)
{
	char *argv[] = { "large-recovery", "--open", (char *)dir, (char *)label, NULL };
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "large-recovery: the measurement \"%s\" failed\n", label);
		exit(1);
	}
}

/* How the hot removes of the crashed dhp ended, as "N rolled-back, ...". */
static void describe_removes(struct testbed *tb, char *buf, size_t len)
{
	unsigned by_state[DHP_OP_STATE_MAX] = { 0 };
	struct dhp_error err = { 0 };
	struct dhp_op *ops = NULL;
	size_t n = 0, at = 0;

	must(dhp_store_list_ops(tb->store, tb->server, 0, 100000, &ops, &n, &err), &err,
	     "list operations");
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DHP_OP_HOT_REMOVE)
			by_state[ops[i].state]++;
	free(ops);
	buf[0] = '\0';
	for (unsigned s = 0; s < DHP_OP_STATE_MAX; s++)
		if (by_state[s] && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%u %s", at ? ", " : "",
					       by_state[s], dhp_op_state_name((enum dhp_op_state)s));
	if (!at)
		snprintf(buf, len, "none");
}

/*
 * Peak resident set of this process image, in KiB: VmHWM, not getrusage's
 * ru_maxrss, which keeps across execve() the peak of the forked parent.
 */
static long peak_rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* The measured process: open, recover, report. */
static int open_and_report(const char *dir, const char *label)
{
	struct testbed tb = { .virtual_time = false };
	struct dhp_error err = { 0 };
	char name[64], removes[128];
	long base_kib;
	unsigned long syncs;
	double t0, t, mib;
	int r;

	base_kib = peak_rss_kib();
	t0 = bench_now();
	r = tb_open_dir(&tb, LARGE, dir, &err);
	t = bench_now() - t0;
	syncs = bench_syncs;
	mib = (double)peak_rss_kib() / 1024;
	must(r, &err, "open and recover");

	describe_removes(&tb, removes, sizeof(removes));
	r = tb_invariants(&tb, &err);
	printf("# large-recovery: %s: %zu partitions, %zu units; hot removes: %s;"
	       " %lu syncs; RSS before opening %.1f MiB; invariants %s%s\n", label,
	       tb.server->n_partitions, tb.server->n_units, removes, syncs,
	       (double)base_kib / 1024, r ? "BROKEN: " : "hold", r ? err.message : "");
	tb_close(&tb);

	snprintf(name, sizeof(name), "large: open + recover, %s", label);
	bench_row(name, t, 3, "s", "< 1", t < TARGET_S ? "met" : "MISSED");
	snprintf(name, sizeof(name), "  peak RSS, %s", label);
	bench_row(name, mib, 1, "MiB", "< 150", mib < TARGET_MIB ? "met" : "MISSED");
	return 0;
}

int main(int argc, char **argv)
{
	char dir[256];

	if (argc == 4 && !strcmp(argv[1], "--open"))
		return open_and_report(argv[2], argv[3]);
	if (bench_dir(dir, sizeof(dir), "large-recovery") < 0)
		return 1;
	setup(dir);
	measure(dir, "clean");
	evict(dir);
	measure(dir, "clean, cold cache");
	crash_mid_flight(dir);
	measure(dir, "256 in flight");
	bench_rmdir(dir);
	return 0;
}
