/* SPDX-License-Identifier: MIT */
/*
 * A call in flight: the primitive under every job of the backend. It knows
 * nothing of the jobs. A job is a small struct that begins with a struct
 * qcall, a step enum and one step function (a switch over the step); the
 * call awaits one thing at a time for it -- a QMP command, an agent
 * request, a timer -- and wakes the step function when it completes, from
 * the loop. Besides that one thing, a job may listen to happenings of its
 * partition (c->listen): QMP events, the agent's hello or its refusal, the
 * agent's events, QEMU's end.
 *
 * The engine's answer (cb.done) always comes from a timer of its own, so
 * never from inside the call nor from inside a QMP or agent dispatch. A
 * call the engine cancels is never answered and takes no further step; it
 * is freed when nothing it awaits can call back any more (STYLE.md 11).
 *
 * A job with undo steps sets c->undo: its first failure then wakes it with
 * QCALL_UNDO (once nothing is in flight), and it puts back what it did, in
 * reverse, then ends with qcall_end(c, 0, NULL): the answer is the first
 * failure, whatever the undo did (a failure of the undo is a notice, and
 * ends the call).
 */
#ifndef DHP_BACKEND_QEMU_CALL_H
#define DHP_BACKEND_QEMU_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "proto/proto.h"

struct qemu;
struct qpart;

/* What woke a job's step function (c->wake). */
enum qcall_wake {
	QCALL_BEGIN,		/* its first step, from the loop */
	QCALL_QMP,		/* the QMP answer: c->got, c->got_err, c->ret */
	QCALL_AGENT,		/* the agent's answer: c->got, c->got_err, c->reply */
	QCALL_TIMER,		/* qcall_after's time came */
	QCALL_EVENT,		/* a QMP event: c->event, its data c->ret */
	QCALL_HELLO,		/* the agent said hello (of our version) */
	QCALL_REFUSED,		/* the agent was refused (part->agent_refused) */
	QCALL_AGENT_EVENT,	/* an event of the agent: c->agent_event */
	QCALL_DOWN,		/* the partition's QEMU ended */
	QCALL_UNDO,		/* it failed: put back what was done (c->undo) */
};

/* What a job listens to besides its awaited thing (c->listen). Without
 * QCALL_ON_DOWN, QEMU's end fails a call that awaits nothing from it. */
#define QCALL_ON_EVENT		(1u << 0)
#define QCALL_ON_HELLO		(1u << 1)
#define QCALL_ON_REFUSED	(1u << 2)
#define QCALL_ON_AGENT_EVENT	(1u << 3)
#define QCALL_ON_DOWN		(1u << 4)

struct qcall {
	struct qemu *q;
	uint32_t partition;
	struct dhp_backend_cb cb;	/* cb.done NULL: nobody to answer */
	/* The job's. */
	void (*step)(struct qcall *c);
	void (*release)(struct qcall *c);	/* frees what the job owns; NULL */
	void (*answer)(struct qcall *c);	/* instead of cb.done; NULL */
	bool undo;		/* a failure wakes it with QCALL_UNDO first */
	/* Go on after a cancel while a timer is set (a start whose QEMU
	 * daemonizes must still end it). */
	bool outlive_cancel;
	unsigned listen;	/* QCALL_ON_* */
	/* What woke it; valid during the step. */
	enum qcall_wake wake;
	int got;				/* QMP or agent: 0 or -errno */
	const struct dhp_error *got_err;	/* with got */
	json_t *ret;				/* QMP: the answer, an event's data */
	const struct dhp_proto_reply *reply;	/* agent */
	const char *event;			/* QMP event name */
	const struct dhp_proto_event *agent_event;
	/* The call's own state. */
	bool inflight;		/* a QMP or agent answer is awaited */
	struct dhp_timer *timer;
	bool begun, unwinding, cancelled, finished;
	int rc;			/* its answer: the first failure */
	struct dhp_error err;
	struct qcall *prev, *next;
};

/* A call of size bytes (a job struct that begins with struct qcall) for
 * cb, whose step runs first from the loop (QCALL_BEGIN). The caller sets
 * the job's fields before the loop runs. NULL on ENOMEM. */
struct qcall *qcall_new(struct qemu *q, size_t size, struct dhp_backend_cb cb,
			uint32_t partition, void (*step)(struct qcall *c));
/* Never answer it; free it once nothing it awaits can call back. */
void qcall_drop(struct qcall *c);
/* End it: answered from the loop (never now), once; err may be NULL. */
void qcall_end(struct qcall *c, int rc, const struct dhp_error *err);
__attribute__((format(printf, 3, 4)))
void qcall_fail(struct qcall *c, int rc, const char *fmt, ...);
/* End it with the QMP or agent failure that woke it: c->got and its
 * message; qcall_qmp_failed() takes the code from the error (-EIO). */
void qcall_fail_got(struct qcall *c);
void qcall_qmp_failed(struct qcall *c);
/* The partition's QEMU, up, or NULL. */
struct qpart *qcall_part(struct qcall *c);

/* The one awaited thing. Each wakes the step once; a failure to send
 * fails the call at once instead. args are taken. */
void qcall_qmp(struct qcall *c, const char *cmd, json_t *args, uint32_t ms);
void qcall_agent(struct qcall *c, const struct dhp_proto_request *req, uint32_t ms);
/* Wake after ms; replaces any timer of the call. */
void qcall_after(struct qcall *c, uint32_t ms);
void qcall_timer_stop(struct qcall *c);
/* For a QMP connect (partition.c): c awaits the answer that
 * qcall_qmp_answer(c, ...) brings; qcall_unawait() when it cannot come. */
void qcall_await(struct qcall *c);
void qcall_unawait(struct qcall *c);
void qcall_qmp_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err);
/* Send a QMP command whose answer nobody awaits (clean-up after a
 * failure; QMP's order puts it before anything sent later). args taken. */
void qcall_qmp_forget(struct qcall *c, const char *cmd, json_t *args);

/* Wake the calls of partition id that listen for what (partition.c).
 * A call that awaits nothing from QEMU's end is failed by it. */
void qcall_wake_all(struct qemu *q, uint32_t id, unsigned what, enum qcall_wake wake,
		    const char *event, json_t *data, const struct dhp_proto_event *agent_event);

/* Free every call (backend free). */
void qcall_free_all(struct qemu *q);
void qemu_cancel(struct dhp_backend *be, uint64_t token);

#endif
