/* SPDX-License-Identifier: MIT */
/*
 * The Redfish service, the whole interface of src/redfish: dhp's engine as
 * DMTF Redfish resources (docs/redfish.md), with accounts and sessions
 * from auth/auth.h and event streams (docs/dhpd.md, "Event stream").
 *
 * It serves through http/http.h without being part of it: the program
 * (dhpd) puts redfish_http_handler() in the HTTP server's config, and the
 * server calls it for every request; handlers run on the loop and never
 * block.
 */
#ifndef DHP_REDFISH_REDFISH_H
#define DHP_REDFISH_REDFISH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "common/error.h"
#include "common/loop.h"
#include "core/core.h"
#include "http/http.h"

/*
 * How the service POSTs an event to a push subscription's receiver: dhpd
 * gives src/push's (libcurl), so that the service itself links no HTTP
 * client. post starts a POST of body (copied) to url and returns a handle,
 * or NULL when it cannot start; done is then called once, later, from the
 * loop, with the HTTP status or a negative errno and a detail. cancel
 * drops a POST whose done has not run (done is never called for it).
 */
typedef void (*redfish_sent_fn)(void *arg, int status, const char *detail);
struct redfish_sender {
	void *(*post)(void *ctx, const char *url, const char *body, size_t len,
		      redfish_sent_fn done, void *arg);
	void (*cancel)(void *ctx, void *post);
	void *ctx;
};

struct redfish_config {
	struct auth *auth;		/* borrowed: must outlive the service */
	struct dhp_loop *loop;		/* borrowed: must outlive the service */
	unsigned max_sse_clients;	/* event streams open at once; 503 beyond */
	/* Push subscriptions (docs/redfish.md, "Event subscriptions"). With
	 * no sender.post they are kept and listed, never delivered. */
	struct redfish_sender sender;
	unsigned retry_attempts;	/* EventService.DeliveryRetryAttempts */
	unsigned retry_interval_s;	/* EventService.DeliveryRetryIntervalSeconds */
	/* How long a composition reservation holds its blocks
	 * (CompositionService.ReservationDuration); 0: 300 s. */
	unsigned reservation_lifetime_s;
	/* Where the service says what no request is told (a receiver
	 * suspended, events dropped); NULL: nowhere. One line, no newline. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

struct redfish;

/*
 * The service (dhpd makes one). The engine takes its listener in its
 * config, so the service comes first: make it, put
 * redfish_core_listener() in the engine's config, then
 * redfish_set_core(). Caller frees with redfish_free(), after the HTTP
 * server (http_free) and the engine.
 */
int redfish_new(const struct redfish_config *config, struct redfish **ret_rf,
		struct dhp_error *err);
void redfish_free(struct redfish *rf);
struct dhp_core_listener redfish_core_listener(struct redfish *rf);
void redfish_set_core(struct redfish *rf, struct dhp_core *core);

/* The service's side of the HTTP server: put it in http_config.handler.
 * Valid until redfish_free(). */
struct http_handler redfish_http_handler(struct redfish *rf);

enum redfish_state {
	REDFISH_RECOVERING,	/* the engine recovers: 503 but for unauthenticated routes */
	REDFISH_READY,
	REDFISH_STOPPING,	/* dhpd stops: 503 but for unauthenticated routes */
};
void redfish_set_state(struct redfish *rf, enum redfish_state state);

#endif
