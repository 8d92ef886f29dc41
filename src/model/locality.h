/* SPDX-License-Identifier: MIT */
/*
 * How local a partition's memory is to its processors: one figure from the
 * server's NUMA distances (dhp_server_distance), for the API (a
 * ComputerSystem's Oem.Dhp.Locality, dhpctl partitions) and for placement,
 * which compares candidate sets of units by it. Pure: no I/O, no state.
 *
 * The figure is the mean, over the processors, of the size-weighted mean
 * over the memory modules of DHP_DISTANCE_LOCAL / distance(processor's
 * socket, module's socket): the relative speed of an access from a
 * processor to a byte of the partition's memory, 1.0 being local. So 1.0
 * when every module is on the socket of every processor, 10/21 (0.476)
 * when all memory is one plain remote hop from every processor, and in
 * between for a mix. Specified in docs/redfish.md (Locality).
 */
#ifndef DHP_MODEL_LOCALITY_H
#define DHP_MODEL_LOCALITY_H

#include <stddef.h>
#include <stdint.h>

#include "model/server.h"

/* No processor or no memory: the figure is undefined (the API shows null). */
#define DHP_LOCALITY_NONE (-1.0)

/* The figure for the units server->units[idx[i]], i < n (units of other
 * types are ignored); DHP_LOCALITY_NONE without a processor or a module. */
double dhp_locality_of_units(const struct dhp_server *server, const uint32_t *idx, size_t n);

/* The figure for the units partition owns now (unit->partition). */
double dhp_server_locality(const struct dhp_server *server, uint32_t partition);

#endif
