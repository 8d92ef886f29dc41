/* SPDX-License-Identifier: MIT */
/*
 * Durable operations per second against the disk's rate of synchronous
 * commits, in the same run and the same directory.
 *
 * The disk: a loop of write() + fdatasync() of a small record, which is
 * what one synchronous commit costs at least. dhp: the demo server on a
 * real clock (simulated hardware answers at once), hot add then hot remove
 * of a processor, each operation journaled and durable. The engine makes
 * at most two synchronous commits per operation (one to acknowledge it,
 * one for its outcome), so the target is ops/s of at least half the sync
 * rate; with several partitions at once their outcomes share one commit
 * (group commit) and the ratio should rise. docs/BENCHMARKS.md has the
 * figures measured, and why the target is missed.
 *
 * Usage: durable-ops [SECONDS]   (each measurement; default 2)
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "common.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define MAX_PARTS 4

static double seconds = 2.0;
static unsigned runs;		/* each hot_loop in a directory of its own */

/* Synchronous commits per second of this disk, in dir: each appends a
 * small record to a file and waits for it to be on the disk. */
static double sync_rate(const char *dir)
{
	char path[320], record[64];
	unsigned long n = 0;
	double t0, t;
	int fd;

	snprintf(path, sizeof(path), "%s/sync-baseline", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "durable-ops: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	memset(record, 'r', sizeof(record));
	t0 = bench_now();
	do {
		if (write(fd, record, sizeof(record)) != (ssize_t)sizeof(record) ||
		    fdatasync(fd) < 0) {
			fprintf(stderr, "durable-ops: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		n++;
		t = bench_now() - t0;
	} while (t < seconds);
	close(fd);
	unlink(path);
	return (double)n / t;
}

static void must(int r, const struct dhp_error *err, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "durable-ops: %s: %s\n", what, err->message);
		exit(1);
	}
}

static void submit(struct testbed *tb, enum dhp_verb verb, const char *partition,
		   const char *unit)
{
	struct dhp_error err = { 0 };
	const char *units[] = { unit };
	struct dhp_request req = {
		.verb = verb, .partition = partition, .units = units, .n_units = 1,
	};

	/* A refused request means the previous one did not complete. */
	must(dhp_core_submit(tb->core, &req, NULL, &err), &err, dhp_verb_name(verb));
}

struct result {
	double ops_per_s;
	double commit_syncs;		/* per op: the engine's durable commits */
	double checkpoint_syncs;	/* per op: SQLite's checkpoints */
	double bytes_per_op;		/* written to the store's files */
	double cpu_ms_per_op;		/* user + system */
};

/*
 * n_parts running partitions on the demo server, one per socket, each
 * hot adding and then hot removing its second processor, all at once.
 */
static struct result hot_loop(const char *dir, unsigned n_parts)
{
	struct testbed tb = { .virtual_time = false };
	struct dhp_error err = { 0 };
	char sub[300], name[MAX_PARTS][8], cpu1[MAX_PARTS][16], units[64];
	unsigned long ops = 0, syncs, syncs_db;
	unsigned long long bytes;
	double t0, t, cpu;

	snprintf(sub, sizeof(sub), "%s/dhp-run%u", dir, ++runs);
	if (mkdir(sub, 0700) < 0) {
		fprintf(stderr, "durable-ops: mkdir %s: %s\n", sub, strerror(errno));
		exit(1);
	}
	must(tb_open_dir(&tb, DEMO, sub, &err), &err, "open the testbed");
	dhp_sim_set_latency(tb.backend, 0);
	for (unsigned i = 0; i < n_parts; i++) {
		snprintf(name[i], sizeof(name[i]), "p%u", i);
		snprintf(cpu1[i], sizeof(cpu1[i]), "s%u-cpu1", i);
		snprintf(units, sizeof(units), "s%u-cpu0 s%u-mem0", i, i);
		must(tb_create(&tb, name[i], "linux", units, &err), &err, "create");
		must(tb_do(&tb, DHP_VERB_START, name[i], NULL, NULL, &err), &err, "start");
	}

	syncs = bench_syncs;
	syncs_db = bench_syncs_db;
	bytes = bench_bytes_written();
	cpu = bench_cpu();
	t0 = bench_now();
	do {
		for (unsigned i = 0; i < n_parts; i++)
			submit(&tb, DHP_VERB_ADD, name[i], cpu1[i]);
		tb_settle(&tb);
		for (unsigned i = 0; i < n_parts; i++)
			submit(&tb, DHP_VERB_REMOVE, name[i], cpu1[i]);
		tb_settle(&tb);
		ops += 2 * n_parts;
		t = bench_now() - t0;
	} while (t < seconds);
	syncs = bench_syncs - syncs;
	syncs_db = bench_syncs_db - syncs_db;
	bytes = bench_bytes_written() - bytes;
	cpu = bench_cpu() - cpu;

	/* The last remove must have completed like all before it. */
	for (unsigned i = 0; i < n_parts; i++)
		if (dhp_server_unit(tb.server, cpu1[i])->partition != 0) {
			fprintf(stderr, "durable-ops: %s still in %s\n", cpu1[i], name[i]);
			exit(1);
		}
	tb_close(&tb);
	printf("# durable-ops: %u partition(s)%s: %lu operations in %.2f s, %lu syncs"
	       " (%lu checkpoints)\n", n_parts, bench_skip_syncs ? ", syncs skipped" : "",
	       ops, t, syncs, syncs_db);
	/* Three syncs per checkpoint (see common.h); the rest are commits. */
	return (struct result){
		.ops_per_s = (double)ops / t,
		.commit_syncs = (double)(syncs - 3 * syncs_db) / (double)ops,
		.checkpoint_syncs = (double)(3 * syncs_db) / (double)ops,
		.bytes_per_op = (double)bytes / (double)ops,
		.cpu_ms_per_op = 1000 * cpu / (double)ops,
	};
}

static const char *verdict(bool met)
{
	return met ? "met" : "MISSED";
}

static void report(const char *what, struct result r, double ratio, const char *target,
		   bool met)
{
	bench_row(what, r.ops_per_s, 1, "ops/s", "", "");
	bench_row("  ratio ops/s : syncs/s", ratio, 2, "", target, verdict(met));
	bench_row("  commit syncs per op", r.commit_syncs, 2, "", "<= 2",
		  verdict(r.commit_syncs <= 2.0));
	bench_row("  checkpoint syncs per op", r.checkpoint_syncs, 2, "", "", "");
	bench_row("  KiB written per op", r.bytes_per_op / 1024, 1, "KiB", "", "");
	bench_row("  CPU per op (user+sys)", r.cpu_ms_per_op, 3, "ms", "", "");
}

int main(int argc, char **argv)
{
	char dir[256], target[32];
	double before, after, disk, r1, r4, wait;
	struct result one, four, nosync;

	if (argc > 1)
		seconds = atof(argv[1]) > 0 ? atof(argv[1]) : seconds;
	if (bench_dir(dir, sizeof(dir), "durable-ops") < 0)
		return 1;

	/* The disk's rate before and after dhp's runs: it drifts on shared
	 * and virtual disks, and both runs are compared with the mean. */
	before = sync_rate(dir);
	one = hot_loop(dir, 1);
	four = hot_loop(dir, MAX_PARTS);
	after = sync_rate(dir);
	disk = (before + after) / 2;
	printf("# durable-ops: disk: %.1f syncs/s before, %.1f after\n", before, after);

	/* For the diagnosis: the same work without waiting for the disk. What
	 * an operation takes beyond that is its wait for its syncs. */
	bench_skip_syncs = true;
	nosync = hot_loop(dir, 1);
	bench_skip_syncs = false;
	wait = (1 / one.ops_per_s - 1 / nosync.ops_per_s) /
	       (one.commit_syncs + one.checkpoint_syncs);

	r1 = one.ops_per_s / disk;
	r4 = four.ops_per_s / disk;
	bench_row("sync commits/s (disk: write+fdatasync)", disk, 1, "/s", "", "");
	report("durable ops/s, 1 partition", one, r1, ">= 0.5", r1 >= 0.5);
	snprintf(target, sizeof(target), "> %.2f", r1);
	report("durable ops/s, 4 partitions at once", four, r4, target, r4 > r1);
	bench_row("(diagnosis) 1 partition, syncs skipped", nosync.ops_per_s, 1, "ops/s", "", "");
	snprintf(target, sizeof(target), "disk: %.3f", 1000 / disk);
	bench_row("  wait per sync of dhp's", 1000 * wait, 3, "ms", "", target);
	bench_rmdir(dir);
	return 0;
}
