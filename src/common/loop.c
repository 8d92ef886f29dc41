/* SPDX-License-Identifier: MIT */
/*
 * The built-in event loop: poll() over the watched descriptors, and a
 * binary heap of timers ordered by due time and
 * then by arming order, so timers armed for the same instant run in the
 * order they were armed (the engine relies on that for fairness).
 * Cancelled timers stay in the heap, marked, and are freed when they reach
 * the top: cancelling is O(1) and never reorders the heap.
 */
#include "common/loop.h"

#include <poll.h>
#include <stdlib.h>
#include <time.h>

struct dhp_timer {
	uint64_t due;
	uint64_t seq;
	dhp_timer_fn fn;
	void *arg;
	bool cancelled;
};

struct dhp_io {
	int fd;
	unsigned events;
	dhp_io_fn fn;
	void *arg;
	bool cancelled;
	struct dhp_io *next;
};

struct builtin_loop {
	struct dhp_loop base;
	struct dhp_io *ios;		/* cancelled ones are freed after a dispatch */
	unsigned n_ios;
	bool virtual_time;
	bool stopped;
	uint64_t virtual_now;
	uint64_t next_seq;
	unsigned live;
	struct dhp_timer **heap;
	size_t len, cap;
};

static struct builtin_loop *to_builtin(struct dhp_loop *loop)
{
	return (struct builtin_loop *)loop;
}

static uint64_t real_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t builtin_now(struct dhp_loop *loop)
{
	struct builtin_loop *l = to_builtin(loop);

	return l->virtual_time ? l->virtual_now : real_now_ms();
}

static bool timer_before(const struct dhp_timer *a, const struct dhp_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_up(struct builtin_loop *l, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct dhp_timer *tmp;

		if (!timer_before(l->heap[i], l->heap[parent]))
			break;
		tmp = l->heap[i];
		l->heap[i] = l->heap[parent];
		l->heap[parent] = tmp;
		i = parent;
	}
}

static void heap_down(struct builtin_loop *l, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, min = i;
		struct dhp_timer *tmp;

		if (left < l->len && timer_before(l->heap[left], l->heap[min]))
			min = left;
		if (right < l->len && timer_before(l->heap[right], l->heap[min]))
			min = right;
		if (min == i)
			return;
		tmp = l->heap[i];
		l->heap[i] = l->heap[min];
		l->heap[min] = tmp;
		i = min;
	}
}

static struct dhp_timer *heap_pop(struct builtin_loop *l)
{
	struct dhp_timer *top = l->heap[0];

	l->heap[0] = l->heap[--l->len];
	if (l->len)
		heap_down(l, 0);
	return top;
}

static struct dhp_timer *builtin_timer_add(struct dhp_loop *loop, uint64_t delay_ms,
					   dhp_timer_fn fn, void *arg)
{
	struct builtin_loop *l = to_builtin(loop);
	struct dhp_timer *t;

	if (l->len == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct dhp_timer **heap = realloc(l->heap, cap * sizeof(*heap));

		if (!heap)
			return NULL;
		l->heap = heap;
		l->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->due = builtin_now(loop) + delay_ms;
	t->seq = l->next_seq++;
	t->fn = fn;
	t->arg = arg;
	l->heap[l->len++] = t;
	heap_up(l, l->len - 1);
	l->live++;
	return t;
}

static void builtin_timer_cancel(struct dhp_loop *loop, struct dhp_timer *t)
{
	if (!t->cancelled) {
		t->cancelled = true;
		to_builtin(loop)->live--;
	}
}

static struct dhp_io *builtin_io_add(struct dhp_loop *loop, int fd, unsigned events,
				     dhp_io_fn fn, void *arg)
{
	struct builtin_loop *l = to_builtin(loop);
	struct dhp_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	*io = (struct dhp_io){ .fd = fd, .events = events, .fn = fn, .arg = arg, .next = l->ios };
	l->ios = io;
	l->n_ios++;
	return io;
}

static void builtin_io_modify(struct dhp_loop *loop, struct dhp_io *io, unsigned events)
{
	(void)loop;
	io->events = events;
}

/* Freed after the current dispatch: the caller may be inside io->fn. */
static void builtin_io_cancel(struct dhp_loop *loop, struct dhp_io *io)
{
	if (!io->cancelled) {
		io->cancelled = true;
		to_builtin(loop)->n_ios--;
	}
}

static const struct dhp_loop_ops builtin_ops = {
	.now_ms = builtin_now,
	.timer_add = builtin_timer_add,
	.timer_cancel = builtin_timer_cancel,
	.io_add = builtin_io_add,
	.io_modify = builtin_io_modify,
	.io_cancel = builtin_io_cancel,
};

struct dhp_loop *dhp_loop_new(bool virtual_time)
{
	struct builtin_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->base.ops = &builtin_ops;
	l->virtual_time = virtual_time;
	return &l->base;
}

void dhp_loop_free(struct dhp_loop *loop)
{
	struct builtin_loop *l = to_builtin(loop);

	if (!loop)
		return;
	for (size_t i = 0; i < l->len; i++)
		free(l->heap[i]);
	while (l->ios) {
		struct dhp_io *next = l->ios->next;

		free(l->ios);
		l->ios = next;
	}
	free(l->heap);
	free(l);
}

static void drop_cancelled_top(struct builtin_loop *l)
{
	while (l->len && l->heap[0]->cancelled)
		free(heap_pop(l));
}

static void drop_cancelled_ios(struct builtin_loop *l)
{
	for (struct dhp_io **pp = &l->ios; *pp;) {
		struct dhp_io *io = *pp;

		if (io->cancelled) {
			*pp = io->next;
			free(io);
		} else {
			pp = &io->next;
		}
	}
}

/* Wait up to timeout_ms (-1: forever) for the watched descriptors and run
 * the callbacks of those ready; returns how many ran. */
static unsigned poll_ios(struct builtin_loop *l, int timeout_ms)
{
	struct pollfd *fds;
	struct dhp_io **ios;
	unsigned n = 0, ran = 0;

	drop_cancelled_ios(l);
	fds = calloc(l->n_ios, sizeof(*fds));
	ios = calloc(l->n_ios, sizeof(*ios));
	if (!fds || !ios)
		goto out;
	for (struct dhp_io *io = l->ios; io && n < l->n_ios; io = io->next) {
		fds[n].fd = io->fd;
		fds[n].events = (short)((io->events & DHP_IO_READ ? POLLIN : 0) |
					(io->events & DHP_IO_WRITE ? POLLOUT : 0));
		ios[n++] = io;
	}
	if (poll(fds, n, timeout_ms) <= 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		unsigned events = (fds[i].revents & POLLIN ? DHP_IO_READ : 0) |
				  (fds[i].revents & POLLOUT ? DHP_IO_WRITE : 0) |
				  (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL) ? DHP_IO_ERROR : 0);

		/* An earlier callback may have cancelled this one. */
		if (events && !ios[i]->cancelled) {
			ios[i]->fn(ios[i]->arg, events);
			ran++;
		}
	}
out:
	free(fds);
	free(ios);
	drop_cancelled_ios(l);
	return ran;
}

unsigned dhp_loop_run_once(struct dhp_loop *loop)
{
	struct builtin_loop *l = to_builtin(loop);
	unsigned ran = 0;
	uint64_t now;

	drop_cancelled_top(l);
	now = builtin_now(loop);
	if (l->n_ios) {
		/* Descriptors make time real: wait for them until the first
		 * timer is due (a virtual clock then jumps to it). */
		int timeout = -1;

		if (l->len)
			timeout = l->heap[0]->due <= now ? 0 :
				  l->virtual_time ? 0 : (int)(l->heap[0]->due - now);
		ran += poll_ios(l, timeout);
		drop_cancelled_top(l);
		if (l->virtual_time && !ran && l->len && l->heap[0]->due > now)
			l->virtual_now = l->heap[0]->due;
	} else if (l->len && l->heap[0]->due > now) {
		if (l->virtual_time) {
			l->virtual_now = l->heap[0]->due;
		} else {
			uint64_t wait = l->heap[0]->due - now;
			struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	if (!l->len)
		return ran;
	now = builtin_now(loop);
	/* Every timer due by now, including zero-delay ones armed by the
	 * callbacks themselves (deferred calls run in the same turn). */
	while (l->len && l->heap[0]->due <= now && !l->stopped) {
		struct dhp_timer *t = heap_pop(l);

		if (!t->cancelled) {
			l->live--;
			t->fn(t->arg);
			ran++;
		}
		free(t);
		drop_cancelled_top(l);
	}
	return ran;
}

void dhp_loop_run(struct dhp_loop *loop)
{
	struct builtin_loop *l = to_builtin(loop);

	l->stopped = false;
	while (!l->stopped && (l->live || l->n_ios))
		dhp_loop_run_once(loop);
}

void dhp_loop_stop(struct dhp_loop *loop)
{
	to_builtin(loop)->stopped = true;
}

unsigned dhp_loop_pending(struct dhp_loop *loop)
{
	return to_builtin(loop)->live + to_builtin(loop)->n_ios;
}
