/* SPDX-License-Identifier: MIT */
/*
 * The placement planner (core/plan.h) and composition reservations on the
 * demo server (4 sockets, each 4 processors, 4 x 2 GiB modules and one
 * I/O host bridge): locality, distances, spares, holds, boot memory,
 * determinism, and every request it must refuse, changing nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testbed.h"

#define DEMO "topologies/demo"
#define GIB_MIB 1024

static struct testbed tb;

static struct dhp_plan_request new_req(int64_t procs, int64_t gib, int64_t io)
{
	return (struct dhp_plan_request){
		.processors = procs, .memory_mib = gib * GIB_MIB, .io_bridges = io, .socket = -1,
	};
}

/* The plan's units as "take: a b; give: c" for comparisons. */
static const char *units_text(const struct dhp_plan *plan)
{
	static char buf[2048];
	size_t pos = 0;

	buf[0] = 0;
	for (uint32_t s = 0; s < plan->n_steps; s++)
		for (uint32_t i = 0; i < plan->steps[s].n; i++)
			pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%s%s",
						pos ? " " : "", plan->steps[s].give_back ? "-" : "",
						tb.server->units[plan->units[plan->steps[s].first + i]].id);
	return buf;
}

static const char *plan_ok(const struct dhp_plan_request *req, struct dhp_plan *plan)
{
	struct dhp_error err = { 0 };
	char *before = tb_snapshot(&tb), *after;
	int r = dhp_core_plan(tb.core, req, plan, &err);

	CHECK_MSG(r == 0, "plan refused: %s", err.message);
	after = tb_snapshot(&tb);
	CHECK_MSG(before && after && !strcmp(before, after), "planning changed state");
	free(before);
	free(after);
	return r ? "" : units_text(plan);
}

static void plan_refused(const struct dhp_plan_request *req, int rc, const char *word)
{
	struct dhp_error err = { 0 };
	struct dhp_plan plan;
	int r = dhp_core_plan(tb.core, req, &plan, &err);

	CHECK_MSG(r == rc, "plan: %d (%s), expected %d", r, err.message, rc);
	CHECK_MSG(strstr(err.message, word), "message \"%s\" lacks \"%s\"", err.message, word);
}

static void test_locality(void)
{
	struct dhp_plan_request req = new_req(6, 8, 1);
	struct dhp_plan plan;

	tb_open_virtual(&tb, DEMO);
	CHECK_STR(plan_ok(&req, &plan), "s0-cpu0 s0-cpu1 s0-cpu2 s0-cpu3 s1-cpu0 s1-cpu1 "
		  "s0-mem0 s0-mem1 s0-mem2 s0-mem3 s0-iohb0");
	CHECK_INT(plan.home, 0);
	CHECK_INT(plan.n_take, 11);
	CHECK_INT(plan.n_steps, 4);
	CHECK_STR(plan.steps[0].reason, "socket 0 (home) has 4 free processors: 4 taken");
	/* topologies/demo: sockets 0 and 1 share a board (16), 2 is across (21). */
	CHECK_STR(plan.steps[1].reason,
		  "socket 1 (distance 16) has 4 free processors: gives the rest (2)");
	CHECK(strstr(plan.steps[2].reason, "4 taken (8 GiB)"));
	CHECK(strstr(plan.home_reason, "most free capacity"));
	/* A socket asked for is home; its board-mate (3) is nearest. */
	req.socket = 2;
	CHECK_STR(plan_ok(&req, &plan), "s2-cpu0 s2-cpu1 s2-cpu2 s2-cpu3 s3-cpu0 s3-cpu1 "
		  "s2-mem0 s2-mem1 s2-mem2 s2-mem3 s2-iohb0");
	/* The home socket is the one with most of what is asked. */
	CHECK_INT(tb_create(&tb, "a", "linux", "s0-cpu0 s0-cpu1 s0-cpu2 s0-mem0", NULL), 0);
	req = new_req(2, 2, 0);
	CHECK_STR(plan_ok(&req, &plan), "s1-cpu0 s1-cpu1 s1-mem0");
	CHECK_INT(plan.home, 1);
	tb_destroy(&tb);
}

static void test_distances(void)
{
	static const uint8_t table[16] = {
		10, 30, 20, 12,
		30, 10, 12, 20,
		20, 12, 10, 30,
		12, 20, 30, 10,
	};
	struct dhp_plan_request req = new_req(7, 10, 0);
	struct dhp_plan plan;

	tb_open_virtual(&tb, DEMO);
	free(tb.server->distances);	/* the demo's own table */
	tb.server->distances = malloc(sizeof(table));
	memcpy(tb.server->distances, table, sizeof(table));
	CHECK_STR(plan_ok(&req, &plan), "s0-cpu0 s0-cpu1 s0-cpu2 s0-cpu3 s3-cpu0 s3-cpu1 "
		  "s3-cpu2 s0-mem0 s0-mem1 s0-mem2 s0-mem3 s3-mem0");
	CHECK(strstr(plan.steps[1].reason, "socket 3 (distance 12)"));
	/* Next after 3 is 2 (20), not 1 (30). */
	req = new_req(12, 2, 0);
	CHECK_STR(plan_ok(&req, &plan), "s0-cpu0 s0-cpu1 s0-cpu2 s0-cpu3 s3-cpu0 s3-cpu1 "
		  "s3-cpu2 s3-cpu3 s2-cpu0 s2-cpu1 s2-cpu2 s2-cpu3 s0-mem0");
	tb_destroy(&tb);
}

static void test_spares_and_holds(void)
{
	struct dhp_plan_request req = new_req(1, 2, 0);
	struct dhp_plan plan, again;
	struct dhp_error err = { 0 };
	uint32_t held[2];
	const char *ids[] = { "s0-cpu2", "s0-mem1" };
	struct dhp_request create = { .verb = DHP_VERB_CREATE, .partition = "h", .units = ids,
				      .n_units = 2 };
	struct dhp_op op;

	tb_open_virtual(&tb, DEMO);
	dhp_server_unit(tb.server, "s0-cpu0")->spare = true;
	held[0] = dhp_server_unit_index(tb.server, dhp_server_unit(tb.server, "s0-cpu1"));
	held[1] = dhp_server_unit_index(tb.server, dhp_server_unit(tb.server, "s0-mem0"));
	CHECK_INT(dhp_core_reserve(tb.core, 7, held, 2, dhp_core_now(tb.core) + 60000, &err), 0);
	CHECK_STR(plan_ok(&req, &plan), "s0-cpu2 s0-mem1");
	/* Holds refuse the units to every request, and overlap is refused. */
	CHECK_INT(dhp_core_reserve(tb.core, 8, held, 1, dhp_core_now(tb.core) + 60000, &err),
		  -EBUSY);
	create.units = (const char *[]){ "s0-cpu1", "s0-mem3" };
	CHECK_INT(tb_do_req(&tb, &create, NULL, &err), -EBUSY);
	CHECK(strstr(err.message, "composition reservation 7"));
	/* The reservation's own request may take them; the planner too. */
	req.reservation = 7;
	CHECK_STR(plan_ok(&req, &again), "s0-cpu1 s0-mem0");
	create.reservation = 7;
	CHECK_INT(tb_do_req(&tb, &create, &op, &err), 0);
	CHECK_INT(op.state, DHP_OP_COMPLETED);
	/* A hold ends by itself at its time, and unreserve drops it. */
	dhp_core_unreserve(tb.core, 7);
	CHECK_INT(dhp_core_reserve(tb.core, 9, &held[1], 1, dhp_core_now(tb.core), &err), 0);
	req.reservation = 0;
	CHECK_STR(plan_ok(&req, &plan), "s0-cpu2 s0-mem0");
	/* Not enough: the message counts held and spare units. */
	CHECK_INT(dhp_core_reserve(tb.core, 10, &held[1], 1, dhp_core_now(tb.core) + 1000, &err),
		  0);
	req = new_req(15, 2, 0);
	plan_refused(&req, -ENOSPC, "1 spares");
	tb_destroy(&tb);
}

static void test_grow_shrink(void)
{
	struct dhp_plan_request req = { .partition = "b", .processors = DHP_PLAN_KEEP,
					.memory_mib = 2 * GIB_MIB, .io_bridges = DHP_PLAN_KEEP,
					.socket = -1 };
	struct dhp_plan plan;
	struct dhp_op op;
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "b", "linux", "s2-cpu0 s2-mem0 s2-mem1 s2-mem2 s3-mem0", NULL), 0);
	CHECK_INT(tb_do(&tb, DHP_VERB_START, "b", NULL, &op, &err), 0);
	CHECK(dhp_server_unit(tb.server, "s2-mem0")->boot);
	/* 8 GiB to 2: the farthest first, never the boot memory. */
	CHECK_STR(plan_ok(&req, &plan), "-s3-mem0 -s2-mem2 -s2-mem1");
	CHECK_INT(plan.home, 2);
	CHECK_INT(plan.n_give, 3);
	CHECK(strstr(plan.steps[0].reason, "gives back 1 memory module (2 GiB)"));
	/* Grow: the home socket first. */
	req.memory_mib = DHP_PLAN_KEEP;
	req.processors = 6;
	CHECK_STR(plan_ok(&req, &plan), "s2-cpu1 s2-cpu2 s2-cpu3 s3-cpu0 s3-cpu1");
	/* Both ways at once. */
	req.processors = 2;
	req.memory_mib = 12 * GIB_MIB;
	CHECK_STR(plan_ok(&req, &plan), "s2-cpu1 s2-mem3 s3-mem1");
	/* The boot module alone cannot be given back. */
	req = (struct dhp_plan_request){ .partition = "b", .processors = DHP_PLAN_KEEP,
					 .memory_mib = 1 * GIB_MIB, .io_bridges = DHP_PLAN_KEEP,
					 .socket = -1 };
	plan_refused(&req, -ERANGE, "boot memory");
	req.memory_mib = 3 * GIB_MIB;
	plan_refused(&req, -EINVAL, "nearest that can is 4 GiB");
	tb_destroy(&tb);
}

static void test_deterministic(void)
{
	struct dhp_plan_request req = new_req(9, 14, 2);
	struct dhp_plan a, b;

	tb_open_virtual(&tb, DEMO);
	plan_ok(&req, &a);
	for (int i = 0; i < 20; i++) {
		plan_ok(&req, &b);
		CHECK(!memcmp(&a, &b, sizeof(a)));
	}
	tb_destroy(&tb);
}

static void test_refusals(void)
{
	struct dhp_plan_request req;
	struct dhp_error err = { 0 };

	tb_open_virtual(&tb, DEMO);
	CHECK_INT(tb_create(&tb, "c", "linux", "s0-cpu0 s0-mem0", &err), 0);
	req = new_req(0, 2, 0);
	plan_refused(&req, -EINVAL, "at least one processor");
	req = new_req(1, 0, 0);
	plan_refused(&req, -EINVAL, "needs memory");
	req = new_req(-5, 2, 0);
	plan_refused(&req, -EINVAL, "negative");
	req = new_req(1, 2, -2);
	plan_refused(&req, -EINVAL, "negative");
	req = new_req(16, 2, 0);
	plan_refused(&req, -ENOSPC, "not enough free processors: 16 more asked, 15 free");
	req = new_req(1000000, 2, 0);
	plan_refused(&req, -ENOSPC, "processors");
	req = new_req(1, 3, 0);
	plan_refused(&req, -EINVAL, "3 GiB of memory cannot be made of whole free modules "
		     "(size 2 GiB): the nearest that can is 2 GiB");
	req = new_req(1, 1000, 0);
	plan_refused(&req, -ENOSPC, "not enough free memory");
	req = new_req(1, 0, 0);
	req.memory_mib = INT64_MAX;
	plan_refused(&req, -ENOSPC, "not enough free memory");
	req = new_req(1, 2, 5);
	plan_refused(&req, -ENOSPC, "I/O host bridges");
	req = new_req(1, 2, 0);
	req.socket = 4;
	plan_refused(&req, -EINVAL, "no socket 4");
	req.socket = 0;
	req.partition = "nope";
	plan_refused(&req, -ENOENT, "no partition \"nope\"");
	req = (struct dhp_plan_request){ .partition = "c", .processors = 0,
					 .memory_mib = DHP_PLAN_KEEP,
					 .io_bridges = DHP_PLAN_KEEP, .socket = -1 };
	plan_refused(&req, -ERANGE, "without a processor");
	req.processors = DHP_PLAN_KEEP;
	req.memory_mib = 0;
	plan_refused(&req, -ERANGE, "without a memory module");
	tb_destroy(&tb);
}

/* More units than one operation takes. */
static void test_too_big(void)
{
	struct dhp_plan_request req = new_req(65, 16, 0);

	tb_open_virtual(&tb, "topologies/large");
	plan_refused(&req, -E2BIG, "at most 64");
	req = new_req(60, 16 * 8, 0);
	plan_refused(&req, -E2BIG, "at most 64");
	tb_destroy(&tb);
}

int main(void)
{
	RUN(test_locality);
	RUN(test_distances);
	RUN(test_spares_and_holds);
	RUN(test_grow_shrink);
	RUN(test_deterministic);
	RUN(test_refusals);
	RUN(test_too_big);
	return test_done();
}
