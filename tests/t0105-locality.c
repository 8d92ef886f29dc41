/* SPDX-License-Identifier: MIT */
/*
 * The locality figure (model/locality.h, docs/redfish.md): 1.0 for memory
 * local to every processor, the distance ratio for remote memory, the
 * size- and processor-weighted mean for a mix, none without a processor
 * or memory, and the same from a list of units as from a partition.
 * Run from the repository root.
 */
#include "harness.h"
#include "model/locality.h"
#include "model/topology.h"

#include <math.h>
#include <stdint.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static struct dhp_server *demo;

static void own(const char *id, uint32_t partition)
{
	struct dhp_unit *u = dhp_server_unit(demo, id);

	CHECK_MSG(u != NULL, "no unit %s", id);
	if (u)
		u->partition = partition;
}

static void check_figure(uint32_t partition, double want)
{
	double got = dhp_server_locality(demo, partition);

	CHECK_MSG(NEAR(got, want), "partition %u: locality %.6f, expected %.6f",
		  partition, got, want);
}

static void test_local(void)
{
	own("s0-cpu0", 1);
	own("s0-cpu1", 1);
	own("s0-mem0", 1);
	own("s0-mem1", 1);
	check_figure(1, 1.0);
}

/* Demo: sockets 0-1 and 2-3 are 16 apart, the others 21. */
static void test_remote(void)
{
	own("s2-cpu0", 2);
	own("s3-mem0", 2);
	check_figure(2, 10.0 / 16);
	own("s0-cpu2", 3);
	own("s3-mem1", 3);
	check_figure(3, 10.0 / 21);
}

/* One processor on socket 0, 2 GiB on 0 and 2 GiB on 1: half local,
 * half at 16. A second processor on socket 2 sees both at 21. */
static void test_mixed(void)
{
	own("s0-cpu3", 4);
	own("s0-mem2", 4);
	own("s1-mem0", 4);
	check_figure(4, (1.0 + 10.0 / 16) / 2);
	own("s2-cpu1", 4);
	check_figure(4, ((1.0 + 10.0 / 16) / 2 + 10.0 / 21) / 2);
	/* Sizes weigh: a larger remote module pulls the figure down more. */
	dhp_server_unit(demo, "s1-mem0")->size_bytes *= 3;
	check_figure(4, ((1.0 + 3 * 10.0 / 16) / 4 + 10.0 / 21) / 2);
	dhp_server_unit(demo, "s1-mem0")->size_bytes /= 3;
	/* I/O host bridges take no part. */
	own("s3-iohb0", 4);
	check_figure(4, ((1.0 + 10.0 / 16) / 2 + 10.0 / 21) / 2);
}

static void test_none(void)
{
	own("s1-cpu0", 5);
	CHECK(dhp_server_locality(demo, 5) == DHP_LOCALITY_NONE);	/* no memory */
	own("s1-mem1", 6);
	CHECK(dhp_server_locality(demo, 6) == DHP_LOCALITY_NONE);	/* no processor */
	CHECK(dhp_server_locality(demo, 99) == DHP_LOCALITY_NONE);	/* no units */
	CHECK(dhp_server_locality(demo, DHP_NO_PARTITION) == DHP_LOCALITY_NONE);
	CHECK(dhp_locality_of_units(demo, NULL, 0) == DHP_LOCALITY_NONE);
}

/* What placement asks: the same figure for a set not yet owned. */
static void test_of_units(void)
{
	uint32_t idx[4];
	size_t n = 0;
	const char *ids[] = { "s0-cpu3", "s0-mem2", "s1-mem0", "s2-cpu1" };

	for (size_t i = 0; i < 4; i++)
		idx[n++] = dhp_server_unit_index(demo, dhp_server_unit(demo, ids[i]));
	CHECK(NEAR(dhp_locality_of_units(demo, idx, n), ((1.0 + 10.0 / 16) / 2 + 10.0 / 21) / 2));
	idx[3] = 1u << 30;	/* out of range: ignored */
	CHECK(NEAR(dhp_locality_of_units(demo, idx, n), (1.0 + 10.0 / 16) / 2));
}

/* Without a table, the defaults: remote is 21. */
static void test_default_distances(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;

	CHECK_INT(dhp_topology_load("topologies/static-demo", &s, &err), 0);
	if (!s)
		return;
	CHECK(s->distances == NULL);
	dhp_server_unit(s, "s0-cpu0")->partition = 1;
	dhp_server_unit(s, "s1-mem0")->partition = 1;
	CHECK(NEAR(dhp_server_locality(s, 1), 10.0 / 21));
	dhp_server_free(s);
}

int main(void)
{
	struct dhp_error err = { 0 };

	if (dhp_topology_load("topologies/demo", &demo, &err)) {
		test_fail(__FILE__, __LINE__, "topologies/demo: %s", err.message);
		return test_done();
	}
	RUN(test_local);
	RUN(test_remote);
	RUN(test_mixed);
	RUN(test_none);
	RUN(test_of_units);
	RUN(test_default_distances);
	dhp_server_free(demo);
	return test_done();
}
