/* SPDX-License-Identifier: MIT */
/*
 * device_del and the wait for the device to go (unplug.c): a piece of the
 * processor, memory and bridge jobs.
 */
#ifndef DHP_BACKEND_QEMU_UNPLUG_H
#define DHP_BACKEND_QEMU_UNPLUG_H

#include <stdbool.h>

struct qcall;

struct qunplug {
	char id[80];		/* the device */
	bool deleted;		/* its DEVICE_DELETED came */
};

/* device_del of id; the job then passes each wake to qunplug_step() until
 * it says 0 (QEMU reports the device gone) or <0 (the call failed: QEMU
 * refused, the guest refused, -EAGAIN, or no word within unit_ms,
 * -ETIMEDOUT). 1: in progress. */
void qunplug_begin(struct qcall *c, struct qunplug *u, const char *id);
int qunplug_step(struct qcall *c, struct qunplug *u);

#endif
