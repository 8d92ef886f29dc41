/* SPDX-License-Identifier: MIT */
/*
 * The jobs of the QEMU backend, one file each, as the ops table (qemu.c)
 * and attach.c start them. Each makes a call (call.h) whose step function
 * runs its steps; each answers through cb, from the loop. 0 or -ENOMEM.
 */
#ifndef DHP_BACKEND_QEMU_JOBS_H
#define DHP_BACKEND_QEMU_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"

struct qcall;
struct qemu;

/* job-start.c */
int qemu_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			 const struct dhp_unit *const *units, size_t n_units,
			 struct dhp_backend_cb cb);
/* A start the engine gave up on still ends the QEMU it spawned: true
 * while one of partition id (other than self) does. */
bool qemu_start_spawning(struct qemu *q, uint32_t id, const struct qcall *self);

/* job-stop.c */
int qemu_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
			struct dhp_backend_cb cb);

/* attach.c: which job attaches or detaches a unit. */
int qemu_attach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
int qemu_detach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
/* The checks of an attach or detach of a processor or bridge, in their
 * first step: true when the device work is to be done; false when the
 * call has ended (attached already, refused, or wiring only: a QEMU that
 * is not running takes no device, as a rollback after a crash needs). */
bool qemu_attach_checks(struct qcall *c, const struct dhp_unit *u);
bool qemu_detach_checks(struct qcall *c, const struct dhp_unit *u);

/* job-cpu.c */
int qemu_cpu_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		    struct dhp_backend_cb cb);
int qemu_cpu_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		    struct dhp_backend_cb cb);

/* job-memory.c */
int qemu_memory_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb);
int qemu_memory_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb);

/* job-bridge.c */
int qemu_bridge_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb);
int qemu_bridge_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb);

/* job-move.c */
int qemu_move(struct dhp_backend *be, const struct dhp_partition *p,
	      const struct dhp_unit *from, const struct dhp_unit *to,
	      struct dhp_backend_cb cb);

/* job-reconcile.c */
int qemu_reconcile(struct dhp_backend *be, struct dhp_backend_view *view,
		   struct dhp_backend_cb cb);

/* job-online.c */
int qemu_online(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
int qemu_offline(struct dhp_backend *be, const struct dhp_partition *p,
		 const struct dhp_unit *unit, struct dhp_backend_cb cb);

/* job-notify.c */
int qemu_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	       struct dhp_backend_cb cb);
int qemu_notify(struct dhp_backend *be, const struct dhp_partition *p,
		enum dhp_notification note, const struct dhp_unit *unit,
		struct dhp_backend_cb cb);

#endif
