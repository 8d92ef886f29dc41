/* SPDX-License-Identifier: MIT */
/*
 * Server topology files: the inventory of a partitionable server.
 * The format is specified in docs/topology.md.
 */
#ifndef DHP_MODEL_TOPOLOGY_H
#define DHP_MODEL_TOPOLOGY_H

#include "common/error.h"
#include "model/server.h"

/*
 * Parse the topology file at path into a new server (no partitions, every
 * unit free, off and healthy). On error nothing is returned and err says
 * "PATH:LINE: what is wrong". Caller frees *ret_server with dhp_server_free().
 */
int dhp_topology_load(const char *path, struct dhp_server **ret_server,
		      struct dhp_error *err);

/* Same, from a string; name stands for the path in error messages. */
int dhp_topology_parse(const char *text, const char *name,
		       struct dhp_server **ret_server, struct dhp_error *err);

#endif
