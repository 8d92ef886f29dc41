/* SPDX-License-Identifier: MIT */
/*
 * The engine's loop seam (common/loop.h) on libuv: one uv_timer_t per
 * dhp_timer, on dhpd's one loop. The clock is libuv's (uv_now: monotonic,
 * milliseconds, cached at each turn of the loop), the one its timers use.
 */
#ifndef DHP_DHPD_UVLOOP_H
#define DHP_DHPD_UVLOOP_H

#include <uv.h>

#include "common/loop.h"

/* A dhp_loop on uv (borrowed; must outlive it). NULL when out of memory.
 * Caller frees with uvloop_free(). */
struct dhp_loop *uvloop_new(uv_loop_t *uv);
/*
 * Cancel the timers still armed (their owners should have) and free the
 * loop once libuv has closed them: run uv once more before uv_loop_close.
 * Accepts NULL.
 */
void uvloop_free(struct dhp_loop *loop);

#endif
