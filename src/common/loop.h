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
struct dhp_io;
typedef void (*dhp_timer_fn)(void *arg);

/* What a file descriptor is watched for, and what happened to it. */
#define DHP_IO_READ	(1u << 0)
#define DHP_IO_WRITE	(1u << 1)
#define DHP_IO_ERROR	(1u << 2)	/* reported only: hang-up or error */
typedef void (*dhp_io_fn)(void *arg, unsigned events);

struct dhp_loop_ops {
	uint64_t (*now_ms)(struct dhp_loop *loop);
	/* NULL on allocation failure. The handle is valid until fn runs or
	 * timer_cancel is called, whichever is first. */
	struct dhp_timer *(*timer_add)(struct dhp_loop *loop, uint64_t delay_ms,
				       dhp_timer_fn fn, void *arg);
	void (*timer_cancel)(struct dhp_loop *loop, struct dhp_timer *timer);
	/* Watch fd (which the caller keeps and closes) for events; fn is
	 * called while they hold. NULL on allocation failure. The handle is
	 * valid until io_cancel, which may be called from inside fn. */
	struct dhp_io *(*io_add)(struct dhp_loop *loop, int fd, unsigned events,
				 dhp_io_fn fn, void *arg);
	void (*io_modify)(struct dhp_loop *loop, struct dhp_io *io, unsigned events);
	void (*io_cancel)(struct dhp_loop *loop, struct dhp_io *io);
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

static inline struct dhp_io *dhp_io_add(struct dhp_loop *loop, int fd, unsigned events,
					dhp_io_fn fn, void *arg)
{
	return loop->ops->io_add(loop, fd, events, fn, arg);
}

static inline void dhp_io_modify(struct dhp_loop *loop, struct dhp_io *io, unsigned events)
{
	loop->ops->io_modify(loop, io, events);
}

/* Accepts NULL. */
static inline void dhp_io_cancel(struct dhp_loop *loop, struct dhp_io *io)
{
	if (io)
		loop->ops->io_cancel(loop, io);
}

/*
 * The built-in loop: timers and file descriptors (poll), single-threaded. With virtual_time the
 * clock jumps to the next due timer instead of sleeping.
 * Caller frees with dhp_loop_free().
 */
struct dhp_loop *dhp_loop_new(bool virtual_time);
void dhp_loop_free(struct dhp_loop *loop);

/* Run until no timer or watched descriptor is left, or dhp_loop_stop(). */
void dhp_loop_run(struct dhp_loop *loop);
/* Wait for the first timer or descriptor event, then run every timer due
 * and every descriptor ready (a virtual clock jumps to the first timer
 * when no descriptor is watched); returns the number of callbacks run. */
unsigned dhp_loop_run_once(struct dhp_loop *loop);
void dhp_loop_stop(struct dhp_loop *loop);
/* Number of timers armed and descriptors watched. */
unsigned dhp_loop_pending(struct dhp_loop *loop);

#endif
