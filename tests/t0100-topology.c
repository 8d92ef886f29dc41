/* SPDX-License-Identifier: MIT */
/*
 * Topology files (docs/topology.md): the shipped topologies load with the
 * exact inventory, and each kind of malformed input is refused with
 * -EINVAL naming its line. Run from the repository root.
 */
#include "harness.h"
#include "model/topology.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GiB (1ull << 30)
#define TiB (1ull << 40)

static void count_types(const struct dhp_server *s, unsigned n[DHP_UNIT_TYPE_MAX],
			uint64_t *ret_memory)
{
	memset(n, 0, DHP_UNIT_TYPE_MAX * sizeof(n[0]));
	*ret_memory = 0;
	for (size_t i = 0; i < s->n_units; i++) {
		n[s->units[i].type]++;
		*ret_memory += s->units[i].size_bytes;
	}
}

/* Every unit is found by its id, and is as a fresh topology leaves it. */
static void check_index_and_state(struct dhp_server *s)
{
	for (size_t i = 0; i < s->n_units; i++) {
		const struct dhp_unit *u = &s->units[i];

		CHECK_MSG(dhp_server_unit(s, u->id) == u, "lookup of %s", u->id);
		CHECK(dhp_unit_is_free(u));
		CHECK(!u->powered);
		CHECK_INT(u->health, DHP_HEALTH_OK);
	}
}

static void test_demo(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	struct dhp_unit *u;
	unsigned n[DHP_UNIT_TYPE_MAX];
	uint64_t memory;

	CHECK_INT(dhp_topology_load("topologies/demo", &s, &err), 0);
	if (!s)
		return;
	CHECK_STR(s->name, "demo");
	CHECK_INT(s->mode, DHP_MODE_DYNAMIC);
	CHECK_INT(s->n_sockets, 4);
	CHECK_INT(s->n_units, 36);
	count_types(s, n, &memory);
	CHECK_INT(n[DHP_UNIT_PROCESSOR], 16);
	CHECK_INT(n[DHP_UNIT_MEMORY], 16);
	CHECK_INT(n[DHP_UNIT_IO_HOST_BRIDGE], 4);
	CHECK_INT(memory, 32 * GiB);
	/* Socket by socket, lines in order. */
	CHECK_STR(s->units[0].id, "s0-cpu0");
	CHECK_STR(s->units[4].id, "s0-mem0");
	CHECK_STR(s->units[8].id, "s0-iohb0");
	CHECK_STR(s->units[9].id, "s1-cpu0");
	CHECK_STR(s->units[35].id, "s3-iohb0");

	u = dhp_server_unit(s, "s3-mem3");
	CHECK(u != NULL);
	if (u) {
		CHECK_INT(u->type, DHP_UNIT_MEMORY);
		CHECK_INT(u->socket, 3);
		CHECK_INT(u->index, 3);
		CHECK_STR(u->model, "DDR3 RDIMM");
		CHECK_INT(u->size_bytes, 2 * GiB);
		CHECK(u->devices == NULL);
	}
	u = dhp_server_unit(s, "s2-iohb0");
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->devices, "virtio-net,virtio-blk");
		CHECK_STR(u->model, "PCIe root complex");
		CHECK_INT(u->size_bytes, 0);
	}
	u = dhp_server_unit(s, "s1-cpu2");
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->model, "Intel Xeon 7500");
		CHECK_INT(u->host_cpu, -1);
	}
	CHECK(dhp_server_unit(s, "s4-cpu0") == NULL);
	CHECK(dhp_server_unit(s, "s0-cpu4") == NULL);
	CHECK(dhp_server_unit(s, "s0-iohb1") == NULL);
	/* Two boards of two sockets. */
	CHECK(s->distances != NULL);
	CHECK_INT(dhp_server_distance(s, 0, 0), 10);
	CHECK_INT(dhp_server_distance(s, 0, 1), 16);
	CHECK_INT(dhp_server_distance(s, 3, 2), 16);
	CHECK_INT(dhp_server_distance(s, 1, 2), 21);
	CHECK_INT(dhp_server_distance(s, 3, 0), 21);
	check_index_and_state(s);
	dhp_server_free(s);
}

static void test_large(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	struct dhp_unit *u;
	unsigned n[DHP_UNIT_TYPE_MAX];
	uint64_t memory;

	CHECK_INT(dhp_topology_load("topologies/large", &s, &err), 0);
	if (!s)
		return;
	CHECK_STR(s->name, "large");
	CHECK_INT(s->mode, DHP_MODE_DYNAMIC);
	CHECK_INT(s->n_sockets, 32);
	CHECK_INT(s->n_units, 8192 + 4096 + 256);
	count_types(s, n, &memory);
	CHECK_INT(n[DHP_UNIT_PROCESSOR], 8192);
	CHECK_INT(n[DHP_UNIT_MEMORY], 4096);
	CHECK_INT(n[DHP_UNIT_IO_HOST_BRIDGE], 256);
	CHECK_INT(memory, 64 * TiB);
	for (size_t i = 0; i < s->n_units; i++)
		if (s->units[i].type == DHP_UNIT_MEMORY)
			CHECK_INT(s->units[i].size_bytes, 16 * GiB);

	u = dhp_server_unit(s, "s31-cpu255");
	CHECK(u != NULL);
	if (u) {
		CHECK_INT(u->socket, 31);
		CHECK_INT(u->index, 255);
		CHECK_INT(u->type, DHP_UNIT_PROCESSOR);
	}
	CHECK(dhp_server_unit(s, "s31-mem127") != NULL);
	CHECK(dhp_server_unit(s, "s31-iohb7") != NULL);
	CHECK(dhp_server_unit(s, "s31-cpu256") == NULL);
	CHECK(dhp_server_unit(s, "s31-mem128") == NULL);
	CHECK(dhp_server_unit(s, "s32-cpu0") == NULL);
	CHECK_STR(s->units[s->n_units - 1].id, "s31-iohb7");
	/* Eight chassis of four sockets: 10 / 16 / 22. */
	for (unsigned a = 0; a < 32; a++)
		for (unsigned b = 0; b < 32; b++)
			CHECK_INT(dhp_server_distance(s, a, b),
				  a == b ? 10 : a / 4 == b / 4 ? 16 : 22);
	check_index_and_state(s);
	dhp_server_free(s);
}

static void test_static_demo(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	unsigned n[DHP_UNIT_TYPE_MAX];
	uint64_t memory;

	CHECK_INT(dhp_topology_load("topologies/static-demo", &s, &err), 0);
	if (!s)
		return;
	CHECK_STR(s->name, "static-demo");
	CHECK_INT(s->mode, DHP_MODE_STATIC);
	CHECK_INT(s->n_sockets, 2);
	count_types(s, n, &memory);
	CHECK_INT(n[DHP_UNIT_PROCESSOR], 8);
	CHECK_INT(n[DHP_UNIT_MEMORY], 8);
	CHECK_INT(n[DHP_UNIT_IO_HOST_BRIDGE], 2);
	CHECK_INT(memory, 16 * GiB);
	CHECK(dhp_server_unit(s, "s1-iohb0") != NULL);
	CHECK(dhp_server_unit(s, "s2-cpu0") == NULL);
	dhp_server_free(s);
}

/* host-cpus, numbering across lines of one type, comments, CRLF, quotes. */
static const char mapped_text[] =
	"# a comment line\r\n"
	"mode static   # modes may come before the server\r\n"
	"server m.1_x\r\n"
	"\r\n"
	"socket 1\r\n"
	"\tprocessor count=4 model=\"A #1\" host-cpus=8-11\r\n"
	"  # a comment inside the block does not end it\r\n"
	"\r\n"
	"  processor model=A host-cpus=20\r\n"
	"  processor model=A\r\n"
	"  memory count=2 model=M size=128MiB\r\n"
	"  memory model=M size=1TiB\r\n"
	"socket 0\n"
	"  memory model=M size=262144KiB\n";

static void test_mapping(void)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	struct dhp_unit *u;

	CHECK_INT(dhp_topology_parse(mapped_text, "mapped", &s, &err), 0);
	CHECK_MSG(!err.code, "%s", err.message);
	if (!s)
		return;
	CHECK_STR(s->name, "m.1_x");
	CHECK_INT(s->mode, DHP_MODE_STATIC);
	CHECK_INT(s->n_sockets, 2);
	CHECK_INT(s->n_units, 10);
	for (unsigned i = 0; i < 4; i++) {
		char id[16];

		snprintf(id, sizeof(id), "s1-cpu%u", i);
		u = dhp_server_unit(s, id);
		CHECK_MSG(u && u->host_cpu == (int32_t)(8 + i), "%s", id);
	}
	u = dhp_server_unit(s, "s1-cpu0");
	CHECK(u && !strcmp(u->model, "A #1"));
	u = dhp_server_unit(s, "s1-cpu4");
	CHECK(u && u->host_cpu == 20);
	u = dhp_server_unit(s, "s1-cpu5");
	CHECK(u && u->host_cpu == -1 && u->index == 5);
	u = dhp_server_unit(s, "s1-mem2");
	CHECK(u && u->size_bytes == TiB && u->index == 2);
	u = dhp_server_unit(s, "s0-mem0");
	CHECK(u && u->size_bytes == 256ull << 20);
	/* File order: socket 1's block came first. */
	CHECK_STR(s->units[0].id, "s1-cpu0");
	CHECK_STR(s->units[9].id, "s0-mem0");
	dhp_server_free(s);
}

/* Serials ({id} replaced by each unit's id) and part numbers: each unit
 * of a line gets the line's; units without them have none. */
static void test_serials(void)
{
	static const char text[] =
		"server r\nmode dynamic\nsocket 0-1\n"
		"  processor count=2 model=P serial=SN-{id}/A part-number=PN.1:x_y\n"
		"  memory model=M size=1GiB\n"
		"socket 2\n  processor model=P serial=ONLY.ONE\n  memory model=M size=1GiB part-number=M1\n";
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	struct dhp_unit *u;

	CHECK_INT(dhp_topology_parse(text, "r", &s, &err), 0);
	CHECK_MSG(!err.code, "%s", err.message);
	if (!s)
		return;
	u = dhp_server_unit(s, "s1-cpu1");
	CHECK(u && u->serial && !strcmp(u->serial, "SN-s1-cpu1/A"));
	CHECK(u && u->part_number && !strcmp(u->part_number, "PN.1:x_y"));
	u = dhp_server_unit(s, "s0-cpu0");
	CHECK(u && u->serial && !strcmp(u->serial, "SN-s0-cpu0/A"));
	u = dhp_server_unit(s, "s0-mem0");
	CHECK(u && !u->serial && !u->part_number);
	u = dhp_server_unit(s, "s2-cpu0");
	CHECK(u && u->serial && !strcmp(u->serial, "ONLY.ONE") && !u->part_number);
	u = dhp_server_unit(s, "s2-mem0");
	CHECK(u && !u->serial && u->part_number && !strcmp(u->part_number, "M1"));
	dhp_server_free(s);
}

/* The demo names serials and part numbers; they are not in the digest,
 * so a state directory made before them is still the demo's. */
static void test_serials_not_in_digest(void)
{
	static const char with[] = "server d\nmode dynamic\nsocket 0\n"
		"  processor model=P serial=S1 part-number=P1\n  memory model=M size=1GiB\n";
	static const char without[] = "server d\nmode dynamic\nsocket 0\n"
		"  processor model=P\n  memory model=M size=1GiB\n";
	struct dhp_error err = { 0 };
	struct dhp_server *a = NULL, *b = NULL;

	CHECK_INT(dhp_topology_parse(with, "with", &a, &err), 0);
	CHECK_INT(dhp_topology_parse(without, "without", &b, &err), 0);
	if (a && b)
		CHECK(dhp_server_digest(a) == dhp_server_digest(b));
	dhp_server_free(a);
	dhp_server_free(b);
}

/* The distance table: a range line and overrides, both directions, no
 * table (the defaults), a gap socket as far as the farthest pair, and
 * none of it in the digest (a state directory keeps working when a table
 * is added). */
static void test_distances(void)
{
	static const char with[] = "server d\nmode dynamic\n"
		"distance 0-1 0-1 30   # overridden below\n"
		"socket 0-1\n  processor model=P\n  memory model=M size=1GiB\n"
		"socket 3\n  processor model=P\n  memory model=M size=1GiB\n"
		"distance 1 0 12\n"
		"distance 3 0-1 20\n";
	static const char without[] = "server d\nmode dynamic\n"
		"socket 0-1\n  processor model=P\n  memory model=M size=1GiB\n"
		"socket 3\n  processor model=P\n  memory model=M size=1GiB\n";
	struct dhp_error err = { 0 };
	struct dhp_server *a = NULL, *b = NULL;

	CHECK_INT(dhp_topology_parse(with, "with", &a, &err), 0);
	CHECK_INT(dhp_topology_parse(without, "without", &b, &err), 0);
	if (!a || !b)
		goto out;
	CHECK_INT(a->n_sockets, 4);
	CHECK_INT(dhp_server_distance(a, 0, 1), 12);
	CHECK_INT(dhp_server_distance(a, 1, 0), 12);
	CHECK_INT(dhp_server_distance(a, 3, 1), 20);
	CHECK_INT(dhp_server_distance(a, 0, 3), 20);
	CHECK_INT(dhp_server_distance(a, 3, 3), 10);
	CHECK_INT(dhp_server_distance(a, 2, 0), 20);	/* no socket 2: the farthest */
	CHECK_INT(dhp_server_distance(a, 2, 2), 10);
	CHECK_INT(dhp_server_distance(a, 0, 7), 21);	/* out of range: remote */
	CHECK(b->distances == NULL);
	CHECK_INT(dhp_server_distance(b, 0, 0), 10);
	CHECK_INT(dhp_server_distance(b, 0, 3), 21);
	CHECK(dhp_server_digest(a) == dhp_server_digest(b));
out:
	dhp_server_free(a);
	dhp_server_free(b);
}

/* Ranges are made socket by socket, each with its own numbering. */
static void test_range_order(void)
{
	static const char text[] =
		"server r\nmode dynamic\nsocket 2-3\n"
		"  processor count=2 model=P\n  memory model=M size=1GiB\n"
		"  processor model=P\n";
	static const char *const want[] = {
		"s2-cpu0", "s2-cpu1", "s2-mem0", "s2-cpu2",
		"s3-cpu0", "s3-cpu1", "s3-mem0", "s3-cpu2",
	};
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;

	CHECK_INT(dhp_topology_parse(text, "r", &s, &err), 0);
	if (!s)
		return;
	CHECK_INT(s->n_units, 8);
	CHECK_INT(s->n_sockets, 4);
	for (size_t i = 0; i < 8 && i < s->n_units; i++)
		CHECK_STR(s->units[i].id, want[i]);
	dhp_server_free(s);
}

#define HEAD "server t\nmode dynamic\n"		/* lines 1-2 */
#define CPU "  processor model=P\n"
#define MEM "  memory model=M size=1GiB\n"

struct bad_case {
	const char *text;
	unsigned line;
	const char *word;	/* what the message must contain */
};

static const struct bad_case bad_cases[] = {
	{ HEAD "socket 0\n" CPU "  memory model=M sise=2GiB\n", 5, "unknown key \"sise\" (expected count, model, size, serial, part-number)" },
	{ HEAD "socket 0\n  processor model=P size=1GiB\n" MEM, 4, "does not apply" },
	{ HEAD "socket 0\n  processor count=1 model=P count=2\n" MEM, 4, "duplicate key \"count\"" },
	{ HEAD "socket 0\n  processor count=0 model=P\n" MEM, 4, "count \"0\"" },
	{ HEAD "socket 0\n  processor count=4097 model=P\n" MEM, 4, "count \"4097\"" },
	{ HEAD "socket 0\n  processor count=4x model=P\n" MEM, 4, "count \"4x\"" },
	{ HEAD "socket 0\n  processor count=-1 model=P\n" MEM, 4, "count \"-1\"" },
	{ HEAD "socket 0\n  processor count=2\n" MEM, 4, "missing key \"model\"" },
	{ HEAD "socket 0\n" CPU "  memory model=M\n", 5, "missing key \"size\"" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=2GB\n", 5, "unit (B, KiB" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=2048\n", 5, "unit (B, KiB" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=100MiB\n", 5, "multiple of 128 MiB" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=0GiB\n", 5, "non-zero" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=65TiB\n", 5, "over 64 TiB" },
	{ HEAD "socket 0\n" CPU "  memory model=M size=99999999999999999999999B\n", 5, "over 64 TiB" },
	{ HEAD "socket 0\n  processor model=\"0123456789012345678901234567890123456789012345678901234567890123\"\n" MEM, 4, "model must be" },
	{ HEAD "socket 0\n  processor model=\"\"\n" MEM, 4, "model must be" },
	{ HEAD "socket 0\n  processor model=\"Xeon\n" MEM, 4, "closing quote" },
	{ HEAD "socket 0\n  processor model=\"Xeon\"x\n" MEM, 4, "trailing garbage" },
	{ HEAD "socket 0\n  processor model=Xe\"on\"\n" MEM, 4, "stray quote" },
	{ HEAD "socket 0\n  processor count= model=P\n" MEM, 4, "has no value" },
	{ HEAD "socket 0\n  processor model=P fast\n" MEM, 4, "expected key=value, found \"fast\"" },
	{ HEAD "socket 0\n  processor =3 model=P\n" MEM, 4, "without a key" },
	{ HEAD "socket 0\n" CPU MEM "  io-host-bridge model=B devices=Virtio-net\n", 6, "devices" },
	{ HEAD "socket 0\n" CPU MEM "  io-host-bridge model=B devices=a,,b\n", 6, "empty name" },
	{ HEAD "socket 0\n" CPU MEM "  io-host-bridge model=B devices=a,\n", 6, "empty name" },
	{ HEAD "socket 0\n  processor count=4 model=P host-cpus=0-2\n" MEM, 4, "host-cpus names 3 cpus but count is 4" },
	{ HEAD "socket 0\n  processor count=2 model=P host-cpus=3-2\n" MEM, 4, "host-cpus \"3-2\"" },
	{ HEAD "socket 0\n  processor count=1 model=P host-cpus=8192\n" MEM, 4, "host-cpus \"8192\"" },
	{ HEAD "socket 0-1\n  processor count=2 model=P host-cpus=0-1\n" MEM, 4, "mapped twice" },
	{ HEAD "socket 0\n  processor model=P serial=\"\"\n" MEM, 4, "serial must be 1 to 31" },
	{ HEAD "socket 0\n  processor model=P serial=0123456789012345678901234567890X\n" MEM, 4, "serial must be 1 to 31 characters, not 32" },
	{ HEAD "socket 0\n  processor model=P serial=\"SN 1\"\n" MEM, 4, "serial \"SN 1\": character 3" },
	{ HEAD "socket 0\n  processor model=P serial=SN{ID}\n" MEM, 4, "character 3" },
	{ HEAD "socket 0\n  processor model=P serial={id}{id}\n" MEM, 4, "{id} more than once" },
	{ HEAD "socket 0\n  processor count=2 model=P serial=SN1\n" MEM, 4, "same for the 2 units of this line (put {id}" },
	{ HEAD "socket 0-2\n  processor model=P serial=SN1\n" MEM, 4, "same for the 3 units" },
	{ HEAD "socket 0\n  processor model=P serial=SN1\n  processor model=P serial=SN1\n" MEM, 5, "serial \"SN1\" of s0-cpu1 is s0-cpu0's already" },
	{ HEAD "socket 0\n  processor model=P serial=X-s0-mem0\n  memory model=M size=1GiB serial=X-{id}\n", 5, "of s0-mem0 is s0-cpu0's" },
	{ HEAD "socket 0\n  processor model=P part-number=\"\"\n" MEM, 4, "part-number must be 1 to 31" },
	{ HEAD "socket 0\n  processor model=P part-number=a{id}\n" MEM, 4, "part-number \"a{id}\": character 2" },
	{ HEAD "socket 0\n  processor model=P part-number=a part-number=b\n" MEM, 4, "duplicate key \"part-number\"" },
	{ "server demo extra\nmode dynamic\n", 1, "trailing garbage \"extra\"" },
	{ "server -x\nmode dynamic\n", 1, "bad server name" },
	{ "server\n", 1, "needs a name" },
	{ "server a\nserver b\n", 2, "second \"server\" line (the first is line 1)" },
	{ "server a\nmode sometimes\n", 2, "unknown mode \"sometimes\"" },
	{ "server a\nmode static dynamic\n", 2, "trailing garbage" },
	{ HEAD "sockets 0\n" CPU MEM, 3, "unknown word \"sockets\"" },
	{ HEAD "socket 0\n" CPU "  disk model=D\n", 5, "unknown word \"disk\"" },
	{ HEAD "socket 0\n" CPU "memory model=M size=1GiB\n", 5, "must be indented" },
	{ HEAD "  processor model=P\nsocket 0\n" CPU MEM, 3, "outside a socket block" },
	{ HEAD "socket 0-3\n" CPU MEM "socket 3\n" CPU MEM, 6, "socket 3 is defined twice (first on line 3)" },
	{ HEAD "socket 0\n" CPU MEM "socket 0\n" CPU MEM, 6, "defined twice" },
	{ HEAD "socket 3-1\n" CPU MEM, 3, "bad socket \"3-1\"" },
	{ HEAD "socket 256\n" CPU MEM, 3, "bad socket" },
	{ HEAD "socket 0 1\n" CPU MEM, 3, "trailing garbage" },
	{ HEAD "socket 0\nsocket 1\n" CPU MEM, 3, "no unit lines" },
	{ "server t\nsocket 0\n" CPU MEM "mode dynamic\n", 2, "before the \"mode\" line" },
	{ "mode dynamic\nsocket 0\n" CPU MEM, 2, "before the \"server\" line" },
	{ HEAD "socket 0\n" CPU MEM "mode static\n", 6, "second \"mode\" line (the first is line 2)" },
	{ "server t\n# no mode\n", 2, "without a \"mode\" line" },
	{ "", 1, "without a \"server\" line" },
	{ HEAD, 1, "needs at least one processor and one memory module" },
	{ HEAD "socket 0\n" CPU, 1, "needs at least one processor and one memory module" },
	{ HEAD "socket 0\n" MEM "  io-host-bridge model=B\n", 1, "needs at least one processor" },
	{ HEAD "socket 0-255\n  processor count=4096 model=P\n", 4, "more than 65536 units" },
	{ HEAD "socket 0\n  processor model=P\x01\n" MEM, 4, "control character 0x01" },
	/* Distance lines. */
	{ HEAD "socket 0-1\n" CPU MEM "distance 1 1 12\n", 6, "distance of socket 1 to itself is always 10" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 10\n", 6, "distance \"10\" is not a number from 11 to 254" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 9\n", 6, "from 11 to 254" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 255\n", 6, "distance \"255\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 -3\n", 6, "distance \"-3\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 2x\n", 6, "distance \"2x\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1\n", 6, "needs a value" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0\n", 6, "needs two sockets" },
	{ HEAD "socket 0-1\n" CPU MEM "distance\n", 6, "needs two sockets" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1 16 near\n", 6, "trailing garbage \"near\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance x 1 16\n", 6, "bad first socket \"x\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 1-0 16\n", 6, "bad second socket \"1-0\"" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 256 16\n", 6, "bad second socket" },
	{ HEAD "socket 0-1\n" CPU MEM "distance 0 2 16\n", 6, "distance to socket 2, which no socket line defines" },
	{ HEAD "distance 0-2 0-2 20\nsocket 0-1\n" CPU MEM, 3, "socket 2, which no socket line" },
	{ HEAD "socket 0-2\n" CPU MEM "distance 0 1 16\ndistance 1 2 16\n", 6, "no distance between sockets 0 and 2" },
	{ HEAD "socket 0-1\n" CPU MEM "socket 3\n" CPU MEM "distance 0 1 16\n", 9, "no distance between sockets 0 and 3" },
	{ "server t\ndistance 0 1 16\nmode dynamic\nsocket 0-1\n" CPU MEM, 2, "distance before the \"mode\" line" },
	{ "distance 0 1 16\n", 1, "distance before the \"server\" line" },
	{ HEAD "socket 0-1\n" CPU MEM "  distance 0 1 16\n", 6, "unknown word \"distance\" (expected processor" },
	{ HEAD "socket 0-1\n" CPU MEM "distances 0 1 16\n", 6, "expected server, mode, socket or distance" },
	{ HEAD "socket 0\n  processor model=P\rx\n" MEM, 4, "control character 0x0d" },
};

static void check_bad(const char *text, unsigned line, const char *word)
{
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "bad:%u: ", line);
	CHECK_INT(dhp_topology_parse(text, "bad", &s, &err), -EINVAL);
	CHECK_INT(err.code, -EINVAL);
	CHECK(s == NULL);
	CHECK_MSG(!strncmp(err.message, prefix, strlen(prefix)),
		  "\"%s\" does not start with \"%s\"", err.message, prefix);
	CHECK_MSG(strstr(err.message, word), "\"%s\" does not say \"%s\"", err.message, word);
	dhp_server_free(s);
}

static void test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		test_begin("malformed %zu: %s", i, bad_cases[i].word);
		check_bad(bad_cases[i].text, bad_cases[i].line, bad_cases[i].word);
		test_end();
	}
}

static void test_long_line(void)
{
	size_t head = strlen(HEAD "socket 0\n  processor model=P #");
	char *text = malloc(head + 2048);

	if (!text)
		return;
	/* 1024 characters fit; 1025 do not. */
	snprintf(text, head + 2048, HEAD "socket 0\n  processor model=P #%0*d\n" MEM,
		 (int)(1024 - strlen("  processor model=P #")), 0);
	{
		struct dhp_error err = { 0 };
		struct dhp_server *s = NULL;

		CHECK_INT(dhp_topology_parse(text, "long", &s, &err), 0);
		dhp_server_free(s);
	}
	snprintf(text, head + 2048, HEAD "socket 0\n  processor model=P #%0*d\n" MEM,
		 (int)(1025 - strlen("  processor model=P #")), 0);
	check_bad(text, 4, "longer than 1024");
	free(text);
}

/* A temporary file holding len bytes of data; caller unlinks path. */
static int write_temp(char *path, size_t size, const void *data, size_t len)
{
	const char *dir = getenv("DHP_TEST_TMP");
	int fd;

	snprintf(path, size, "%s/t0100-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void test_load_errors(void)
{
	static const char nul_text[] = HEAD "socket 0\n" CPU "  memory\0 model=M\n";
	struct dhp_error err = { 0 };
	struct dhp_server *s = NULL;
	char path[256], want[300];
	int fd;

	CHECK_INT(dhp_topology_load("topologies/no-such-file", &s, &err), -ENOENT);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "topologies/no-such-file: ") == err.message);
	CHECK(strstr(err.message, "No such file") != NULL);

	fd = write_temp(path, sizeof(path), nul_text, sizeof(nul_text) - 1);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	dhp_error_clear(&err);
	CHECK_INT(dhp_topology_load(path, &s, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:5: NUL byte", path);
	CHECK_MSG(strstr(err.message, want) == err.message, "%s", err.message);

	/* Over 16 MiB: refused before parsing (the file is sparse). */
	CHECK_INT(ftruncate(fd, (16 << 20) + 1), 0);
	dhp_error_clear(&err);
	CHECK_INT(dhp_topology_load(path, &s, &err), -EINVAL);
	CHECK_MSG(strstr(err.message, "16 MiB") != NULL, "%s", err.message);
	CHECK(s == NULL);
	close(fd);
	unlink(path);
}

int main(void)
{
	RUN(test_demo);
	RUN(test_large);
	RUN(test_static_demo);
	RUN(test_mapping);
	RUN(test_range_order);
	RUN(test_serials);
	RUN(test_serials_not_in_digest);
	RUN(test_distances);
	test_malformed();
	RUN(test_long_line);
	RUN(test_load_errors);
	return test_done();
}
