/* SPDX-License-Identifier: MIT */
/*
 * A unit online or offline through the agent (job-online.c): the online
 * and offline jobs, and a piece of the hot replace of memory (job-move.c).
 */
#ifndef DHP_BACKEND_QEMU_JOB_ONLINE_H
#define DHP_BACKEND_QEMU_JOB_ONLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/qemu/cmdline.h"
#include "model/unit.h"
#include "proto/proto.h"

struct qcall;
struct qemu;

struct qonline {
	const struct dhp_unit *u;
	bool on;
	int step;				/* enum online_step */
	char fn_slots[QEMU_FNS_MAX][DHP_PROTO_SLOT_MAX];	/* a bridge's PCI functions */
	unsigned n_fn_slots;
};

/* Bring u online (on) or offline in c's partition; then pass each wake
 * to qonline_step() while it says 1. 0: done (the state file says so);
 * <0: the call failed, with a docs/errors.md code. */
int qonline_begin(struct qcall *c, struct qonline *o, const struct dhp_unit *u, bool on);
int qonline_step(struct qcall *c, struct qonline *o);

/* How long the guest may take for a phase of u (the agent's deadline). */
uint32_t qemu_phase_ms(struct qemu *q, const struct dhp_unit *u);

#endif
