/* SPDX-License-Identifier: MIT */
/*
 * What the engine is told about a partition without asking: that its OS
 * went down on its own (partition_failed), or that its agent came or went
 * (os_ready). Always from the loop, never from inside a QMP or agent
 * dispatch, in the order it happened.
 */
#include "backend/qemu/object.h"

#include <stdlib.h>

struct qtell {
	uint32_t id;
	bool failed, ready;
	struct dhp_error why;
	struct qtell *next;
};
static void tell_fire(void *arg)
{
	struct qemu *q = arg;
	struct dhp_backend_listener *l = &q->base.listener;

	q->tell_timer = NULL;
	while (q->tells) {
		struct qtell *t = q->tells;

		q->tells = t->next;
		if (t->failed && l->partition_failed)
			l->partition_failed(l->ctx, t->id, &t->why);
		else if (!t->failed && l->os_ready)
			l->os_ready(l->ctx, t->id, t->ready);
		free(t);
	}
}

static void tell(struct qemu *q, uint32_t id, bool failed, bool ready, const struct dhp_error *why)
{
	struct qtell *t = calloc(1, sizeof(*t)), **tail = &q->tells;

	if (!t)
		return;
	*t = (struct qtell){ .id = id, .failed = failed, .ready = ready };
	if (why)
		t->why = *why;
	while (*tail)
		tail = &(*tail)->next;
	*tail = t;
	if (!q->tell_timer)
		q->tell_timer = dhp_timer_add(q->loop, 0, tell_fire, q);
}

void qemu_tell_failed(struct qemu *q, uint32_t id, const struct dhp_error *why)
{
	tell(q, id, true, false, why);
}

void qemu_tell_ready(struct qemu *q, uint32_t id, bool ready)
{
	tell(q, id, false, ready, NULL);
}

void qemu_tell_free_all(struct qemu *q)
{
	dhp_timer_cancel(q->loop, q->tell_timer);
	q->tell_timer = NULL;
	while (q->tells) {
		struct qtell *t = q->tells;

		q->tells = t->next;
		free(t);
	}
}

