/* SPDX-License-Identifier: MIT */
/*
 * A partition's QEMU at run time (partition.c): its QMP connection and
 * agent channel, what the agent said, and its files.
 */
#ifndef DHP_BACKEND_QEMU_PARTITION_H
#define DHP_BACKEND_QEMU_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct qcall;
struct qemu;

/* Freed later than released (deferred), as QMP and agent callbacks may
 * still be on the stack. */
struct qpart {
	struct qemu *q;
	uint32_t id;
	struct qmp *qmp;
	struct qagent *agent;
	bool up;		/* QMP answers: QEMU runs */
	bool started;		/* its start completed: report the agent's comings */
	bool stopping;		/* dhp ends it: its end is no failure */
	bool released;
	bool agent_ready;	/* a hello of our version came */
	unsigned caps;		/* the hello's capabilities */
	/* Why the agent is refused (a hello of a higher major version:
	 * -EPROTONOSUPPORT, the decoder's words and resolution); code 0 when
	 * it is not. Reset by a hello of our version and when the agent
	 * channel is opened again. */
	struct dhp_error agent_refused;
	char cpu_type[64];	/* "max-x86_64-cpu" */
	struct qpart *next;
};

struct qpart *qpart_find(struct qemu *q, uint32_t id);
/* A new run-time part for partition id; NULL on ENOMEM. */
struct qpart *qpart_new(struct qemu *q, uint32_t id);
/* QEMU is gone (or dhp lets go of it): free the run-time part later. */
void qpart_release(struct qpart *part);
void qpart_free_all(struct qemu *q);

/* Connecting QMP, then the agent, of a call's partition (its part made
 * already): a piece of the start and reconcile jobs. */
struct qconnect {
	uint64_t until;
	struct dhp_error err;	/* why it failed: -EHOSTDOWN */
};
/* Begin, within ms; then pass each wake of the job to qpart_connect_step()
 * until it says 0 (QMP answers; the agent's hello comes later) or
 * -EHOSTDOWN (k->err says why; the call goes on). 1: in progress. */
int qpart_connect_begin(struct qcall *c, struct qconnect *k, uint32_t within_ms);
int qpart_connect_step(struct qcall *c, struct qconnect *k);

/* When c's partition runs with its agent refused (a hello of a newer
 * protocol version), fail c with -ENOTCONN, "no agent" and the reason
 * (what: the op it needed, "online"), and return true; else false, and
 * the caller asks the agent as usual. */
bool qpart_agent_refused(struct qcall *c, const char *what);

/* The directory of a partition, and a file in it. */
int qemu_part_path(struct qemu *q, uint32_t id, const char *name, char *buf, size_t size);
/* Remove a partition's sockets and pid file (the pid file not while a
 * start the engine gave up on still ends its QEMU: job-start.c). */
void qemu_remove_files(struct qemu *q, uint32_t id);

#endif
