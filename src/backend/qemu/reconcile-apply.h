/* SPDX-License-Identifier: MIT */
/* What reconcile found, into the state file (reconcile-apply.c). */
#ifndef DHP_BACKEND_QEMU_RECONCILE_APPLY_H
#define DHP_BACKEND_QEMU_RECONCILE_APPLY_H

#include <jansson.h>

#include "backend/qemu/state-file.h"
#include "proto/proto.h"

struct qemu;

/* QEMU's devices of partition rec: query-hotpluggable-cpus,
 * query-memory-devices and query-pci's answers (borrowed). */
void qemu_apply_devices(struct qemu *q, struct qs_partition *rec, json_t *cpus, json_t *mems,
			json_t *pci);
/* Which units the guest uses, from the agent's report. */
void qemu_apply_use(struct qemu *q, struct qs_partition *rec, const struct dhp_proto_state *st);

#endif
