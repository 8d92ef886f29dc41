/* SPDX-License-Identifier: MIT */
/*
 * A QMP client on the event loop: the QEMU Machine Protocol over a unix
 * socket, line-delimited JSON. Commands carry an id and a deadline; their
 * replies are routed back by id; asynchronous events (ACPI_DEVICE_OST,
 * DEVICE_DELETED, SHUTDOWN, ...) go to one callback. Every line from QEMU
 * is capped before it is buffered.
 */
#ifndef DHP_BACKEND_QEMU_QMP_H
#define DHP_BACKEND_QEMU_QMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"

struct qmp;

/* A command's outcome: rc 0 with ret (the "return" member, borrowed for
 * the call), or a negative errno with err: -EIO QEMU's "error" (its class
 * and desc in err), -ETIMEDOUT, -ECONNRESET the connection went away. */
typedef void (*qmp_reply_fn)(void *ctx, int rc, json_t *ret, const struct dhp_error *err);
/* An event: its name and "data" (borrowed; may be NULL). */
typedef void (*qmp_event_fn)(void *ctx, const char *event, json_t *data);

struct qmp_config {
	struct dhp_loop *loop;
	const char *path;		/* QEMU's -qmp unix:PATH,server=on */
	size_t max_line;		/* 0: 1 MiB */
	qmp_event_fn on_event;
	/* The connection is gone (QEMU exited, or a protocol error): rc and
	 * why. Commands still pending were answered -ECONNRESET first. */
	void (*on_close)(void *ctx, int rc, const struct dhp_error *why);
	void *ctx;
};

/*
 * Connect, read QEMU's greeting and enter command mode
 * (qmp_capabilities); ready(ctx, rc, err) is called once from the loop
 * when that is done or has failed (within timeout_ms). On success the
 * client is in *ret_qmp at once (commands sent before ready are queued).
 * Free with qmp_free().
 */
int qmp_connect(const struct qmp_config *config, uint32_t timeout_ms,
		qmp_reply_fn ready, void *ready_ctx, struct qmp **ret_qmp,
		struct dhp_error *err);

/* Send a command; args (may be NULL) is taken. fn is called exactly once,
 * from the loop, unless the client is freed first. */
int qmp_command(struct qmp *qmp, const char *execute, json_t *args, uint32_t timeout_ms,
		qmp_reply_fn fn, void *ctx);

/* Close without calling anyone back. Accepts NULL. */
void qmp_free(struct qmp *qmp);

#endif
