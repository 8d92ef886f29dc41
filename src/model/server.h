/* SPDX-License-Identifier: MIT */
/*
 * The server: the partitionable machine, its units grouped by socket and
 * its partitions. Pure data: loading a topology file is topology.h, changing
 * anything at run time is the engine's job (core/).
 */
#ifndef DHP_MODEL_SERVER_H
#define DHP_MODEL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strindex.h"
#include "model/partition.h"
#include "model/unit.h"

enum dhp_partitioning_mode {
	DHP_MODE_STATIC,	/* running partitions change only at restart */
	DHP_MODE_DYNAMIC,	/* hot add, remove and replace allowed */
	DHP_MODE_MAX
};

struct dhp_server {
	char name[DHP_NAME_MAX];
	enum dhp_partitioning_mode mode;
	unsigned n_sockets;
	struct dhp_unit *units;		/* in topology order */
	size_t n_units, cap_units;
	/* NUMA distances between sockets, ACPI SLIT style (10 is local),
	 * n_sockets × n_sockets, row by row; NULL: the defaults below. Read
	 * them with dhp_server_distance(). */
	uint8_t *distances;
	struct dhp_partition **partitions;
	size_t n_partitions, cap_partitions;
	/* private */
	struct dhp_strindex unit_index;	/* unit id -> position in units */
	char **strings;			/* interned models and device lists */
	size_t n_strings;
	struct dhp_strindex string_index;
};

const char *dhp_mode_name(enum dhp_partitioning_mode mode);
int dhp_mode_parse(const char *name, enum dhp_partitioning_mode *ret_mode);

/* Caller frees with dhp_server_free(). NULL on allocation failure. */
struct dhp_server *dhp_server_new(const char *name, enum dhp_partitioning_mode mode);
void dhp_server_free(struct dhp_server *server);

/*
 * Add a unit described by tmpl (its id, type, socket, index, model, size,
 * devices, host_cpu, serial, part number); state starts free, powered
 * off, healthy. The strings are copied. -EEXIST for a duplicate id, -ENOMEM.
 */
int dhp_server_add_unit(struct dhp_server *server, const struct dhp_unit *tmpl,
			struct dhp_error *err);

/* NULL when unknown. */
struct dhp_unit *dhp_server_unit(struct dhp_server *server, const char *id);
static inline uint32_t dhp_server_unit_index(const struct dhp_server *server,
					     const struct dhp_unit *unit)
{
	return (uint32_t)(unit - server->units);
}

/* A digest of the fixed part of the inventory, to detect that a state
 * directory belongs to another topology. */
uint64_t dhp_server_digest(const struct dhp_server *server);

/* Adds a partition (state stopped, no UUID yet: the caller sets
 * p->uuid). Returns NULL on allocation failure. */
struct dhp_partition *dhp_server_add_partition(struct dhp_server *server, uint32_t id,
					       const char *name,
					       const struct dhp_os_profile *profile);
void dhp_server_remove_partition(struct dhp_server *server, uint32_t id);
struct dhp_partition *dhp_server_partition(struct dhp_server *server, uint32_t id);
struct dhp_partition *dhp_server_partition_by_name(struct dhp_server *server,
						   const char *name);

#define DHP_DISTANCE_LOCAL 10	/* a socket to itself (ACPI SLIT) */
#define DHP_DISTANCE_REMOTE 21	/* between two sockets, without a table */
/* The NUMA distance from socket a to socket b: the topology's table, or
 * DHP_DISTANCE_LOCAL / DHP_DISTANCE_REMOTE. Sockets out of range are
 * remote. Placement chooses by it; QEMU guests see it (-numa dist). */
unsigned dhp_server_distance(const struct dhp_server *server, unsigned a, unsigned b);

/* Units a partition owns now, of one type (or all: DHP_UNIT_TYPE_MAX). */
unsigned dhp_server_count_units(const struct dhp_server *server, uint32_t partition,
				enum dhp_unit_type type);

#endif
