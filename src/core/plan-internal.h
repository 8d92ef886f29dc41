/* SPDX-License-Identifier: MIT */
/*
 * Private to the placement planner (src/core/plan*.c), which is split by
 * job:
 *
 *   plan.c         dhp_plan_compute(): request checks, the home socket,
 *                  the socket order, and the plan for each unit type
 *   plan-pool.c    the pools of units that may be taken or given back,
 *                  and what the partition has (one pass over the units)
 *   plan-steps.c   steps and their reasons: taking units nearest socket
 *                  first, giving them back farthest first
 *   plan-memory.c  memory: the module sizes and the change-making that
 *                  makes a size of whole modules
 *
 * All of them work on one struct planner, built and released by plan.c.
 */
#ifndef DHP_CORE_PLAN_INTERNAL_H
#define DHP_CORE_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/plan.h"
#include "model/server.h"

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

static inline unsigned plan_dist(const struct planner *pl, unsigned a, unsigned b)
{
	return dhp_server_distance(pl->server, a, b);
}

/* --- plan.c ---------------------------------------------------------------- */

/* -E2BIG: the plan needs n units or more, more than one operation takes. */
int plan_too_many(uint64_t n, struct dhp_error *err);

/* --- plan-pool.c ----------------------------------------------------------- */

/* pl->free (units that may be taken) and pl->owned (units that may be given
 * back); 0 or -ENOMEM, leaving what was built for plan_pools_release(). */
int plan_pools_build(struct planner *pl);
void plan_pools_release(struct planner *pl);

/* Units of type on socket in pool; units of type in pool. */
uint32_t plan_bucket_size(const struct pool *pool, const struct planner *pl,
			  enum dhp_unit_type type, unsigned socket);
uint32_t plan_pool_count(const struct pool *pool, const struct planner *pl,
			 enum dhp_unit_type type);

/* Fill pl->have, have_bytes, mine, held, spares, free_bytes, owned_bytes. */
void plan_count(struct planner *pl);

/* --- plan-steps.c ---------------------------------------------------------- */

extern const char *const plan_plural[DHP_UNIT_TYPE_MAX];	/* "processors" */

/* Take need units of type (not memory), nearest sockets first. */
void plan_take_units(struct planner *pl, enum dhp_unit_type type, uint32_t need);

/* Take the modules take[] says (per size in sizes[]), nearest sockets first. */
void plan_take_memory(struct planner *pl, const uint64_t *sizes, const unsigned *take,
		      unsigned n_sizes);

/* Give back n units of type, farthest first; with per_size, only so many
 * of each size in sizes[]. */
void plan_give_units(struct planner *pl, enum dhp_unit_type type, uint32_t n,
		     const unsigned *per_size, const uint64_t *sizes, unsigned n_sizes);

/* --- plan-memory.c --------------------------------------------------------- */

/* Memory: from have_bytes to want_bytes, in whole modules, in at most room
 * units. 0 or an error for dhp_plan_compute(). */
int plan_memory(struct planner *pl, uint64_t want_bytes, unsigned room,
		struct dhp_error *err);

#endif
