/* SPDX-License-Identifier: MIT */
/*
 * dhp_loop on libuv. A timer's memory is freed in libuv's close callback,
 * never in the frame of its own timer callback: libuv still touches the
 * handle after the callback returns. A timer that fired or was cancelled
 * is closed at once; the loop itself is freed when its last timer is.
 */
#include "dhpd/uvloop.h"

#include <stdlib.h>

struct dhp_timer {
	uv_timer_t handle;
	struct uvloop *loop;
	dhp_timer_fn fn;
	void *arg;
	bool done;			/* fired or cancelled: closing */
	struct dhp_timer *prev, *next;	/* armed timers */
};

struct uvloop {
	struct dhp_loop base;
	uv_loop_t *uv;
	struct dhp_timer *armed;
	unsigned open;			/* timers not closed yet */
	bool freeing;
};

static struct uvloop *to_uvloop(struct dhp_loop *loop)
{
	return (struct uvloop *)loop;
}

static uint64_t uvl_now(struct dhp_loop *loop)
{
	return uv_now(to_uvloop(loop)->uv);
}

static void on_closed(uv_handle_t *h)
{
	struct dhp_timer *t = h->data;
	struct uvloop *l = t->loop;

	free(t);
	if (!--l->open && l->freeing)
		free(l);
}

/* Off the armed list and closed; safe inside its own callback. */
static void timer_finish(struct dhp_timer *t)
{
	struct uvloop *l = t->loop;

	t->done = true;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->armed = t->next;
	if (t->next)
		t->next->prev = t->prev;
	uv_timer_stop(&t->handle);
	uv_close((uv_handle_t *)&t->handle, on_closed);
}

static void on_timer(uv_timer_t *h)
{
	struct dhp_timer *t = h->data;
	dhp_timer_fn fn = t->fn;
	void *arg = t->arg;

	/* The handle is invalid for its owner from here (loop.h): a cancel
	 * from inside fn must find it done. */
	timer_finish(t);
	fn(arg);
}

static struct dhp_timer *uvl_timer_add(struct dhp_loop *loop, uint64_t delay_ms,
				      dhp_timer_fn fn, void *arg)
{
	struct uvloop *l = to_uvloop(loop);
	struct dhp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	uv_timer_init(l->uv, &t->handle);
	t->handle.data = t;
	l->open++;
	t->next = l->armed;
	if (l->armed)
		l->armed->prev = t;
	l->armed = t;
	uv_timer_start(&t->handle, on_timer, delay_ms, 0);
	return t;
}

static void uvl_timer_cancel(struct dhp_loop *loop, struct dhp_timer *t)
{
	(void)loop;
	if (!t->done)
		timer_finish(t);
}

/* A watched descriptor: a uv_poll_t, freed in its close callback like a
 * timer (and counted with them, so the loop outlives both). */
struct dhp_io {
	uv_poll_t handle;
	struct uvloop *loop;
	dhp_io_fn fn;
	void *arg;
	bool done;
};

static void on_io_closed(uv_handle_t *h)
{
	struct dhp_io *io = h->data;
	struct uvloop *l = io->loop;

	free(io);
	if (!--l->open && l->freeing)
		free(l);
}

static void on_io(uv_poll_t *h, int status, int events)
{
	struct dhp_io *io = h->data;
	unsigned ev = (events & UV_READABLE ? DHP_IO_READ : 0) |
		      (events & UV_WRITABLE ? DHP_IO_WRITE : 0) |
		      (status < 0 || (events & UV_DISCONNECT) ? DHP_IO_ERROR : 0);

	if (!io->done)
		io->fn(io->arg, ev);
}

static int uv_events(unsigned events)
{
	return (events & DHP_IO_READ ? UV_READABLE : 0) | (events & DHP_IO_WRITE ? UV_WRITABLE : 0);
}

static struct dhp_io *uvl_io_add(struct dhp_loop *loop, int fd, unsigned events,
				 dhp_io_fn fn, void *arg)
{
	struct uvloop *l = to_uvloop(loop);
	struct dhp_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	if (uv_poll_init(l->uv, &io->handle, fd) < 0) {
		free(io);
		return NULL;
	}
	io->loop = l;
	io->fn = fn;
	io->arg = arg;
	io->handle.data = io;
	l->open++;
	uv_poll_start(&io->handle, uv_events(events), on_io);
	return io;
}

static void uvl_io_modify(struct dhp_loop *loop, struct dhp_io *io, unsigned events)
{
	(void)loop;
	if (!io->done)
		uv_poll_start(&io->handle, uv_events(events), on_io);
}

static void uvl_io_cancel(struct dhp_loop *loop, struct dhp_io *io)
{
	(void)loop;
	if (io->done)
		return;
	io->done = true;
	uv_poll_stop(&io->handle);
	uv_close((uv_handle_t *)&io->handle, on_io_closed);
}

static const struct dhp_loop_ops uvl_ops = {
	.now_ms = uvl_now,
	.timer_add = uvl_timer_add,
	.timer_cancel = uvl_timer_cancel,
	.io_add = uvl_io_add,
	.io_modify = uvl_io_modify,
	.io_cancel = uvl_io_cancel,
};

struct dhp_loop *uvloop_new(uv_loop_t *uv)
{
	struct uvloop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->base.ops = &uvl_ops;
	l->uv = uv;
	return &l->base;
}

void uvloop_free(struct dhp_loop *loop)
{
	struct uvloop *l = to_uvloop(loop);

	if (!loop)
		return;
	while (l->armed)
		timer_finish(l->armed);
	if (l->open)
		l->freeing = true;
	else
		free(l);
}
