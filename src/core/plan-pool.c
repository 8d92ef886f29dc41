/* SPDX-License-Identifier: MIT */
/*
 * The planner's pools (plan-internal.h): one pass over the units sorts the
 * ones that may be taken (and, for a shrink, the ones that may be given
 * back) by type and socket, so that filling a type socket by socket reads
 * one bucket at a time; and one more pass counts what the partition has
 * and what is not free for it.
 */
#include "core/plan-internal.h"

#include <stdlib.h>
#include <string.h>

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

int plan_pools_build(struct planner *pl)
{
	if (pool_build(pl, &pl->free, takeable) < 0 || pool_build(pl, &pl->owned, removable) < 0)
		return -ENOMEM;
	return 0;
}

static void pool_release(struct pool *pool)
{
	free(pool->idx);
	free(pool->start);
}

void plan_pools_release(struct planner *pl)
{
	pool_release(&pl->free);
	pool_release(&pl->owned);
}

uint32_t plan_bucket_size(const struct pool *pool, const struct planner *pl,
			  enum dhp_unit_type type, unsigned socket)
{
	size_t k = type * pl->n_sockets + socket;

	return pool->start[k + 1] - pool->start[k];
}

uint32_t plan_pool_count(const struct pool *pool, const struct planner *pl,
			 enum dhp_unit_type type)
{
	return pool->start[(type + 1) * pl->n_sockets] - pool->start[type * pl->n_sockets];
}

/* What the partition has and what is not free for us, in one pass. */
void plan_count(struct planner *pl)
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
