/* SPDX-License-Identifier: MIT */
/*
 * A memory module in or out of its partition's QEMU (job-memory.c): the
 * attach and detach jobs of memory, and pieces of the hot replace of
 * memory (job-move.c).
 */
#ifndef DHP_BACKEND_QEMU_JOB_MEMORY_H
#define DHP_BACKEND_QEMU_JOB_MEMORY_H

#include "backend/qemu/unplug.h"
#include "model/unit.h"

struct qcall;

struct qmem {
	const struct dhp_unit *u;
	int step;			/* enum mem_step */
	struct qunplug unplug;
};

/* Plug u into c's partition, or take it out; then pass each wake to
 * qmem_step() while it says 1. 0: done; <0: the call failed. */
int qmem_attach_begin(struct qcall *c, struct qmem *m, const struct dhp_unit *u);
int qmem_detach_begin(struct qcall *c, struct qmem *m, const struct dhp_unit *u);
int qmem_step(struct qcall *c, struct qmem *m);

#endif
