/* SPDX-License-Identifier: MIT */
/*
 * Where a starting partition's units go in its QEMU (start-plan.c), for
 * job-start.c.
 */
#ifndef DHP_BACKEND_QEMU_START_PLAN_H
#define DHP_BACKEND_QEMU_START_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "model/unit.h"

struct qemu;

/* Plan: slots[i] the vCPU slot of units[i] (-1), ports[i] its root port
 * (-1). -EIO a unit not powered, -EBUSY one wired elsewhere or a host CPU
 * of another partition, -ENOSPC more than the QEMU has room for. */
int qemu_start_plan(struct qemu *q, uint32_t partition, const struct dhp_unit *const *units,
		    size_t n_units, int *slots, int *ports, struct dhp_error *err);
/* Wire the units as planned in the state file (online once the guest is
 * up); -ENOSPC when the file has no room for the partition. */
int qemu_start_record(struct qemu *q, uint32_t partition, const struct dhp_unit *const *units,
		      size_t n_units, const int *slots, const int *ports);
/* The partition is wired to exactly these units: a repeated start of a
 * running partition is a success. */
bool qemu_start_booted_with(struct qemu *q, uint32_t partition,
			    const struct dhp_unit *const *units, size_t n_units);

#endif
