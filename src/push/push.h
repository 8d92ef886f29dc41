/* SPDX-License-Identifier: MIT */
/*
 * HTTP POSTs of JSON bodies to event receivers, driven by a dhp_loop: the
 * whole interface of src/push, dhpd's sender for Redfish push
 * subscriptions (docs/redfish.md, "Event subscriptions").
 *
 * On libcurl's multi interface: curl tells which sockets to watch and when
 * to time out, and the loop's io watches and timers call it back, so a
 * POST never blocks the loop (no thread). https receivers are verified
 * against the system's CA store (or ca_file); there is no switch to turn
 * that off. Knows nothing of Redfish.
 */
#ifndef DHP_PUSH_PUSH_H
#define DHP_PUSH_PUSH_H

#include <stddef.h>

#include "common/error.h"
#include "common/loop.h"

struct push_config {
	unsigned timeout_ms;		/* a whole POST; 0: 10 s */
	unsigned connect_timeout_ms;	/* 0: 5 s */
	const char *ca_file;		/* PEM bundle; NULL: the system's store */
};

struct push;
struct push_post;

/*
 * Called once per POST that was not cancelled, from the loop, never from
 * inside push_post(): status is the HTTP status of the answer, or a
 * negative errno when none came (-ETIMEDOUT, -ECONNREFUSED, -EPROTO for a
 * TLS failure, -EIO otherwise), with curl's words in detail. The post is
 * freed after done returns: do not cancel it from done.
 */
typedef void (*push_done_fn)(void *arg, int status, const char *detail);

/* loop is borrowed and must outlive the client. Caller frees with
 * push_free(), which drops every POST in flight without calling back. */
int push_new(struct dhp_loop *loop, const struct push_config *config, struct push **ret_push,
	     struct dhp_error *err);
void push_free(struct push *push);

/* Start a POST of body (copied; Content-Type application/json) to url
 * (http:// or https://). NULL when out of memory or curl refused it. */
struct push_post *push_post(struct push *push, const char *url, const char *body, size_t len,
			    push_done_fn done, void *arg);
/* Drop a POST not done yet; done is not called. Accepts NULL. */
void push_cancel(struct push *push, struct push_post *post);
/* POSTs in flight. */
unsigned push_in_flight(const struct push *push);

#endif
