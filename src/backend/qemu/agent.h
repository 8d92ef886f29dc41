/* SPDX-License-Identifier: MIT */
/*
 * The agent channel: dhpd's end of the agent protocol
 * (docs/agent-protocol.md) over a partition's agent.sock, which QEMU
 * connects to the guest's ttyS1. Lines are capped by the protocol's reader
 * before anything is kept; requests carry ids and deadlines and their
 * replies are routed back by id; the agent's hello is kept. A hello of a
 * higher major version is refused (docs/agent-protocol.md, Versioning):
 * the agent is then absent until a hello of our version comes.
 *
 * Callbacks may free the channel: it is then only marked, and freed when
 * the dispatch that called them unwinds (STYLE.md 11).
 */
#ifndef DHP_BACKEND_QEMU_AGENT_H
#define DHP_BACKEND_QEMU_AGENT_H

#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"
#include "proto/proto.h"

struct qagent;

struct qagent_config {
	struct dhp_loop *loop;
	const char *path;		/* agent.sock */
	/* A hello of our major version came (again: the agent reopened its
	 * end, or answered op hello). hello is borrowed for the call. */
	void (*on_hello)(void *ctx, const struct dhp_proto_hello *hello);
	/* Optional. A hello of a higher major version came: we cannot talk
	 * to that agent, so it counts as absent (on_hello is not called, an
	 * earlier hello is forgotten: qagent_hello() is NULL, and the hello
	 * requests of qagent_want_hello() stop; a newly started agent sends
	 * its hello unasked). why is -EPROTONOSUPPORT with the decoder's
	 * words ("the peer speaks agent protocol version 2; this side speaks
	 * version 1") and a resolution; borrowed for the call. Called once
	 * per refusal: the refused agent's repeated hellos are not reported
	 * again, until a hello of our version has ended the refusal. */
	void (*on_refused)(void *ctx, const struct dhp_error *why);
	/* Optional. A spontaneous event of the agent: a kernel uevent it
	 * relays (a processor, a memory block or a PCI function added,
	 * removed, onlined, offlined), or an error event. Borrowed. */
	void (*on_event)(void *ctx, const struct dhp_proto_event *event);
	/* The connection is gone; requests still pending were answered
	 * -ECONNRESET first. */
	void (*on_close)(void *ctx, int rc, const struct dhp_error *why);
	void *ctx;
};

/*
 * A request's outcome. rc 0: ok or approve; -EPERM: deny; the agent's
 * errno for an error (at least -EIO); reply is then the agent's (borrowed
 * for the call). -ETIMEDOUT or -ECONNRESET with reply NULL. err says it
 * in words in every failure.
 */
typedef void (*qagent_reply_fn)(void *ctx, int rc, const struct dhp_proto_reply *reply,
				const struct dhp_error *err);

/* Connect to path (QEMU listens there as soon as it runs) and send a
 * newline, ending whatever half line the guest holds. Free with
 * qagent_free(). */
int qagent_connect(const struct qagent_config *cfg, struct qagent **ret_agent,
		   struct dhp_error *err);

/* Send op hello every interval_ms until a hello comes (or is refused):
 * one sent before we listened was lost, and bytes sent while the guest
 * boots may be too. */
int qagent_want_hello(struct qagent *a, uint32_t interval_ms);

/* Send req (its id is chosen here); fn is called once from the loop,
 * unless the channel is freed first. */
int qagent_request(struct qagent *a, const struct dhp_proto_request *req, uint32_t timeout_ms,
		   qagent_reply_fn fn, void *ctx);

/* The last hello, or NULL before one came and after a refused one. */
const struct dhp_proto_hello *qagent_hello(const struct qagent *a);

/* Close without calling anyone back. Accepts NULL. */
void qagent_free(struct qagent *a);
/* Close, answering pending requests -ECONNRESET (on_close is not called),
 * and free. Accepts NULL. */
void qagent_close(struct qagent *a);

#endif
