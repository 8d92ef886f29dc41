/* SPDX-License-Identifier: MIT */
/*
 * A partition's QEMU at run time: the QMP connection and the agent
 * channel, QEMU's events routed to the calls that wait for them, the
 * agent's hello (or its refusal: a newer protocol), and QEMU's end. A
 * QEMU that ends without dhp asking (a crash, a guest that powered off)
 * is seen as its QMP connection closing: the engine is told the
 * partition failed.
 */
#include "backend/qemu/partition.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/qemu/agent.h"
#include "backend/qemu/call.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/process.h"
#include "backend/qemu/qmp.h"

#define CONNECT_RETRY_MS 50u
#define HELLO_INTERVAL_MS 1000u

struct qpart *qpart_find(struct qemu *q, uint32_t id)
{
	for (struct qpart *p = q->parts; p; p = p->next)
		if (p->id == id && !p->released)
			return p;
	return NULL;
}

int qemu_part_path(struct qemu *q, uint32_t id, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%u%s%s", q->dir, id, name ? "/" : "", name ? name : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

struct qpart *qpart_new(struct qemu *q, uint32_t id)
{
	struct qpart *part = calloc(1, sizeof(*part));

	if (!part)
		return NULL;
	part->q = q;
	part->id = id;
	part->next = q->parts;
	q->parts = part;
	return part;
}

void qemu_remove_files(struct qemu *q, uint32_t id)
{
	static const char *const names[] = { "qmp.sock", "agent.sock", "qemu.pid" };
	char path[QEMU_PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* The pid file names the QEMU a cancelled start must end. */
		if (i == 2 && qemu_start_spawning(q, id, NULL))
			continue;
		if (qemu_part_path(q, id, names[i], path, sizeof(path)) == 0)
			unlink(path);
	}
}

/* ---- releasing ---- */

static void part_free_fire(void *arg)
{
	struct qpart *part = arg;
	struct qemu *q = part->q;

	for (struct qpart **pp = &q->parts; *pp; pp = &(*pp)->next)
		if (*pp == part) {
			*pp = part->next;
			break;
		}
	free(part);
}

void qpart_release(struct qpart *part)
{
	struct qagent *agent;

	if (part->released)
		return;
	part->released = true;
	part->up = false;
	part->agent_ready = false;
	/* Both free later when their own dispatch is on the stack; requests
	 * to the agent still pending are answered (-ECONNRESET) first. */
	agent = part->agent;
	part->agent = NULL;
	qagent_close(agent);
	qmp_free(part->qmp);
	part->qmp = NULL;
	if (!dhp_timer_add(part->q->loop, 0, part_free_fire, part))
		part->id = 0;	/* leaked until the backend is freed, but inert */
}

void qpart_free_all(struct qemu *q)
{
	while (q->parts) {
		struct qpart *part = q->parts;

		q->parts = part->next;
		qagent_free(part->agent);
		qmp_free(part->qmp);
		free(part);
	}
}

/* ---- QEMU's end ---- */

static void part_down(struct qpart *part, const struct dhp_error *why)
{
	struct qemu *q = part->q;
	struct qs_partition *rec = qs_partition(&q->state, part->id, false);
	struct dhp_error e = { 0 };
	char log[QEMU_PATH_MAX], tail[160];

	part->up = false;
	if (rec) {
		rec->running = 0;
		for (size_t i = 0; i < q->state.n_units; i++)
			if (q->state.units[i].partition == part->id)
				q->state.units[i].online = 0;
	}
	if (!part->stopping && part->started) {
		qemu_part_path(q, part->id, "qemu.log", log, sizeof(log));
		qemu_log_tail(log, tail, sizeof(tail));
		dhp_error_set(&e, -EHOSTDOWN, "the QEMU of partition %u ended unasked%s%s",
			      part->id, tail[0] ? ": " : "", tail[0] ? tail :
			      " (killed, crashed, or its guest powered off)");
		qemu_notice(q, "%s (%s)", e.message, why ? why->message : "");
		qemu_tell_failed(q, part->id, &e);
	}
	qcall_wake_all(q, part->id, QCALL_ON_DOWN, QCALL_DOWN, NULL, NULL, NULL);
	qpart_release(part);
}

static void qmp_closed(void *ctx, int rc, const struct dhp_error *why)
{
	(void)rc;
	part_down(ctx, why);
}

static void qmp_event(void *ctx, const char *event, json_t *data)
{
	struct qpart *part = ctx;

	qcall_wake_all(part->q, part->id, QCALL_ON_EVENT, QCALL_EVENT, event, data, NULL);
}

/* ---- the agent ---- */

static void agent_hello(void *ctx, const struct dhp_proto_hello *hello)
{
	struct qpart *part = ctx;
	bool was = part->agent_ready;

	part->agent_ready = true;
	part->caps = hello->caps;
	dhp_error_clear(&part->agent_refused);
	if (part->started && !was)
		qemu_tell_ready(part->q, part->id, true);
	qcall_wake_all(part->q, part->id, QCALL_ON_HELLO, QCALL_HELLO, NULL, NULL, NULL);
}

/* A hello of a higher major version (docs/agent-protocol.md, Versioning):
 * the agent counts as absent, and people are told why, once (the channel
 * reports a refusal once, not each repeated hello). */
static void agent_refused(void *ctx, const struct dhp_error *why)
{
	struct qpart *part = ctx;
	bool was = part->agent_ready;

	part->agent_ready = false;
	part->caps = 0;
	part->agent_refused = *why;
	qemu_notice(part->q, "partition %u: the agent is refused: %s%s%s", part->id, why->message,
		    why->resolution[0] ? "; " : "", why->resolution);
	if (part->started && was && part->up)
		qemu_tell_ready(part->q, part->id, false);
	qcall_wake_all(part->q, part->id, QCALL_ON_REFUSED, QCALL_REFUSED, NULL, NULL, NULL);
}

bool qpart_agent_refused(struct qcall *c, const char *what)
{
	struct qpart *part = qcall_part(c);
	struct dhp_error e = { 0 };

	if (!part || part->agent_ready || !part->agent_refused.code)
		return false;
	dhp_error_set(&e, -ENOTCONN, "no agent is connected in partition %u: its OS cannot be "
		      "asked to %s (its agent is refused: %s)", c->partition, what,
		      part->agent_refused.message);
	dhp_error_resolve(&e, "%s", part->agent_refused.resolution);
	qcall_end(c, e.code, &e);
	return true;
}

static void agent_event(void *ctx, const struct dhp_proto_event *event)
{
	struct qpart *part = ctx;

	qcall_wake_all(part->q, part->id, QCALL_ON_AGENT_EVENT, QCALL_AGENT_EVENT, NULL, NULL,
		       event);
}

static void agent_closed(void *ctx, int rc, const struct dhp_error *why)
{
	struct qpart *part = ctx;
	bool was = part->agent_ready;

	(void)rc, (void)why;
	part->agent_ready = false;
	qagent_free(part->agent);
	part->agent = NULL;
	if (part->started && was && part->up)
		qemu_tell_ready(part->q, part->id, false);
}

static int agent_open(struct qpart *part, struct dhp_error *err)
{
	char path[QEMU_PATH_MAX];
	struct qagent_config cfg = {
		.loop = part->q->loop, .path = path, .on_hello = agent_hello,
		.on_refused = agent_refused, .on_event = agent_event, .on_close = agent_closed, .ctx = part,
	};
	int r = qemu_part_path(part->q, part->id, "agent.sock", path, sizeof(path));

	dhp_error_clear(&part->agent_refused);
	if (!r)
		r = qagent_connect(&cfg, &part->agent, err);
	if (!r)
		r = qagent_want_hello(part->agent, HELLO_INTERVAL_MS);
	return r;
}

/* ---- connecting ---- */

__attribute__((format(printf, 2, 3)))
static int connect_failed(struct qconnect *k, const char *fmt, ...)
{
	va_list ap;

	dhp_error_clear(&k->err);
	k->err.code = -EHOSTDOWN;
	va_start(ap, fmt);
	vsnprintf(k->err.message, sizeof(k->err.message), fmt, ap);
	va_end(ap);
	return k->err.code;
}

/* QEMU's sockets listen once it daemonized, but a QEMU found running
 * may be slow to take the connection: retried until k->until. */
static int connect_try(struct qcall *c, struct qconnect *k)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	char path[QEMU_PATH_MAX];
	struct qmp_config cfg = {
		.loop = c->q->loop, .path = path, .on_event = qmp_event, .on_close = qmp_closed,
		.ctx = part,
	};
	struct dhp_error e = { 0 };
	uint64_t now = dhp_loop_now(c->q->loop);
	int r;

	if (!part)
		return connect_failed(k, "partition %u went away", c->partition);
	qemu_part_path(c->q, c->partition, "qmp.sock", path, sizeof(path));
	qcall_await(c);
	r = qmp_connect(&cfg, (uint32_t)(k->until > now ? k->until - now : 1), qcall_qmp_answer,
			c, &part->qmp, &e);
	if (r == 0)
		return 1;
	qcall_unawait(c);
	if ((r == -ENOENT || r == -ECONNREFUSED || r == -EAGAIN) && now < k->until) {
		qcall_after(c, CONNECT_RETRY_MS);
		return 1;
	}
	return connect_failed(k, "QEMU of partition %u does not answer QMP: %s", c->partition,
			      e.message);
}

int qpart_connect_begin(struct qcall *c, struct qconnect *k, uint32_t within_ms)
{
	k->until = dhp_loop_now(c->q->loop) + within_ms;
	return connect_try(c, k);
}

int qpart_connect_step(struct qcall *c, struct qconnect *k)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	struct dhp_error e = { 0 };

	if (c->wake == QCALL_TIMER)
		return connect_try(c, k);
	if (c->wake != QCALL_QMP)
		return 1;
	if (!part || c->got)
		return connect_failed(k, "QEMU of partition %u does not answer QMP: %s",
				      c->partition, c->got_err ? c->got_err->message : "it exited");
	part->up = true;
	/* Without the agent the partition runs, but takes no part in online
	 * operations; the start waits for its hello. */
	if (agent_open(part, &e) < 0)
		qemu_notice(c->q, "partition %u: %s", c->partition, e.message);
	return 0;
}
