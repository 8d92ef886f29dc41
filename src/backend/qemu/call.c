/* SPDX-License-Identifier: MIT */
/*
 * A call in flight (call.h): one awaited thing at a time for the job
 * above it, whose step function it wakes with what came.
 */
#include "backend/qemu/call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qemu/agent.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/qmp.h"

static void qcall_free(struct qcall *c)
{
	struct qemu *q = c->q;

	if (c->prev)
		c->prev->next = c->next;
	else if (q->calls == c)
		q->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	dhp_timer_cancel(q->loop, c->timer);
	if (c->release)
		c->release(c);
	free(c);
}

/* Free now if nothing can call back, else when the awaited answer comes. */
void qcall_drop(struct qcall *c)
{
	c->cancelled = true;
	c->listen = 0;
	if (c->outlive_cancel && c->timer)
		return;
	qcall_timer_stop(c);
	if (!c->inflight)
		qcall_free(c);
}

static void wake(struct qcall *c, enum qcall_wake w)
{
	c->wake = w;
	c->step(c);
}

/* The first step comes from a timer too. */
static void timer_fire(void *arg)
{
	struct qcall *c = arg;
	enum qcall_wake w = c->begun ? QCALL_TIMER : QCALL_BEGIN;

	c->timer = NULL;
	c->begun = true;
	if (!c->finished && (!c->cancelled || c->outlive_cancel))
		wake(c, w);
}

struct qcall *qcall_new(struct qemu *q, size_t size, struct dhp_backend_cb cb,
			uint32_t partition, void (*step)(struct qcall *c))
{
	struct qcall *c = calloc(1, size);

	if (!c)
		return NULL;
	c->q = q;
	c->cb = cb;
	c->partition = partition;
	c->step = step;
	c->timer = dhp_timer_add(q->loop, 0, timer_fire, c);
	if (!c->timer) {
		free(c);
		return NULL;
	}
	c->next = q->calls;
	if (q->calls)
		q->calls->prev = c;
	q->calls = c;
	return c;
}

static void finish_fire(void *arg)
{
	struct qcall *c = arg;

	c->timer = NULL;
	if (!c->cancelled) {
		if (c->answer)
			c->answer(c);
		else if (c->cb.done)
			c->cb.done(c->cb.ctx, c->cb.token, c->rc, c->rc ? &c->err : NULL);
	}
	qcall_drop(c);
}

void qcall_end(struct qcall *c, int rc, const struct dhp_error *err)
{
	if (c->finished || c->cancelled)
		return;
	if (c->unwinding) {
		if (rc)
			qemu_notice(c->q, "partition %u: putting things back after \"%s\" failed "
				    "too: %s", c->partition, c->err.message,
				    err ? err->message : dhp_error_name(rc));
		rc = c->rc;
	} else if (rc) {
		c->rc = rc;
		if (err && err->code)
			c->err = *err;
		else
			dhp_error_set(&c->err, rc, "%s", dhp_error_name(rc));
	}
	c->listen = 0;
	qcall_timer_stop(c);
	/* Undo needs the call's one awaited slot free. */
	if (rc && c->undo && !c->inflight) {
		c->undo = false;
		c->unwinding = true;
		wake(c, QCALL_UNDO);
		return;
	}
	c->finished = true;
	c->rc = rc;
	c->timer = dhp_timer_add(c->q->loop, 0, finish_fire, c);
	/* Out of memory for a timer: the engine's deadline answers for us. */
}

void qcall_fail(struct qcall *c, int rc, const char *fmt, ...)
{
	struct dhp_error e = { .code = rc };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	qcall_end(c, rc, &e);
}

void qcall_fail_got(struct qcall *c)
{
	qcall_fail(c, c->got, "%s", c->got_err ? c->got_err->message : dhp_error_name(c->got));
}

void qcall_qmp_failed(struct qcall *c)
{
	const struct dhp_error *err = c->got_err;

	qcall_fail(c, err && err->code ? err->code : -EIO, "%s",
		   err ? err->message : "QEMU failed");
}

struct qpart *qcall_part(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);

	return part && part->up ? part : NULL;
}

/* ---- awaiting one answer ---- */

/* A connection that closed under a call means QEMU is gone. */
static const struct dhp_error *gone(struct qcall *c, int *rc, const struct dhp_error *err,
				    struct dhp_error *e)
{
	if (*rc != -ECONNRESET)
		return err;
	*rc = dhp_error_set(e, -EHOSTDOWN, "the QEMU of partition %u exited (%s)",
			    c->partition, err ? err->message : "connection closed");
	return e;
}

void qcall_await(struct qcall *c)
{
	c->inflight = true;
}

void qcall_unawait(struct qcall *c)
{
	c->inflight = false;
}

void qcall_qmp_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qcall *c = ctx;
	struct dhp_error e = { 0 };

	c->inflight = false;
	if (c->cancelled) {
		qcall_free(c);
		return;
	}
	if (c->finished)
		return;
	c->got_err = gone(c, &rc, err, &e);
	c->got = rc;
	c->ret = ret;
	wake(c, QCALL_QMP);
}

static void agent_answer(void *ctx, int rc, const struct dhp_proto_reply *reply,
			 const struct dhp_error *err)
{
	struct qcall *c = ctx;
	struct dhp_error e = { 0 };

	c->inflight = false;
	if (c->cancelled) {
		qcall_free(c);
		return;
	}
	if (c->finished)
		return;
	c->got_err = gone(c, &rc, err, &e);
	c->got = rc;
	c->reply = reply;
	wake(c, QCALL_AGENT);
}

void qcall_qmp(struct qcall *c, const char *cmd, json_t *args, uint32_t ms)
{
	struct qpart *part = qcall_part(c);
	int r = -EHOSTDOWN;

	if (part && part->qmp) {
		c->inflight = true;
		r = qmp_command(part->qmp, cmd, args, ms, qcall_qmp_answer, c);
		args = NULL;
		if (r < 0)
			c->inflight = false;
	}
	json_decref(args);
	if (r < 0)
		qcall_fail(c, r == -ECONNRESET ? -EHOSTDOWN : r,
			   "QEMU of partition %u cannot take %s: %s", c->partition, cmd,
			   r == -EHOSTDOWN || r == -ECONNRESET ? "it is not running" : strerror(-r));
}

static void forgotten(void *ctx, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)ctx, (void)rc, (void)ret, (void)err;
}

void qcall_qmp_forget(struct qcall *c, const char *cmd, json_t *args)
{
	struct qpart *part = qcall_part(c);

	if (part && part->qmp)
		qmp_command(part->qmp, cmd, args, c->q->unit_ms, forgotten, NULL);	/* takes args */
	else
		json_decref(args);
}

void qcall_agent(struct qcall *c, const struct dhp_proto_request *req, uint32_t ms)
{
	struct qpart *part = qcall_part(c);
	int r;

	if (!part || !part->agent || !part->agent_ready) {
		qcall_fail(c, part ? -ENOTCONN : -EHOSTDOWN, part ?
			   "no agent is connected in partition %u: its OS cannot be asked to %s" :
			   "the OS of partition %u is not running: it cannot be asked to %s",
			   c->partition, dhp_proto_op_name(req->op));
		return;
	}
	c->inflight = true;
	r = qagent_request(part->agent, req, ms, agent_answer, c);
	if (r < 0) {
		c->inflight = false;
		qcall_fail(c, r == -ECONNRESET ? -ENOTCONN : r,
			   "cannot send %s to the agent of partition %u: %s",
			   dhp_proto_op_name(req->op), c->partition, strerror(-r));
	}
}

void qcall_after(struct qcall *c, uint32_t ms)
{
	qcall_timer_stop(c);
	c->timer = dhp_timer_add(c->q->loop, ms, timer_fire, c);
	if (!c->timer)
		qcall_fail(c, -ENOMEM, "out of memory");
}

void qcall_timer_stop(struct qcall *c)
{
	dhp_timer_cancel(c->q->loop, c->timer);
	c->timer = NULL;
}

/* ---- the partition's happenings ---- */

void qcall_wake_all(struct qemu *q, uint32_t id, unsigned what, enum qcall_wake w,
		    const char *event, json_t *data, const struct dhp_proto_event *agent_event)
{
	for (struct qcall *c = q->calls; c; c = c->next) {
		if (c->partition != id || c->finished || c->cancelled)
			continue;
		if (c->listen & what) {
			c->event = event;
			c->ret = data;
			c->agent_event = agent_event;
			wake(c, w);
		} else if (what == QCALL_ON_DOWN && !c->inflight) {
			qcall_fail(c, -EHOSTDOWN, "the QEMU of partition %u exited", id);
		}
	}
}

/* ---- the engine's side ---- */

void qemu_cancel(struct dhp_backend *be, uint64_t token)
{
	struct qemu *q = to_qemu(be);

	for (struct qcall *c = q->calls; c; c = c->next)
		if (c->cb.done && c->cb.token == token && !c->cancelled) {
			qcall_drop(c);
			return;
		}
}

void qcall_free_all(struct qemu *q)
{
	while (q->calls)
		qcall_free(q->calls);
}
