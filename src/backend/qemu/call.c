/* SPDX-License-Identifier: MIT */
/*
 * A backend call in flight. Each call is a small state machine: one step
 * sends a QMP command or an agent request, or waits (a timer, an event of
 * its partition, the agent's hello, QEMU's end), and the answer runs the
 * next step. One answer is awaited at a time.
 *
 * The engine's answer (cb.done) always comes from a timer of its own, so
 * never from inside the call nor from inside a QMP or agent dispatch. A
 * call the engine cancels is never answered and takes no further step;
 * it is freed when nothing it awaits can call back any more (STYLE.md 11).
 */
#include "backend/qemu/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	json_decref(c->j_cpus);
	json_decref(c->j_mems);
	json_decref(c->j_pci);
	free(c->present);
	free(c->units);
	free(c->state);
	free(c);
}

/* Free now if nothing can call back, else when the awaited answer comes. */
void qcall_drop(struct qcall *c)
{
	c->cancelled = true;
	c->on_event = NULL;
	c->on_hello = NULL;
	c->on_agent_event = NULL;
	c->on_down = NULL;
	/* A start cancelled while QEMU daemonizes keeps polling its child,
	 * to end the QEMU it makes (start.c): it must not land later. */
	if (c->child > 0 && c->timer)
		return;
	qcall_timer_stop(c);
	if (!c->inflight)
		qcall_free(c);
}

struct qcall *qcall_new(struct qemu *q, struct dhp_backend_cb cb, uint32_t partition,
			const struct dhp_unit *unit)
{
	struct qcall *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->q = q;
	c->cb = cb;
	c->partition = partition;
	c->unit = unit;
	c->slot = -1;
	c->port = -1;
	c->child = -1;
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
		if (c->report_fn)
			c->report_fn(c->report_ctx, c->rc, c->rc ? NULL : c->state,
				     c->rc ? &c->err : NULL);
		else if (c->cb.done)
			c->cb.done(c->cb.ctx, c->cb.token, c->rc, c->rc ? &c->err : NULL);
	}
	qcall_drop(c);
}

void qcall_finish(struct qcall *c, int rc, const struct dhp_error *err)
{
	qcall_fn unwind = c->on_fail;

	if (c->finished || c->cancelled)
		return;
	if (c->unwinding) {
		if (rc)
			qemu_notice(c->q, "partition %u: putting things back after \"%s\" failed "
				    "too: %s", c->partition, c->err.message,
				    err ? err->message : dhp_error_name(rc));
		rc = c->rc;
		err = NULL;
	} else if (rc) {
		c->rc = rc;
		if (err && err->code)
			c->err = *err;
		else
			dhp_error_set(&c->err, rc, "%s", dhp_error_name(rc));
		err = NULL;
	}
	c->on_event = NULL;
	c->on_hello = NULL;
	c->on_agent_event = NULL;
	c->on_down = NULL;
	qcall_timer_stop(c);
	/* Undo needs the call's one answer slot free. */
	if (rc && unwind && !c->inflight) {
		c->on_fail = NULL;
		c->unwinding = true;
		unwind(c);
		return;
	}
	c->finished = true;
	c->rc = rc;
	c->on_event = NULL;
	c->on_hello = NULL;
	c->on_agent_event = NULL;
	c->on_down = NULL;
	qcall_timer_stop(c);
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
	qcall_finish(c, rc, &e);
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

void qcall_qmp_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qcall *c = ctx;
	qcall_qmp_fn fn = c->qmp_fn;
	struct dhp_error e = { 0 };

	c->inflight = false;
	c->qmp_fn = NULL;
	if (c->cancelled) {
		qcall_free(c);
		return;
	}
	err = gone(c, &rc, err, &e);
	if (fn && !c->finished)
		fn(c, rc, ret, err);
}

static void agent_answer(void *ctx, int rc, const struct dhp_proto_reply *reply,
			 const struct dhp_error *err)
{
	struct qcall *c = ctx;
	qcall_agent_fn fn = c->agent_fn;

	struct dhp_error e = { 0 };

	c->inflight = false;
	c->agent_fn = NULL;
	if (c->cancelled) {
		qcall_free(c);
		return;
	}
	err = gone(c, &rc, err, &e);
	if (fn && !c->finished)
		fn(c, rc, reply, err);
}

void qcall_qmp(struct qcall *c, const char *cmd, json_t *args, uint32_t ms, qcall_qmp_fn fn)
{
	struct qpart *part = qcall_part(c);
	int r = -EHOSTDOWN;

	if (part && part->qmp) {
		c->qmp_fn = fn;
		c->inflight = true;
		r = qmp_command(part->qmp, cmd, args, ms, qcall_qmp_answer, c);
		args = NULL;
		if (r < 0) {
			c->inflight = false;
			c->qmp_fn = NULL;
		}
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

void qcall_agent(struct qcall *c, const struct dhp_proto_request *req, uint32_t ms,
		 qcall_agent_fn fn)
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
	c->agent_fn = fn;
	c->inflight = true;
	r = qagent_request(part->agent, req, ms, agent_answer, c);
	if (r < 0) {
		c->inflight = false;
		c->agent_fn = NULL;
		qcall_fail(c, r == -ECONNRESET ? -ENOTCONN : r,
			   "cannot send %s to the agent of partition %u: %s",
			   dhp_proto_op_name(req->op), c->partition, strerror(-r));
	}
}

static void timer_fire(void *arg)
{
	struct qcall *c = arg;
	qcall_fn fn = c->timer_fn;

	c->timer = NULL;
	c->timer_fn = NULL;
	if (fn && !c->finished && (!c->cancelled || c->child > 0))
		fn(c);
}

void qcall_after(struct qcall *c, uint32_t ms, qcall_fn fn)
{
	qcall_timer_stop(c);
	c->timer_fn = fn;
	c->timer = dhp_timer_add(c->q->loop, ms, timer_fire, c);
	if (!c->timer)
		qcall_fail(c, -ENOMEM, "out of memory");
}

void qcall_timer_stop(struct qcall *c)
{
	dhp_timer_cancel(c->q->loop, c->timer);
	c->timer = NULL;
	c->timer_fn = NULL;
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
