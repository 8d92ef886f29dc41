/* SPDX-License-Identifier: MIT */
/*
 * The event loop seam.
 *
 * The core and the backends never block: they arm timers (a zero delay
 * defers a call to the next turn of the loop) and are called back. The loop
 * is an ops table so that dhpd can run the core on libuv while tests run it
 * on the built-in loop below, whose clock can be virtual: a test that waits
 * for a 30 s deadline then takes microseconds and is deterministic.
 */
#ifndef DHP_COMMON_LOOP_H
#define DHP_COMMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dhp_loop;
struct dhp_timer;
typedef void (*dhp_timer_fn)(void *arg);

struct dhp_loop_ops {
	uint64_t (*now_ms)(struct dhp_loop *loop);
	/* NULL on allocation failure. The handle is valid until fn runs or
	 * timer_cancel is called, whichever is first. */
	struct dhp_timer *(*timer_add)(struct dhp_loop *loop, uint64_t delay_ms,
				       dhp_timer_fn fn, void *arg);
	void (*timer_cancel)(struct dhp_loop *loop, struct dhp_timer *timer);
};

struct dhp_loop {
	const struct dhp_loop_ops *ops;
};

static inline uint64_t dhp_loop_now(struct dhp_loop *loop)
{
	return loop->ops->now_ms(loop);
}

static inline struct dhp_timer *dhp_timer_add(struct dhp_loop *loop, uint64_t delay_ms,
					      dhp_timer_fn fn, void *arg)
{
	return loop->ops->timer_add(loop, delay_ms, fn, arg);
}

/* Accepts NULL. */
static inline void dhp_timer_cancel(struct dhp_loop *loop, struct dhp_timer *timer)
{
	if (timer)
		loop->ops->timer_cancel(loop, timer);
}

/*
 * The built-in loop: timers only, single-threaded. With virtual_time the
 * clock jumps to the next due timer instead of sleeping.
 * Caller frees with dhp_loop_free().
 */
struct dhp_loop *dhp_loop_new(bool virtual_time);
void dhp_loop_free(struct dhp_loop *loop);

/* Run due timers until none is left or dhp_loop_stop() is called. */
void dhp_loop_run(struct dhp_loop *loop);
/* Run every timer due now (advancing a virtual clock to the first one if
 * nothing is due); returns the number of timers run. */
unsigned dhp_loop_run_once(struct dhp_loop *loop);
void dhp_loop_stop(struct dhp_loop *loop);
/* Number of timers armed and not cancelled. */
unsigned dhp_loop_pending(struct dhp_loop *loop);

#endif
