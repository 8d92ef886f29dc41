/* SPDX-License-Identifier: MIT */
/*
 * The planner's steps (plan-internal.h): the units of one type on one
 * socket, each with a reason a person can read. Taking fills a type
 * socket by socket, nearest to the home first (pl->order); giving back
 * goes the other way, the farthest first.
 */
#include "core/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const plan_plural[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "processors",
	[DHP_UNIT_MEMORY] = "memory modules",
	[DHP_UNIT_IO_HOST_BRIDGE] = "I/O host bridges",
};

static const char *type_words(enum dhp_unit_type type, uint64_t n)
{
	static const char *const singular[DHP_UNIT_TYPE_MAX] = {
		[DHP_UNIT_PROCESSOR] = "processor",
		[DHP_UNIT_MEMORY] = "memory module",
		[DHP_UNIT_IO_HOST_BRIDGE] = "I/O host bridge",
	};

	return n == 1 ? singular[type] : plan_plural[type];
}

void dhp_plan_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes % GIB == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(bytes / GIB));
	else if (bytes >= GIB)
		snprintf(buf, len, "%.2f GiB", (double)bytes / (double)GIB);
	else
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes / MIB));
}

static void where(const struct planner *pl, unsigned s, char *buf, size_t len)
{
	if (s == pl->plan->home)
		snprintf(buf, len, "socket %u (home)", s);
	else if (pl->mine[s])
		snprintf(buf, len, "socket %u (the partition's, distance %u)", s,
			 plan_dist(pl, pl->plan->home, s));
	else
		snprintf(buf, len, "socket %u (distance %u)", s, plan_dist(pl, pl->plan->home, s));
}

static struct dhp_plan_step *step_open(struct planner *pl, enum dhp_unit_type type,
				       unsigned socket, bool give_back)
{
	struct dhp_plan_step *st = &pl->plan->steps[pl->plan->n_steps++];

	*st = (struct dhp_plan_step){
		.type = type, .give_back = give_back, .socket = socket,
		.distance = plan_dist(pl, pl->plan->home, socket), .first = pl->plan->n_units,
	};
	return st;
}

static void step_add(struct planner *pl, struct dhp_plan_step *st, uint32_t unit)
{
	pl->plan->units[pl->plan->n_units++] = unit;
	st->n++;
	if (st->give_back)
		pl->plan->n_give++;
	else
		pl->plan->n_take++;
}

static uint64_t step_bytes(const struct planner *pl, const struct dhp_plan_step *st)
{
	uint64_t b = 0;

	for (uint32_t i = 0; i < st->n; i++)
		b += pl->server->units[pl->plan->units[st->first + i]].size_bytes;
	return b;
}

/* The reason of a step that takes units. */
static void reason_take(struct planner *pl, struct dhp_plan_step *st, uint32_t had,
			bool first, bool last)
{
	char at[64], size[32] = "";

	where(pl, st->socket, at, sizeof(at));
	if (st->type == DHP_UNIT_MEMORY) {
		char sz[24];

		dhp_plan_size(step_bytes(pl, st), sz, sizeof(sz));
		snprintf(size, sizeof(size), " (%s)", sz);
	}
	if (first)
		snprintf(st->reason, sizeof(st->reason), "%s has %u free %s: %u taken%s", at, had,
			 type_words(st->type, had), st->n, size);
	else
		snprintf(st->reason, sizeof(st->reason), "%s has %u free %s: gives %s%u%s%s", at,
			 had, type_words(st->type, had), last ? "the rest (" : "", st->n,
			 last ? ")" : " more", size);
}

/* Take need units of type (not memory), nearest sockets first. */
void plan_take_units(struct planner *pl, enum dhp_unit_type type, uint32_t need)
{
	bool first = true;

	for (unsigned o = 0; need && o < pl->n_sockets; o++) {
		unsigned s = pl->order[o];
		size_t k = type * pl->n_sockets + s;
		uint32_t had = pl->free.start[k + 1] - pl->free.start[k];
		struct dhp_plan_step *st;

		if (!had)
			continue;
		st = step_open(pl, type, s, false);
		for (uint32_t i = pl->free.start[k]; need && i < pl->free.start[k + 1]; i++, need--)
			step_add(pl, st, pl->free.idx[i]);
		reason_take(pl, st, had, first, !need);
		first = false;
	}
}

/* Take the modules take[] says, nearest sockets first. */
void plan_take_memory(struct planner *pl, const uint64_t *sizes, const unsigned *take,
		      unsigned n_sizes)
{
	unsigned left[MAX_SIZES], need = 0;
	bool first = true;

	memcpy(left, take, n_sizes * sizeof(*left));
	for (unsigned z = 0; z < n_sizes; z++)
		need += take[z];
	for (unsigned o = 0; need && o < pl->n_sockets; o++) {
		unsigned s = pl->order[o];
		size_t k = DHP_UNIT_MEMORY * pl->n_sockets + s;
		uint32_t had = pl->free.start[k + 1] - pl->free.start[k];
		struct dhp_plan_step *st = NULL;

		for (uint32_t i = pl->free.start[k]; need && i < pl->free.start[k + 1]; i++) {
			uint64_t b = pl->server->units[pl->free.idx[i]].size_bytes;
			unsigned z = 0;

			while (z < n_sizes && sizes[z] != b)
				z++;
			if (z == n_sizes || !left[z])
				continue;
			if (!st)
				st = step_open(pl, DHP_UNIT_MEMORY, s, false);
			step_add(pl, st, pl->free.idx[i]);
			left[z]--, need--;
		}
		if (st) {
			reason_take(pl, st, had, first, !need);
			first = false;
		}
	}
}

static const struct planner *sort_pl;	/* qsort has no context argument */

static int farther(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	unsigned dx = plan_dist(sort_pl, sort_pl->plan->home, x);
	unsigned dy = plan_dist(sort_pl, sort_pl->plan->home, y);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x > y ? -1 : 1;
}

/* Give back n units of type, the farthest from the home socket first
 * (ties: the higher socket; within a socket, the last units first). */
void plan_give_units(struct planner *pl, enum dhp_unit_type type, uint32_t n,
		     const unsigned *per_size, const uint64_t *sizes, unsigned n_sizes)
{
	unsigned left[MAX_SIZES];

	if (per_size)
		memcpy(left, per_size, n_sizes * sizeof(*left));
	for (unsigned s = 0; s < pl->n_sockets; s++)
		pl->far[s] = s;
	sort_pl = pl;
	qsort(pl->far, pl->n_sockets, sizeof(*pl->far), farther);
	sort_pl = NULL;
	for (unsigned o = 0; n && o < pl->n_sockets; o++) {
		unsigned s = pl->far[o];
		size_t k = type * pl->n_sockets + s;
		struct dhp_plan_step *st = NULL;
		char at[64], sz[32] = "";

		for (uint32_t i = pl->owned.start[k + 1]; n && i-- > pl->owned.start[k];) {
			const struct dhp_unit *u = &pl->server->units[pl->owned.idx[i]];
			unsigned z = 0;

			if (per_size) {
				while (z < n_sizes && sizes[z] != u->size_bytes)
					z++;
				if (z == n_sizes || !left[z])
					continue;
				left[z]--;
			}
			if (!st)
				st = step_open(pl, type, s, true);
			step_add(pl, st, pl->owned.idx[i]);
			n--;
		}
		if (!st)
			continue;
		where(pl, s, at, sizeof(at));
		if (type == DHP_UNIT_MEMORY) {
			char b[24];

			dhp_plan_size(step_bytes(pl, st), b, sizeof(b));
			snprintf(sz, sizeof(sz), " (%s)", b);
		}
		snprintf(st->reason, sizeof(st->reason), "%s gives back %u %s%s",
			 at, st->n, type_words(type, st->n), sz);
	}
}
