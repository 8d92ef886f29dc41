/* SPDX-License-Identifier: MIT */
/*
 * The placement planner (plan.h): locality first, whole memory modules,
 * a reason per step. One pass over the units sorts the ones that may be
 * taken (and, for a shrink, the ones that may be given back) by type and
 * socket; the sockets are ordered by distance once; then each type is
 * filled socket by socket. Memory sizes are a bounded change-making
 * problem, solved over the distinct module sizes (few on any real server).
 */
#include "core/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB (1ull << 30)
#define MIB (1ull << 20)
#define MAX_SIZES 16		/* distinct module sizes the planner weighs */

/* Units of one kind by type and socket: idx[start[k] .. start[k + 1]) for
 * k = type * n_sockets + socket, each bucket in topology order. */
struct pool {
	uint32_t *idx;
	uint32_t *start;
};

struct planner {
	const struct dhp_server *server;
	const struct dhp_plan_request *req;
	const struct dhp_partition *p;	/* NULL: a new partition */
	unsigned n_sockets;
	unsigned *mine;			/* per socket: units of the partition there */
	unsigned *order;		/* sockets, nearest to the home first */
	unsigned *far;			/* sockets, farthest from the home first */
	struct pool free, owned;
	unsigned have[DHP_UNIT_TYPE_MAX];	/* units of the partition */
	uint64_t have_bytes;			/* its memory */
	unsigned held[DHP_UNIT_TYPE_MAX], spares[DHP_UNIT_TYPE_MAX];	/* not free for us */
	uint64_t free_bytes, owned_bytes;	/* takeable / removable memory */
	struct dhp_plan *plan;
};

static const char *const plural[DHP_UNIT_TYPE_MAX] = {
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

	return n == 1 ? singular[type] : plural[type];
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

/* May the plan take u for the partition? */
static bool takeable(const struct planner *pl, const struct dhp_unit *u)
{
	return dhp_unit_is_free(u) && u->health == DHP_HEALTH_OK && !u->spare &&
	       !dhp_unit_held(u, pl->req->now_ms, pl->req->reservation);
}

/* May the plan give u back? The boot memory of a running partition stays. */
static bool removable(const struct planner *pl, const struct dhp_unit *u)
{
	return pl->p && u->partition == pl->p->id && !u->staged_remove && !u->boot &&
	       !u->busy_op;
}

static int pool_build(struct planner *pl, struct pool *pool,
		      bool (*pick)(const struct planner *, const struct dhp_unit *))
{
	const struct dhp_server *server = pl->server;
	size_t n_keys = (size_t)DHP_UNIT_TYPE_MAX * pl->n_sockets;

	pool->start = calloc(n_keys + 1, sizeof(*pool->start));
	pool->idx = malloc((server->n_units ? server->n_units : 1) * sizeof(*pool->idx));
	if (!pool->start || !pool->idx)
		return -ENOMEM;
	for (size_t i = 0; i < server->n_units; i++)
		if (pick(pl, &server->units[i]))
			pool->start[server->units[i].type * pl->n_sockets +
				    server->units[i].socket + 1]++;
	for (size_t k = 0; k < n_keys; k++)
		pool->start[k + 1] += pool->start[k];
	{
		uint32_t *fill = malloc((n_keys + 1) * sizeof(*fill));

		if (!fill)
			return -ENOMEM;
		memcpy(fill, pool->start, (n_keys + 1) * sizeof(*fill));
		for (size_t i = 0; i < server->n_units; i++)
			if (pick(pl, &server->units[i]))
				pool->idx[fill[server->units[i].type * pl->n_sockets +
					       server->units[i].socket]++] = (uint32_t)i;
		free(fill);
	}
	return 0;
}

static void pool_release(struct pool *pool)
{
	free(pool->idx);
	free(pool->start);
}

static uint32_t bucket_size(const struct pool *pool, const struct planner *pl,
			    enum dhp_unit_type type, unsigned socket)
{
	size_t k = type * pl->n_sockets + socket;

	return pool->start[k + 1] - pool->start[k];
}

static uint32_t pool_count(const struct pool *pool, const struct planner *pl,
			   enum dhp_unit_type type)
{
	return pool->start[(type + 1) * pl->n_sockets] - pool->start[type * pl->n_sockets];
}

/* What the partition has and what is not free for us, in one pass. */
static void count(struct planner *pl)
{
	for (size_t i = 0; i < pl->server->n_units; i++) {
		const struct dhp_unit *u = &pl->server->units[i];

		if (pl->p && ((u->partition == pl->p->id && !u->staged_remove) ||
			      u->staged_partition == pl->p->id)) {
			pl->have[u->type]++;
			if (u->type == DHP_UNIT_MEMORY)
				pl->have_bytes += u->size_bytes;
			pl->mine[u->socket]++;
		}
		if (dhp_unit_is_free(u) && u->health == DHP_HEALTH_OK) {
			if (u->spare)
				pl->spares[u->type]++;
			else if (dhp_unit_held(u, pl->req->now_ms, pl->req->reservation))
				pl->held[u->type]++;
		}
		if (u->type == DHP_UNIT_MEMORY && takeable(pl, u))
			pl->free_bytes += u->size_bytes;
		if (u->type == DHP_UNIT_MEMORY && removable(pl, u))
			pl->owned_bytes += u->size_bytes;
	}
}

static unsigned dist(const struct planner *pl, unsigned a, unsigned b)
{
	return dhp_server_distance(pl->server, a, b);
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
				can = bucket_size(&pl->free, pl, (enum dhp_unit_type)t, s);
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
	unsigned d = dist(pl, pl->plan->home, s);

	for (unsigned h = 0; h < pl->n_sockets; h++)
		if (pl->mine[h] && dist(pl, h, s) < d)
			d = dist(pl, h, s);
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
	dx = dist(sort_pl, sort_pl->plan->home, x), dy = dist(sort_pl, sort_pl->plan->home, y);
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

static void where(const struct planner *pl, unsigned s, char *buf, size_t len)
{
	if (s == pl->plan->home)
		snprintf(buf, len, "socket %u (home)", s);
	else if (pl->mine[s])
		snprintf(buf, len, "socket %u (the partition's, distance %u)", s,
			 dist(pl, pl->plan->home, s));
	else
		snprintf(buf, len, "socket %u (distance %u)", s, dist(pl, pl->plan->home, s));
}

static struct dhp_plan_step *step_open(struct planner *pl, enum dhp_unit_type type,
				       unsigned socket, bool give_back)
{
	struct dhp_plan_step *st = &pl->plan->steps[pl->plan->n_steps++];

	*st = (struct dhp_plan_step){
		.type = type, .give_back = give_back, .socket = socket,
		.distance = dist(pl, pl->plan->home, socket), .first = pl->plan->n_units,
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
static void take_units(struct planner *pl, enum dhp_unit_type type, uint32_t need)
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

static int farther(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	unsigned dx = dist(sort_pl, sort_pl->plan->home, x), dy = dist(sort_pl, sort_pl->plan->home, y);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x > y ? -1 : 1;
}

/* Give back n units of type, the farthest from the home socket first
 * (ties: the higher socket; within a socket, the last units first). */
static void give_units(struct planner *pl, enum dhp_unit_type type, uint32_t n,
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

/* Take the modules take[] says, nearest sockets first. */
static void take_memory(struct planner *pl, const uint64_t *sizes, const unsigned *take,
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

static int not_enough(struct planner *pl, enum dhp_unit_type type, uint64_t asked,
		      uint64_t free_n, struct dhp_error *err)
{
	char extra[96] = "";

	if (pl->held[type] || pl->spares[type])
		snprintf(extra, sizeof(extra), " (%u more held by reservations, %u spares)",
			 pl->held[type], pl->spares[type]);
	dhp_error_set(err, -ENOSPC, "not enough free %s: %llu more asked, %llu free%s",
		      plural[type], (unsigned long long)asked, (unsigned long long)free_n, extra);
	return dhp_error_resolve(err, "ask for fewer, free some %s, or wait for a reservation "
				 "to end", plural[type]);
}

static int too_many(uint64_t n, struct dhp_error *err)
{
	dhp_error_set(err, -E2BIG, "the plan needs %llu units or more; one operation takes at "
		      "most %d", (unsigned long long)n, DHP_PLAN_MAX_UNITS);
	return dhp_error_resolve(err, "ask for less now and grow the partition afterwards");
}

/* Memory: from have_bytes to want_bytes, in whole modules. */
static int plan_memory(struct planner *pl, uint64_t want_bytes, unsigned room,
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
			      "%u modules%s", a, b, pool_count(pool, pl, DHP_UNIT_MEMORY),
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
		return too_many(room + 1ull, err);
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
		take_memory(pl, sizes, take, n_sizes);
	else {
		unsigned n = 0;

		for (unsigned z = 0; z < n_sizes; z++)
			n += take[z];
		give_units(pl, DHP_UNIT_MEMORY, n, take, sizes, n_sizes);
	}
	return 0;
}

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

static void planner_release(struct planner *pl)
{
	pool_release(&pl->free);
	pool_release(&pl->owned);
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

	count(pl);
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
		free_n = pool_count(&pl->free, pl, (enum dhp_unit_type)t);
		if (w > have && w - have > free_n)
			return not_enough(pl, (enum dhp_unit_type)t, w - have, free_n, err);
		if (w < have && have - w > pool_count(&pl->owned, pl, (enum dhp_unit_type)t)) {
			dhp_error_set(err, -EBUSY, "partition \"%s\" cannot give back %llu %s now: "
				      "some are busy or staged to leave", pl->p->name,
				      (unsigned long long)(have - w), plural[t]);
			return dhp_error_resolve(err, "wait for its operations to end, then retry");
		}
		need_units += w > have ? w - have : have - w;
	}
	if (need_units > DHP_PLAN_MAX_UNITS)
		return too_many(need_units, err);
	for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++) {
		uint64_t have = pl->have[t], w = (uint64_t)want[t];

		if (t == DHP_UNIT_MEMORY) {
			int r = plan_memory(pl, want_bytes, DHP_PLAN_MAX_UNITS - (unsigned)need_units,
					    err);

			if (r < 0)
				return r;
		} else if (w > have) {
			take_units(pl, (enum dhp_unit_type)t, (uint32_t)(w - have));
		} else if (w < have) {
			give_units(pl, (enum dhp_unit_type)t, (uint32_t)(have - w), NULL, NULL, 0);
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
	if (!plan || !pl.mine || !pl.order || !pl.far || pool_build(&pl, &pl.free, takeable) < 0 ||
	    pool_build(&pl, &pl.owned, removable) < 0)
		r = dhp_error_set(err, -ENOMEM, "out of memory");
	else
		r = plan_run(&pl, err);
	if (!r)
		*ret_plan = *plan;
	free(plan);
	planner_release(&pl);
	return r;
}
