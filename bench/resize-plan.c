/* SPDX-License-Identifier: MIT */
/*
 * A resize plan against the same work done one unit at a time (issue 11):
 * on the simulated demo server, a running partition grows by 8 units (4
 * processors, 4 memory modules) as one hot resize, and, in turn, by the
 * same 8 units as 8 hot adds submitted one after the other (each waits
 * for the previous one: a running partition takes one unit per request).
 * Between rounds one untimed resize gives the units back. The target: the
 * plan within 1.2 times the one-by-one time. A plan is one operation: one
 * validation, one journal record per phase for all its units and one
 * commit, where one-by-one pays those 8 times; the backend's calls are the
 * same. Measured with answers on the next turn of the loop (latency 0:
 * the engine and the store alone) and with 5 ms per backend answer.
 * Real time, a real store on disk (DHP_BENCH_DIR). Median of ROUNDS.
 *
 * Usage: resize-plan
 */
#include "common.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define ROUNDS 15
#define UNITS "s0-cpu1 s0-cpu2 s0-cpu3 s1-cpu0 s0-mem1 s0-mem2 s0-mem3 s1-mem0"
#define N_UNITS 8

static void must(int r, const struct dhp_error *err, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "resize-plan: %s: %s\n", what, err->message);
		exit(1);
	}
}

static void completed(const struct dhp_op *op, const char *what)
{
	if (op->state != DHP_OP_COMPLETED) {
		fprintf(stderr, "resize-plan: %s: %s\n", what, dhp_op_state_name(op->state));
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median times (ms) of the plan and of one-by-one, at a backend latency. */
static void measure(const char *dir, uint32_t latency_ms, double *ret_plan, double *ret_single)
{
	struct testbed tb = { .virtual_time = false };
	struct dhp_error err = { 0 };
	static double plan[ROUNDS], single[ROUNDS];
	char sub[300], units[] = UNITS;
	struct dhp_op op;

	snprintf(sub, sizeof(sub), "%s/latency-%u", dir, latency_ms);
	if (mkdir(sub, 0700) < 0) {
		fprintf(stderr, "resize-plan: mkdir %s: %s\n", sub, strerror(errno));
		exit(1);
	}
	must(tb_open_dir(&tb, DEMO, sub, &err), &err, "open the testbed");
	dhp_sim_set_latency(tb.backend, latency_ms);
	must(tb_create(&tb, "web", "linux", "s0-cpu0 s0-mem0", &err), &err, "create");
	must(tb_do(&tb, DHP_VERB_START, "web", NULL, &op, &err), &err, "start");
	for (unsigned r = 0; r < ROUNDS; r++) {
		double t0 = bench_now();

		must(tb_resize(&tb, "web", UNITS, NULL, false, &op, &err), &err, "resize");
		completed(&op, "the plan");
		plan[r] = (bench_now() - t0) * 1e3;
		must(tb_resize(&tb, "web", NULL, UNITS, false, &op, &err), &err, "give back");
		completed(&op, "the give back");

		t0 = bench_now();
		for (char *save = NULL, *u = strtok_r(units, " ", &save); u;
		     u = strtok_r(NULL, " ", &save)) {
			must(tb_do(&tb, DHP_VERB_ADD, "web", u, &op, &err), &err, "add");
			completed(&op, u);
		}
		single[r] = (bench_now() - t0) * 1e3;
		snprintf(units, sizeof(units), "%s", UNITS);
		must(tb_resize(&tb, "web", NULL, UNITS, false, &op, &err), &err, "give back");
		completed(&op, "the give back");
	}
	tb_close(&tb);
	qsort(plan, ROUNDS, sizeof(plan[0]), cmp_double);
	qsort(single, ROUNDS, sizeof(single[0]), cmp_double);
	*ret_plan = plan[ROUNDS / 2];
	*ret_single = single[ROUNDS / 2];
}

int main(void)
{
	static const uint32_t latencies[] = { 0, 5 };
	char dir[256], row[64];

	if (bench_dir(dir, sizeof(dir), "resize-plan") < 0)
		return 1;
	printf("# resize-plan: %s, %d units (%s), median of %d rounds\n", DEMO, N_UNITS, UNITS,
	       ROUNDS);
	for (size_t i = 0; i < sizeof(latencies) / sizeof(latencies[0]); i++) {
		double plan, single, ratio;

		measure(dir, latencies[i], &plan, &single);
		ratio = plan / single;
		snprintf(row, sizeof(row), "resize plan of 8, sim latency %u ms", latencies[i]);
		bench_row(row, plan, 1, "ms", "", "");
		snprintf(row, sizeof(row), "  8 hot adds one by one");
		bench_row(row, single, 1, "ms", "", "");
		snprintf(row, sizeof(row), "  ratio plan : one by one");
		bench_row(row, ratio, 2, "", "<= 1.2", ratio <= 1.2 ? "met" : "MISSED");
	}
	bench_rmdir(dir);
	return 0;
}
