/* SPDX-License-Identifier: MIT */
/*
 * The locality figure (locality.h). Processors and memory are counted per
 * socket first, so the work is sockets², not processors × modules: a
 * partition of the large server may hold thousands of each.
 */
#include "model/locality.h"

#include <stdlib.h>


struct socket_sums {
	uint64_t *bytes;	/* memory per socket */
	uint32_t *cpus;		/* processors per socket */
};

static double figure(const struct dhp_server *server, const struct socket_sums *s)
{
	uint64_t total = 0, cpus = 0;
	double sum = 0;

	for (unsigned m = 0; m < server->n_sockets; m++)
		total += s->bytes[m];
	for (unsigned c = 0; c < server->n_sockets; c++)
		cpus += s->cpus[c];
	if (!total || !cpus)
		return DHP_LOCALITY_NONE;
	for (unsigned c = 0; c < server->n_sockets; c++) {
		if (!s->cpus[c])
			continue;
		for (unsigned m = 0; m < server->n_sockets; m++)
			if (s->bytes[m])
				sum += (double)s->cpus[c] * (double)s->bytes[m] *
				       DHP_DISTANCE_LOCAL / dhp_server_distance(server, c, m);
	}
	return sum / ((double)cpus * (double)total);
}

static void count(const struct dhp_unit *u, struct socket_sums *s)
{
	if (u->type == DHP_UNIT_PROCESSOR)
		s->cpus[u->socket]++;
	else if (u->type == DHP_UNIT_MEMORY)
		s->bytes[u->socket] += u->size_bytes;
}

/* Both counters in one allocation; NULL when out of memory. */
static void *sums_new(const struct dhp_server *server, struct socket_sums *s)
{
	size_t n = server->n_sockets ? server->n_sockets : 1;
	void *mem = calloc(n, sizeof(*s->bytes) + sizeof(*s->cpus));

	s->bytes = mem;
	s->cpus = mem ? (uint32_t *)(s->bytes + n) : NULL;
	return mem;
}

double dhp_locality_of_units(const struct dhp_server *server, const uint32_t *idx, size_t n)
{
	struct socket_sums s;
	void *mem = sums_new(server, &s);
	double r;

	/* Out of memory says nothing of the units: no figure. */
	if (!mem)
		return DHP_LOCALITY_NONE;
	for (size_t i = 0; i < n; i++)
		if (idx[i] < server->n_units)
			count(&server->units[idx[i]], &s);
	r = figure(server, &s);
	free(mem);
	return r;
}

double dhp_server_locality(const struct dhp_server *server, uint32_t partition)
{
	struct socket_sums s;
	void *mem = sums_new(server, &s);
	double r;

	if (!mem)
		return DHP_LOCALITY_NONE;
	for (size_t i = 0; i < server->n_units; i++)
		if (partition != DHP_NO_PARTITION && server->units[i].partition == partition)
			count(&server->units[i], &s);
	r = figure(server, &s);
	free(mem);
	return r;
}
