/* SPDX-License-Identifier: MIT */
/*
 * The placement planner (core/plan.h) on the largest server
 * (topologies/large: 32 sockets, 8,192 processors, 4,096 memory modules)
 * with 256 partitions composed (each 16 processors and 8 modules of one
 * socket: half of the server). Timed, many runs each: a constrained
 * composition plan (a new partition of 24 processors, 160 GiB and an I/O
 * host bridge) and a grow/shrink plan of a composed partition (16 to 40
 * processors, 128 GiB to 64 GiB). Each plan reads every unit once (a
 * pass to sort them by type and socket), so its cost is that of the
 * server's size. Median and worst (the worst includes the machine's
 * scheduling noise); targets 1 ms and 10 ms.
 *
 * Usage: plan
 */
#include "common.h"
#include "testbed.h"

#define LARGE "topologies/large"
#define N_PARTS 256
#define RUNS 2000

static void must(int r, const struct dhp_error *err, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "plan: %s: %s\n", what, err->message);
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void measure(struct testbed *tb, const char *name, const struct dhp_plan_request *req)
{
	static double t[RUNS];
	struct dhp_error err = { 0 };
	struct dhp_plan plan;
	char row[64];

	for (int i = 0; i < RUNS; i++) {
		double t0 = bench_now();

		must(dhp_core_plan(tb->core, req, &plan, &err), &err, name);
		t[i] = (bench_now() - t0) * 1e3;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	printf("# %s: %u units in %u steps, home socket %u\n", name, plan.n_units, plan.n_steps,
	       plan.home);
	snprintf(row, sizeof(row), "%s, median", name);
	bench_row(row, t[RUNS / 2], 3, "ms", "<= 1", t[RUNS / 2] <= 1.0 ? "met" : "MISSED");
	snprintf(row, sizeof(row), "%s, worst", name);
	bench_row(row, t[RUNS - 1], 3, "ms", "<= 10", t[RUNS - 1] <= 10.0 ? "met" : "MISSED");
}

int main(void)
{
	struct testbed tb = { .virtual_time = true };
	struct dhp_error err = { 0 };
	struct dhp_plan_request compose = {
		.processors = 24, .memory_mib = 160 * 1024, .io_bridges = 1, .socket = -1,
	};
	struct dhp_plan_request resize = {
		.partition = "p5", .processors = 40, .memory_mib = 64 * 1024,
		.io_bridges = DHP_PLAN_KEEP, .socket = -1,
	};

	must(tb_open(&tb, LARGE, &err), &err, "open " LARGE);
	for (unsigned i = 0; i < N_PARTS; i++) {
		char ids[24][24], name[16];
		const char *ptrs[24];
		unsigned s = i / 8, k = i % 8, n = 0;
		struct dhp_request req = { .verb = DHP_VERB_CREATE, .partition = name,
					   .profile = "linux", .units = ptrs };

		snprintf(name, sizeof(name), "p%u", i);
		for (unsigned c = 0; c < 16; c++)
			snprintf(ids[n++], sizeof(ids[0]), "s%u-cpu%u", s, 16 * k + c);
		for (unsigned m = 0; m < 8; m++)
			snprintf(ids[n++], sizeof(ids[0]), "s%u-mem%u", s, 8 * k + m);
		for (unsigned j = 0; j < n; j++)
			ptrs[j] = ids[j];
		req.n_units = n;
		must(dhp_core_submit(tb.core, &req, NULL, &err), &err, "create");
	}
	tb_settle(&tb);
	printf("# plan: %s with %u partitions composed, %d runs each\n", LARGE, N_PARTS, RUNS);
	measure(&tb, "plan: constrained composition", &compose);
	measure(&tb, "plan: grow/shrink", &resize);
	tb_destroy(&tb);
	return 0;
}
