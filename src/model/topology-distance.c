/* SPDX-License-Identifier: MIT */
/*
 * Distance lines of a topology (docs/topology.md): the NUMA distance
 * between sockets, in ACPI SLIT units (10 is a socket to itself), which
 * placement chooses by and QEMU guests see (-numa dist).
 *
 *   distance A B VALUE     every socket of A to every other socket of B
 *
 * A and B are sockets or ranges, so a large server's two-level table is a
 * few lines (a far default for every pair, then the near groups). A line
 * sets both directions: the table is symmetric by construction, as the
 * links between sockets are. Later lines override earlier ones.
 */
#include "model/topology-internal.h"

#include <stdlib.h>

#define AT(a, b) ((size_t)(a) * TOPO_SOCKETS_MAX + (b))

static int socket_range(struct parser *ps, struct cursor *c, const char *which,
			unsigned *ret_lo, unsigned *ret_hi)
{
	struct span w;

	if (!topo_next_word(c, &w))
		return topo_fail(ps, "\"distance\" needs two sockets (or ranges A-B) and a value, "
				 "e.g. \"distance 0 1 21\"");
	if (!topo_span_range(w, TOPO_SOCKETS_MAX - 1, ret_lo, ret_hi))
		return topo_fail(ps, "bad %s socket \"" SPAN_FMT "\" (a number or a range A-B of 0 to %u)",
				 which, SPAN_ARG(w), TOPO_SOCKETS_MAX - 1);
	return 0;
}

static int distance_value(struct parser *ps, struct cursor *c, unsigned *ret)
{
	struct span w, extra;
	uint64_t v;

	if (!topo_next_word(c, &w))
		return topo_fail(ps, "\"distance\" needs a value after the two sockets");
	/* 10 is a socket to itself only; 255 means unreachable in ACPI. */
	if (!topo_span_uint(w, 999, &v) || v <= DHP_DISTANCE_LOCAL || v > TOPO_DISTANCE_MAX)
		return topo_fail(ps, "distance \"" SPAN_FMT "\" is not a number from %u to %u "
				 "(%u is a socket to itself)", SPAN_ARG(w), DHP_DISTANCE_LOCAL + 1,
				 TOPO_DISTANCE_MAX, DHP_DISTANCE_LOCAL);
	if (topo_next_word(c, &extra))
		return topo_fail(ps, "trailing garbage \"" SPAN_FMT "\" after the distance",
				 SPAN_ARG(extra));
	*ret = (unsigned)v;
	return 0;
}

static void name_sockets(struct parser *ps, unsigned lo, unsigned hi)
{
	for (unsigned s = lo; s <= hi; s++)
		if (!ps->dist_socket_line[s])
			ps->dist_socket_line[s] = ps->line;
}

int topo_parse_distance_line(struct parser *ps, struct cursor *c)
{
	unsigned alo, ahi, blo, bhi, v = 0;
	int r = socket_range(ps, c, "first", &alo, &ahi) ?:
		socket_range(ps, c, "second", &blo, &bhi) ?: distance_value(ps, c, &v);

	if (r)
		return r;
	if (alo == ahi && blo == bhi && alo == blo)
		return topo_fail(ps, "the distance of socket %u to itself is always %u",
				 alo, DHP_DISTANCE_LOCAL);
	if (!ps->dist) {
		ps->dist = calloc((size_t)TOPO_SOCKETS_MAX * TOPO_SOCKETS_MAX, 1);
		if (!ps->dist)
			return dhp_error_set(ps->err, -ENOMEM, "%s:%u: out of memory",
					     ps->name, ps->line);
		ps->dist_line = ps->line;
	}
	for (unsigned a = alo; a <= ahi; a++)
		for (unsigned b = blo; b <= bhi; b++)
			if (a != b)
				ps->dist[AT(a, b)] = ps->dist[AT(b, a)] = (uint8_t)v;
	name_sockets(ps, alo, ahi);
	name_sockets(ps, blo, bhi);
	return 0;
}

/* Every socket named is defined, every pair of defined sockets has a
 * distance: a table that leaves one out is a mistake, not a default. */
static int check_table(struct parser *ps, unsigned *ret_far)
{
	unsigned n = ps->server->n_sockets;

	*ret_far = DHP_DISTANCE_LOCAL + 1;
	for (unsigned s = 0; s < TOPO_SOCKETS_MAX; s++)
		if (ps->dist_socket_line[s] && !ps->socket_line[s])
			return topo_fail_at(ps, ps->dist_socket_line[s],
					    "distance to socket %u, which no socket line defines", s);
	for (unsigned a = 0; a < n; a++)
		for (unsigned b = a + 1; b < n; b++) {
			if (!ps->socket_line[a] || !ps->socket_line[b])
				continue;
			if (!ps->dist[AT(a, b)])
				return topo_fail_at(ps, ps->dist_line,
						    "no distance between sockets %u and %u (a table "
						    "starting here must give every pair of sockets)", a, b);
			if (ps->dist[AT(a, b)] > *ret_far)
				*ret_far = ps->dist[AT(a, b)];
		}
	return 0;
}

int topo_finish_distances(struct parser *ps)
{
	unsigned n = ps->server ? ps->server->n_sockets : 0, far;
	uint8_t *table;
	int r;

	if (!ps->dist || !n)
		return 0;
	if ((r = check_table(ps, &far)))
		return r;
	table = malloc((size_t)n * n);
	if (!table)
		return dhp_error_set(ps->err, -ENOMEM, "%s: out of memory", ps->name);
	/* A socket number left out (sockets need not be contiguous) has no
	 * units; it is as far as the farthest pair, so that nothing prefers it. */
	for (unsigned a = 0; a < n; a++)
		for (unsigned b = 0; b < n; b++)
			table[(size_t)a * n + b] =
				a == b ? DHP_DISTANCE_LOCAL
				: ps->socket_line[a] && ps->socket_line[b] ? ps->dist[AT(a, b)]
				: (uint8_t)far;
	ps->server->distances = table;
	return 0;
}
