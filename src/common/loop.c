/* SPDX-License-Identifier: MIT */
/*
 * The built-in event loop: a binary heap of timers ordered by due time and
 * then by arming order, so timers armed for the same instant run in the
 * order they were armed (the engine relies on that for fairness).
 * Cancelled timers stay in the heap, marked, and are freed when they reach
 * the top: cancelling is O(1) and never reorders the heap.
 */
#include "common/loop.h"

#include <stdlib.h>
#include <time.h>

struct dhp_timer {
	uint64_t due;
	uint64_t seq;
	dhp_timer_fn fn;
	void *arg;
	bool cancelled;
};

struct builtin_loop {
	struct dhp_loop base;
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

static const struct dhp_loop_ops builtin_ops = {
	.now_ms = builtin_now,
	.timer_add = builtin_timer_add,
	.timer_cancel = builtin_timer_cancel,
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
	free(l->heap);
	free(l);
}

static void drop_cancelled_top(struct builtin_loop *l)
{
	while (l->len && l->heap[0]->cancelled)
		free(heap_pop(l));
}

unsigned dhp_loop_run_once(struct dhp_loop *loop)
{
	struct builtin_loop *l = to_builtin(loop);
	unsigned ran = 0;
	uint64_t now;

	drop_cancelled_top(l);
	if (!l->len)
		return 0;
	now = builtin_now(loop);
	if (l->heap[0]->due > now) {
		if (l->virtual_time) {
			l->virtual_now = l->heap[0]->due;
		} else {
			uint64_t wait = l->heap[0]->due - now;
			struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
		now = builtin_now(loop);
	}
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
	while (!l->stopped && l->live)
		dhp_loop_run_once(loop);
}

void dhp_loop_stop(struct dhp_loop *loop)
{
	to_builtin(loop)->stopped = true;
}

unsigned dhp_loop_pending(struct dhp_loop *loop)
{
	return to_builtin(loop)->live;
}
