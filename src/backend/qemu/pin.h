/* SPDX-License-Identifier: MIT */
/*
 * vCPU threads on host CPUs (pin.c), for the start, processor and move
 * jobs.
 */
#ifndef DHP_BACKEND_QEMU_PIN_H
#define DHP_BACKEND_QEMU_PIN_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "model/unit.h"

struct qcall;
struct qemu;

/* Pinning the vCPU threads of c's partition to their processors' host
 * CPUs, a step of a job: qemu_pin_begin() asks QEMU for the threads
 * (query-cpus-fast) and returns 1, or 0 when nothing is to be pinned (no
 * processor of the topology maps to a host CPU); the job then passes the
 * QMP answer to qemu_pin_apply(): 0 done, <0 the call failed. */
int qemu_pin_begin(struct qcall *c);
int qemu_pin_apply(struct qcall *c);
/* Pin one thread to one host CPU. */
int qemu_pin_tid(pid_t tid, int host_cpu);
/* -EBUSY when host CPU cpu is the processor's of another partition. */
int qemu_pin_check(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		   struct dhp_error *err);

#endif
