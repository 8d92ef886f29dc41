/* SPDX-License-Identifier: MIT */
/*
 * The planner's memory (plan-internal.h): whole modules only. Making a
 * memory size is a bounded change-making problem, solved over the distinct
 * module sizes (few on any real server) with the fewest modules; the
 * modules chosen are then taken or given back by plan-steps.c.
 */
#include "core/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>

/* The distinct sizes of the memory modules in pool, largest first, with
 * how many of each (at most one operation's worth counts). */
static unsigned module_sizes(const struct planner *pl, const struct pool *pool,
			     uint64_t *sizes, unsigned *counts)
{
	uint32_t from = pool->start[DHP_UNIT_MEMORY * pl->n_sockets];
	uint32_t to = pool->start[(DHP_UNIT_MEMORY + 1) * pl->n_sockets];
	unsigned n = 0;

	for (uint32_t i = from; i < to; i++) {
		uint64_t b = pl->server->units[pool->idx[i]].size_bytes;
		unsigned z = 0;

		while (z < n && sizes[z] != b)
			z++;
		if (z == n) {
			if (n == MAX_SIZES || !b)
				continue;
			sizes[n] = b;
			counts[n++] = 0;
		}
		if (counts[z] < DHP_PLAN_MAX_UNITS)
			counts[z]++;
	}
	for (unsigned i = 1; i < n; i++)	/* insertion sort, largest first */
		for (unsigned j = i; j > 0 && sizes[j] > sizes[j - 1]; j--) {
			uint64_t b = sizes[j];
			unsigned c = counts[j];

			sizes[j] = sizes[j - 1], counts[j] = counts[j - 1];
			sizes[j - 1] = b, counts[j - 1] = c;
		}
	return n;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * How many modules of each size make exactly bytes with the fewest
 * modules (ties: the larger modules), into take[]. 0; -EINVAL when no
 * combination makes it (*ret_below: the largest size below that one can
 * make); -E2BIG when it takes more than max modules; -ENOMEM.
 */
static int make_size(const uint64_t *sizes, const unsigned *counts, unsigned n, uint64_t bytes,
		     unsigned max, unsigned *take, uint64_t *ret_below)
{
	uint64_t g = 0;
	size_t t;
	uint16_t *best;
	uint8_t *choice;
	int r = 0;

	for (unsigned i = 0; i < n; i++)
		g = gcd(g, sizes[i]);
	*ret_below = 0;
	if (!n)
		return -EINVAL;
	if (bytes / sizes[0] > max)	/* even the largest modules are too many */
		return -E2BIG;
	t = (size_t)(bytes / g);
	best = malloc((t + 1) * sizeof(*best));
	choice = malloc((size_t)n * (t + 1));
	if (!best || !choice) {
		free(best), free(choice);
		return -ENOMEM;
	}
	best[0] = 0;
	for (size_t v = 1; v <= t; v++)
		best[v] = UINT16_MAX;
	/* Smallest sizes first, so the larger ones, weighed last, win ties. */
	for (unsigned i = n; i-- > 0;) {
		size_t step = (size_t)(sizes[i] / g);

		for (size_t v = t + 1; v-- > 0;) {
			unsigned best_n = best[v], best_j = 0;

			for (unsigned j = 1; j <= counts[i] && j * step <= v; j++) {
				uint16_t before = best[v - j * step];

				if (before != UINT16_MAX && before + j <= best_n) {
					best_n = before + j;
					best_j = j;
				}
			}
			best[v] = (uint16_t)best_n;
			choice[(size_t)i * (t + 1) + v] = (uint8_t)best_j;
		}
	}
	if (bytes % g || best[t] == UINT16_MAX) {
		/* t itself when bytes is not a multiple of g (then t is below it) */
		for (size_t v = bytes % g ? t + 1 : t; v-- > 0;)
			if (best[v] != UINT16_MAX) {
				*ret_below = v * g;
				break;
			}
		r = -EINVAL;
	} else if (best[t] > max) {
		r = -E2BIG;
	} else {
		size_t v = t;

		for (unsigned i = 0; i < n; i++) {
			take[i] = choice[(size_t)i * (t + 1) + v];
			v -= take[i] * (size_t)(sizes[i] / g);
		}
	}
	free(best);
	free(choice);
	return r;
}

/* Memory: from have_bytes to want_bytes, in whole modules. */
int plan_memory(struct planner *pl, uint64_t want_bytes, unsigned room,
		struct dhp_error *err)
{
	bool grow = want_bytes > pl->have_bytes;
	uint64_t delta = grow ? want_bytes - pl->have_bytes : pl->have_bytes - want_bytes;
	const struct pool *pool = grow ? &pl->free : &pl->owned;
	uint64_t sizes[MAX_SIZES], below;
	unsigned counts[MAX_SIZES], take[MAX_SIZES], n_sizes;
	char a[24], b[24], list[128] = "";
	size_t pos = 0;
	int r;

	if (!delta)
		return 0;
	if (grow && delta > pl->free_bytes) {
		dhp_plan_size(delta, a, sizeof(a));
		dhp_plan_size(pl->free_bytes, b, sizeof(b));
		dhp_error_set(err, -ENOSPC, "not enough free memory: %s more asked, %s free in "
			      "%u modules%s", a, b, plan_pool_count(pool, pl, DHP_UNIT_MEMORY),
			      pl->held[DHP_UNIT_MEMORY] || pl->spares[DHP_UNIT_MEMORY] ?
			      " (others are held by reservations or spares)" : "");
		return dhp_error_resolve(err, "ask for less memory, or free some modules");
	}
	if (!grow && delta > pl->owned_bytes) {
		dhp_plan_size(delta, a, sizeof(a));
		dhp_plan_size(pl->owned_bytes, b, sizeof(b));
		dhp_error_set(err, -ERANGE, "partition \"%s\" can give back %s of memory, not %s "
			      "(its boot memory and busy modules stay)", pl->p->name, b, a);
		return dhp_error_resolve(err, "ask for more memory");
	}
	n_sizes = module_sizes(pl, pool, sizes, counts);
	r = make_size(sizes, counts, n_sizes, delta, room, take, &below);
	if (r == -E2BIG)
		return plan_too_many(room + 1ull, err);
	if (r == -ENOMEM)
		return dhp_error_set(err, r, "out of memory");
	if (r < 0) {
		for (unsigned z = 0; z < n_sizes && pos < sizeof(list); z++) {
			dhp_plan_size(sizes[z], a, sizeof(a));
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s",
						z ? ", " : "", a);
		}
		dhp_plan_size(want_bytes, a, sizeof(a));
		dhp_plan_size(grow ? pl->have_bytes + below : pl->have_bytes - below, b,
			      sizeof(b));
		dhp_error_set(err, -EINVAL, "%s of memory cannot be made of whole %s modules "
			      "(%s %s): the nearest that can is %s", a,
			      grow ? "free" : "removable", n_sizes == 1 ? "size" : "sizes", list, b);
		return dhp_error_resolve(err, "ask for a size the modules make");
	}
	if (grow)
		plan_take_memory(pl, sizes, take, n_sizes);
	else {
		unsigned n = 0;

		for (unsigned z = 0; z < n_sizes; z++)
			n += take[z];
		plan_give_units(pl, DHP_UNIT_MEMORY, n, take, sizes, n_sizes);
	}
	return 0;
}
