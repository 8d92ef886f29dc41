/* SPDX-License-Identifier: MIT */
/*
 * Placement: operators state sizes, dhp picks the units (DESIGN.md §4,
 * "placement"; docs/engine.md, "Placement").
 *
 * The planner turns a target (so many processors, so much memory, so many
 * I/O host bridges, for a new partition or an existing one) into the units
 * to take and to give back, each step with a reason a person can read. It
 * is pure: it reads the model and changes nothing, and the same server
 * state and request always give the same plan. Running the plan is a
 * request to the engine (a create names the plan's units), validated there
 * as any other.
 */
#ifndef DHP_CORE_PLAN_H
#define DHP_CORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "model/operation.h"
#include "model/server.h"

/* Each count is what the partition should have in all once the plan ran;
 * DHP_PLAN_KEEP leaves it as it is (for a new partition: none). */
#define DHP_PLAN_KEEP (-1)

struct dhp_plan_request {
	const char *partition;	/* grow or shrink this partition; NULL: a new one */
	int64_t processors;
	int64_t memory_mib;
	int64_t io_bridges;
	int socket;		/* the home socket; -1: chosen (below) */
	uint64_t reservation;	/* units it holds count as free (0: none) */
	uint64_t now_ms;	/* the engine's clock: held units are judged by it */
};

/* The plan's units per socket and type, in the order they were chosen. */
struct dhp_plan_step {
	enum dhp_unit_type type;
	bool give_back;		/* leaves the partition (a shrink) */
	unsigned socket;
	unsigned distance;	/* from the home socket */
	uint32_t first, n;	/* its units: plan->units[first .. first + n) */
	char reason[200];
};

#define DHP_PLAN_MAX_UNITS DHP_OP_MAX_UNITS	/* one operation's worth */

struct dhp_plan {
	unsigned home;			/* the home socket */
	char home_reason[160];		/* why that socket */
	uint32_t units[DHP_PLAN_MAX_UNITS];	/* unit indices in the server */
	uint32_t n_units;
	struct dhp_plan_step steps[DHP_PLAN_MAX_UNITS];
	uint32_t n_steps;
	uint32_t n_take, n_give;	/* units to take, units to give back */
};

/*
 * Plan req on server into *ret_plan. Units taken are free, healthy (ok),
 * not busy, not spares and not held by a reservation other than
 * req->reservation. Locality first: the home socket is req->socket, else
 * the socket holding most of the partition's units, else (a new
 * partition) the socket with the most free capacity of what is asked
 * (ties: the lowest number); then the other sockets by
 * dhp_server_distance() from the home sockets (those of the partition's
 * units), nearest first, ties by number; processors and memory together.
 * Memory is made of whole modules, their sizes chosen to use the fewest.
 * Giving back goes the other way: the farthest units from the home socket
 * first, never the boot memory of a running partition.
 *
 * 0, or an error that names what is missing (docs/errors.md): -EINVAL for
 * a negative or malformed number, no processor or memory for a new
 * partition, a socket out of range, a memory size no combination of the
 * modules makes (the nearest that can is named); -ENOENT no such
 * partition; -ENOSPC not enough free units (how many are free, held and
 * spare); -ERANGE a partition left without a processor or memory; -E2BIG
 * more units than one operation takes; -ENOMEM.
 */
int dhp_plan_compute(const struct dhp_server *server, const struct dhp_plan_request *req,
		     struct dhp_plan *ret_plan, struct dhp_error *err);

/* "2 GiB", "512 MiB", "1.5 GiB": a memory size for people. */
void dhp_plan_size(uint64_t bytes, char *buf, size_t len);

#endif
