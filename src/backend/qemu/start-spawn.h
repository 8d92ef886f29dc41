/* SPDX-License-Identifier: MIT */
/* Spawning a starting partition's QEMU (start-spawn.c), for job-start.c. */
#ifndef DHP_BACKEND_QEMU_START_SPAWN_H
#define DHP_BACKEND_QEMU_START_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "model/unit.h"

struct qemu;

/* Plan where the units go, wire them in the state file, write the command
 * line (uuid, when not empty, is the guest's SMBIOS system UUID) and spawn
 * QEMU (a QEMU left from before is ended first);
 * *ret_child is the process that daemonizes. -EIO a unit not powered,
 * -EBUSY one wired elsewhere or a host CPU of another partition, -ENOSPC
 * more than the QEMU or the state file has room for, or QEMU's spawn's. */
int qemu_start_spawn(struct qemu *q, uint32_t partition, const char *name, const char *uuid,
		     const struct dhp_unit *const *units, size_t n_units, pid_t *ret_child,
		     struct dhp_error *err);
/* The partition is wired to exactly these units: a repeated start of a
 * running partition is a success. */
bool qemu_start_booted_with(struct qemu *q, uint32_t partition,
			    const struct dhp_unit *const *units, size_t n_units);
/* End whatever QEMU the partition's pid file names. */
void qemu_kill_pidfile(struct qemu *q, uint32_t id);

#endif
