/* SPDX-License-Identifier: MIT */
/*
 * The placement planner (plan.h): locality first, whole memory modules,
 * a reason per step. One pass over the units sorts the ones that may be
 * taken (and, for a shrink, the ones that may be given back) by type and
 * socket (plan-pool.c); the sockets are ordered by distance once (here);
 * then each type is filled socket by socket (plan-steps.c). Memory sizes
 * are a bounded change-making problem, solved over the distinct module
 * sizes, few on any real server (plan-memory.c).
 *
 * This file: dhp_plan_compute(), its request checks, the home socket, the
 * socket order, and what each unit type needs; plan-internal.h maps the
 * rest.
 */
#include "core/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>

static int check_request(const struct dhp_server *server, const struct dhp_plan_request *req,
			 const struct dhp_partition *p, struct dhp_error *err)
{
	const struct { const char *what; int64_t n; } nums[] = {
		{ "processors", req->processors },
		{ "memory", req->memory_mib },
		{ "I/O host bridges", req->io_bridges },
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (nums[i].n < 0 && nums[i].n != DHP_PLAN_KEEP)
			return dhp_error_set(err, -EINVAL, "%s: %lld is negative", nums[i].what,
					     (long long)nums[i].n);
	if (req->socket < -1 || (req->socket >= 0 && (unsigned)req->socket >= server->n_sockets))
		return dhp_error_set(err, -EINVAL, "no socket %d in server %s (sockets 0 to %u)",
				     req->socket, server->name,
				     server->n_sockets ? server->n_sockets - 1 : 0);
	if (!p && req->processors <= 0) {
		dhp_error_set(err, -EINVAL, "a new partition needs at least one processor");
		return dhp_error_resolve(err, "ask for one processor or more");
	}
	if (!p && req->memory_mib <= 0) {
		dhp_error_set(err, -EINVAL, "a new partition needs memory");
		return dhp_error_resolve(err, "ask for the memory of one module or more");
	}
	for (int t = DHP_UNIT_PROCESSOR; p && t <= DHP_UNIT_MEMORY; t++)
		if ((t == DHP_UNIT_PROCESSOR ? req->processors : req->memory_mib) == 0) {
			dhp_error_set(err, -ERANGE, "partition \"%s\" would be left without a %s",
				      p->name, t == DHP_UNIT_PROCESSOR ? "processor" : "memory module");
			return dhp_error_resolve(err, "keep one at least");
		}
	return 0;
}

/* The home socket: asked for, the partition's, or the one that can give
 * most of what is asked. */
static void choose_home(struct planner *pl, const int64_t want[DHP_UNIT_TYPE_MAX],
			uint64_t want_bytes)
{
	struct dhp_plan *plan = pl->plan;
	uint64_t best = 0;
	bool any = false;

	if (pl->req->socket >= 0) {
		plan->home = (unsigned)pl->req->socket;
		snprintf(plan->home_reason, sizeof(plan->home_reason),
			 "socket %u: the socket asked for", plan->home);
		return;
	}
	for (unsigned s = 0; s < pl->n_sockets; s++)
		any = any || pl->mine[s];
	if (any) {
		unsigned home = 0;

		for (unsigned s = 1; s < pl->n_sockets; s++)
			if (pl->mine[s] > pl->mine[home])
				home = s;
		plan->home = home;
		snprintf(plan->home_reason, sizeof(plan->home_reason),
			 "socket %u: it holds most of partition \"%s\"", home, pl->p->name);
		return;
	}
	/* Each asked type scores the share of it the socket can give. */
	plan->home = 0;
	for (unsigned s = 0; s < pl->n_sockets; s++) {
		uint64_t score = 0;

		for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++) {
			uint64_t asked = (uint64_t)want[t], can = 0;

			if (want[t] <= 0)
				continue;
			if (t == DHP_UNIT_MEMORY) {
				size_t k = DHP_UNIT_MEMORY * pl->n_sockets + s;

				for (uint32_t i = pl->free.start[k]; i < pl->free.start[k + 1]; i++)
					can += pl->server->units[pl->free.idx[i]].size_bytes;
				asked = want_bytes;
			} else {
				can = plan_bucket_size(&pl->free, pl, (enum dhp_unit_type)t, s);
			}
			score += (can < asked ? can : asked) * 1000000 / asked;
		}
		if (score > best) {
			best = score;
			plan->home = s;
		}
	}
	snprintf(plan->home_reason, sizeof(plan->home_reason),
		 "socket %u: the most free capacity of what is asked", plan->home);
}

static unsigned home_distance(const struct planner *pl, unsigned s)
{
	unsigned d = plan_dist(pl, pl->plan->home, s);

	for (unsigned h = 0; h < pl->n_sockets; h++)
		if (pl->mine[h] && plan_dist(pl, h, s) < d)
			d = plan_dist(pl, h, s);
	return d;
}

static const struct planner *sort_pl;	/* qsort has no context argument */

static int nearer(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	unsigned dx = home_distance(sort_pl, x), dy = home_distance(sort_pl, y);

	if (x == sort_pl->plan->home || y == sort_pl->plan->home)
		return x == sort_pl->plan->home ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	dx = plan_dist(sort_pl, sort_pl->plan->home, x);
	dy = plan_dist(sort_pl, sort_pl->plan->home, y);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x < y ? -1 : 1;
}

static void order_sockets(struct planner *pl)
{
	for (unsigned s = 0; s < pl->n_sockets; s++)
		pl->order[s] = s;
	sort_pl = pl;
	qsort(pl->order, pl->n_sockets, sizeof(*pl->order), nearer);
	sort_pl = NULL;
}

static int not_enough(struct planner *pl, enum dhp_unit_type type, uint64_t asked,
		      uint64_t free_n, struct dhp_error *err)
{
	char extra[96] = "";

	if (pl->held[type] || pl->spares[type])
		snprintf(extra, sizeof(extra), " (%u more held by reservations, %u spares)",
			 pl->held[type], pl->spares[type]);
	dhp_error_set(err, -ENOSPC, "not enough free %s: %llu more asked, %llu free%s",
		      plan_plural[type], (unsigned long long)asked, (unsigned long long)free_n, extra);
	return dhp_error_resolve(err, "ask for fewer, free some %s, or wait for a reservation "
				 "to end", plan_plural[type]);
}

int plan_too_many(uint64_t n, struct dhp_error *err)
{
	dhp_error_set(err, -E2BIG, "the plan needs %llu units or more; one operation takes at "
		      "most %d", (unsigned long long)n, DHP_PLAN_MAX_UNITS);
	return dhp_error_resolve(err, "ask for less now and grow the partition afterwards");
}

static void planner_release(struct planner *pl)
{
	plan_pools_release(pl);
	free(pl->mine);
	free(pl->order);
	free(pl->far);
}

static int plan_run(struct planner *pl, struct dhp_error *err)
{
	const struct dhp_plan_request *req = pl->req;
	int64_t asked[DHP_UNIT_TYPE_MAX] = { req->processors, req->memory_mib, req->io_bridges };
	int64_t want[DHP_UNIT_TYPE_MAX];
	uint64_t want_bytes, need_units = 0, total_bytes;

	plan_count(pl);
	total_bytes = pl->free_bytes + pl->have_bytes;
	if (asked[DHP_UNIT_MEMORY] != DHP_PLAN_KEEP &&
	    (uint64_t)asked[DHP_UNIT_MEMORY] > total_bytes / MIB)
		want_bytes = total_bytes + 1;	/* more than there is: not_enough below */
	else
		want_bytes = asked[DHP_UNIT_MEMORY] == DHP_PLAN_KEEP ? pl->have_bytes :
			     (uint64_t)asked[DHP_UNIT_MEMORY] * MIB;
	for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++)
		want[t] = asked[t] == DHP_PLAN_KEEP ? pl->have[t] : asked[t];
	choose_home(pl, want, want_bytes);
	order_sockets(pl);
	for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++) {
		uint64_t have = pl->have[t], w = (uint64_t)want[t], free_n;

		if (t == DHP_UNIT_MEMORY)
			continue;
		free_n = plan_pool_count(&pl->free, pl, (enum dhp_unit_type)t);
		if (w > have && w - have > free_n)
			return not_enough(pl, (enum dhp_unit_type)t, w - have, free_n, err);
		if (w < have && have - w > plan_pool_count(&pl->owned, pl, (enum dhp_unit_type)t)) {
			dhp_error_set(err, -EBUSY, "partition \"%s\" cannot give back %llu %s now: "
				      "some are busy or staged to leave", pl->p->name,
				      (unsigned long long)(have - w), plan_plural[t]);
			return dhp_error_resolve(err, "wait for its operations to end, then retry");
		}
		need_units += w > have ? w - have : have - w;
	}
	if (need_units > DHP_PLAN_MAX_UNITS)
		return plan_too_many(need_units, err);
	for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++) {
		uint64_t have = pl->have[t], w = (uint64_t)want[t];

		if (t == DHP_UNIT_MEMORY) {
			int r = plan_memory(pl, want_bytes, DHP_PLAN_MAX_UNITS - (unsigned)need_units,
					    err);

			if (r < 0)
				return r;
		} else if (w > have) {
			plan_take_units(pl, (enum dhp_unit_type)t, (uint32_t)(w - have));
		} else if (w < have) {
			plan_give_units(pl, (enum dhp_unit_type)t, (uint32_t)(have - w), NULL, NULL, 0);
		}
	}
	return 0;
}

int dhp_plan_compute(const struct dhp_server *server, const struct dhp_plan_request *req,
		     struct dhp_plan *ret_plan, struct dhp_error *err)
{
	struct dhp_error local = { 0 };
	struct dhp_partition *p = NULL;
	struct planner pl = { .server = server, .req = req };
	struct dhp_plan *plan;
	int r;

	if (!err)
		err = &local;	/* dhp_error_resolve() needs one */
	if (req->partition) {
		p = dhp_server_partition_by_name((struct dhp_server *)server, req->partition);
		if (!p) {
			dhp_error_set(err, -ENOENT, "no partition \"%s\"", req->partition);
			return dhp_error_resolve(err, "list partitions to see their names");
		}
	}
	r = check_request(server, req, p, err);
	if (r < 0)
		return r;
	plan = calloc(1, sizeof(*plan));
	pl.p = p;
	pl.plan = plan;
	pl.n_sockets = server->n_sockets ? server->n_sockets : 1;
	pl.mine = calloc(pl.n_sockets, sizeof(*pl.mine));
	pl.order = calloc(pl.n_sockets, sizeof(*pl.order));
	pl.far = calloc(pl.n_sockets, sizeof(*pl.far));
	if (!plan || !pl.mine || !pl.order || !pl.far || plan_pools_build(&pl) < 0)
		r = dhp_error_set(err, -ENOMEM, "out of memory");
	else
		r = plan_run(&pl, err);
	if (!r)
		*ret_plan = *plan;
	free(plan);
	planner_release(&pl);
	return r;
}
