/* SPDX-License-Identifier: MIT */
/*
 * Inside src/redfish, shared by its files (redfish.h is the interface):
 *
 *   redfish.c          the service object, its context for handlers, who
 *                      is asking, and its side of the HTTP server
 *   errors.c           Redfish errors (Base registry 1.22)
 *   routes.c           routing, authentication, privileges, ETags, and
 *                      the headers of a GET's answer (Allow, Link)
 *   query.c            query parameters: which, and whether valid
 *   query-apply.c      only, $top/$skip and $select on a GET's answer
 *   expand.c           $expand: links replaced by the resources they name
 *   event-format.c     an event of dhp's journal as a Redfish Event
 *   sse.c              the SSE hub: streams, replay, live fan-out
 *   subs.c             event subscriptions (EventDestinations), push and SSE;
 *   subs-store.c       push ones in the store;
 *   deliver.c          POSTing events to a push one (redfish_config.sender)
 *   resources/         one file per resource (resources/resources.h)
 *
 * Calls go one way: redfish.c → routes.c → resources → sse.c, subs.c →
 * deliver.c → event-format.c; routes.c → query.c, query-apply.c →
 * expand.c, and these call back into routes.c's rf_get() for the
 * resources they read; everything uses errors.c. A handler fills a
 * struct http_response (http/http.h): a JSON body, headers, or a stream.
 * Handlers run on dhpd's one event loop and never block.
 */
#ifndef DHP_REDFISH_INTERNAL_H
#define DHP_REDFISH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/core.h"
#include "http/http.h"
#include "redfish/redfish.h"

#define RF_MAX_PARAMS 4

/* A request as a handler sees it: the HTTP layer's, routed. */
struct rf_request {
	enum http_method method;
	const char *path;		/* without the query, decoded */
	const char *params[RF_MAX_PARAMS];	/* the {} of the route, in order */
	unsigned n_params;
	json_t *body;			/* parsed JSON body, or NULL if none */
	/* Headers the service uses (NULL when absent). */
	const char *if_match;
	const char *if_none_match;
	const char *last_event_id;
	const char *range;		/* Range: "bytes=..." (the console) */
	/* Query parameters a handler uses (NULL when absent); the others
	 * apply to every GET's answer, in routes.c (struct rf_query). */
	const char *filter;		/* $filter */
	const struct auth_principal *who;	/* NULL only on unauthenticated routes */
	const char *source;		/* the client's address ("" if unknown) */
};

typedef void (*rf_handler_fn)(struct redfish *rf, const struct rf_request *req,
			      struct http_response *res);

struct rf_route {
	enum http_method method;
	const char *pattern;		/* "/redfish/v1/Systems/{}": {} is one path segment */
	rf_handler_fn handler;
	uint32_t privilege;		/* AUTH_PRIV_*, or 0: no authentication */
};

/* ---- redfish.c: the service's context, for handlers ---- */

struct dhp_core *rf_core(struct redfish *rf);
struct auth *rf_auth(struct redfish *rf);
struct dhp_loop *rf_loop(struct redfish *rf);
unsigned rf_max_sse_clients(const struct redfish *rf);
enum redfish_state rf_state(const struct redfish *rf);
struct rf_sse *rf_get_sse(struct redfish *rf);
struct rf_subs *rf_get_subs(struct redfish *rf);
/* The composition reservations (resources/reservations.c), a list head. */
struct rf_reservation **rf_get_reservations(struct redfish *rf);
/* A number for a new reservation: never one given before by this service. */
uint64_t rf_new_reservation_id(struct redfish *rf);
void rf_reservations_free(struct redfish *rf);
const struct redfish_config *rf_config(const struct redfish *rf);
/* A line for dhpd's log (redfish_config.log), printf-style. */
__attribute__((format(printf, 2, 3)))
void rf_log(struct redfish *rf, const char *fmt, ...);
/* Seconds of the monotonic clock every auth_* call of the service uses
 * (sessions must be created and checked on the same clock). */
uint64_t rf_now_s(struct redfish *rf);
/* Who presents req's credentials: 0, -EACCES with the reason in err, or
 * -EAGAIN while the client's address is blocked after failed logins. */
int rf_authenticate(struct redfish *rf, const struct http_request *req,
		    struct auth_principal *ret_who, struct dhp_error *err);

/*
 * A part of a body that depends only on key (and on kind, which names
 * what make() makes): made by make(key) once, then shared; a new
 * reference, or NULL when out of memory. Every body it is put in shares
 * it, so nothing may change it after (rf_query_select copies what it
 * prunes).
 */
json_t *rf_cached(struct redfish *rf, const char *kind, const char *key,
		  json_t *(*make)(const char *key));

/* ---- errors.c ---- */

/*
 * Fill res with a Redfish error: status, a Base registry MessageId
 * ("Base.1.22.ResourceNotFound" is written as "ResourceNotFound"), the
 * message (printf-style) and a resolution (may be NULL).
 */
__attribute__((format(printf, 5, 6)))
void rf_error(struct http_response *res, unsigned status, const char *message_id,
	      const char *resolution, const char *fmt, ...);
/* A dhp error (docs/errors.md) as a Redfish error: its code picks the
 * HTTP status and message id. */
void rf_error_from(struct http_response *res, const struct dhp_error *err);
/* What the HTTP server refused, as a Redfish error (http_handler.refuse). */
void rf_refuse(void *ctx, const struct http_refusal *why, struct http_response *res);
/* A success body: res takes body, status 200 (or as given). */
void rf_ok(struct http_response *res, unsigned status, json_t *body);

/* ---- routes.c ---- */

/*
 * Route req, check its credentials and privilege and the service's state,
 * and call the handler, or fill res with the error: 404, 405 with Allow,
 * 401 with WWW-Authenticate, 403, 503. Adds the ETag of a single
 * resource. Never fails (http_handler.handle).
 */
void rf_handle(void *ctx, const struct http_request *req, struct http_response *res);
/*
 * What a GET of path answers, as req's caller may read it: the route's
 * privilege is checked (403), no route is 404. res starts zeroed; the
 * caller releases it. path need not be a route's own spelling (a trailing
 * '/' is ignored). For $expand and only, which read the resources that
 * links name.
 */
void rf_get(struct redfish *rf, const struct rf_request *req, const char *path,
	    struct http_response *res);
/* 429 with Retry-After: source is blocked after failed logins (err says so). */
void rf_throttled(struct redfish *rf, const char *source, const struct dhp_error *err,
		  struct http_response *res);

/* Route tables of the resource files, each ending with a NULL pattern. */
extern const struct rf_route rf_routes_root[];		/* resources/root.c */
extern const struct rf_route rf_routes_systems[];	/* resources/systems.c */
extern const struct rf_route rf_routes_composition[];	/* resources/composition.c */
extern const struct rf_route rf_routes_chassis[];	/* resources/chassis.c */
extern const struct rf_route rf_routes_tasks[];		/* resources/tasks.c */
extern const struct rf_route rf_routes_events[];	/* resources/events.c */
extern const struct rf_route rf_routes_sessions[];	/* resources/sessions.c */
extern const struct rf_route rf_routes_accounts[];	/* resources/accounts.c */
extern const struct rf_route rf_routes_console[];	/* resources/console.c */
extern const struct rf_route rf_routes_oem[];		/* resources/oem.c */

/* ---- query.c, query-apply.c, expand.c: query parameters ---- */

/* The caps of $expand (docs/redfish.md, "Query parameters"): beyond them
 * a collection's members are cut, with a Members@odata.nextLink. */
#define RF_EXPAND_MAX_LEVELS	3
#define RF_EXPAND_MAX_RESOURCES	8192
#define RF_EXPAND_MAX_BYTES	(4u << 20)	/* of the resources read, as selected */

enum rf_expand {
	RF_EXPAND_NONE,
	RF_EXPAND_SUBORDINATE,		/* ".": links not under Links */
	RF_EXPAND_LINKS,		/* "~": links under Links only */
	RF_EXPAND_ALL,			/* "*": every link */
};

/* A request's query parameters, checked (DSP0266 "Query parameters"). */
struct rf_query {
	enum rf_expand expand;
	unsigned levels;		/* of $expand: 1 to RF_EXPAND_MAX_LEVELS */
	json_t *select;			/* $select as a tree: {"Status": {"Health": true},
					 * "Name": true}; NULL: every property */
	const char *select_text;	/* $select as sent (for a next link) */
	bool has_top, has_skip;
	uint64_t top, skip;
	bool only;
	const char *filter;		/* $filter, the handler's business */
};

/*
 * Check the query parameters of a request of method: 0 and q filled, or
 * -EINVAL with the error in res: 501 QueryNotSupported for an unknown
 * "$" parameter (or excerpt), 400 for a bad value, a forbidden
 * combination, or a query on a method other than GET and HEAD. Other
 * unknown parameters are ignored. q borrows the request's strings;
 * release it with rf_query_release().
 */
int rf_query_parse(struct rf_query *q, enum http_method method,
		   const struct http_query_param *params, unsigned n,
		   struct http_response *res);
void rf_query_release(struct rf_query *q);
/* Whether q asks anything of a GET's answer (only, $top, $skip,
 * $expand, $select). */
bool rf_query_shapes(const struct rf_query *q);
/* The answer of q->only: a collection of exactly one member becomes that
 * member (its GET's answer); any other collection is left as it is, and
 * a resource that is not a collection is a 400. */
void rf_query_only(struct redfish *rf, const struct rf_query *q, const struct rf_request *req,
		   struct http_response *res);
/* $top/$skip, $select and $expand on a GET's 200 answer in res; an
 * error replaces the answer. */
void rf_query_apply(struct redfish *rf, const struct rf_query *q, const struct rf_request *req,
		    struct http_response *res);
/* Keep of obj what tree (struct rf_query's select) names, and its
 * @odata.* annotations. */
void rf_query_select(json_t *obj, const json_t *tree);
/* The link to the rest of the collection at path, from skip on (top: how
 * many of them were asked for, 0 for all), with q's $expand and $select:
 * 0, or -ENAMETOOLONG. */
int rf_query_next_link(const struct rf_query *q, const char *path, uint64_t skip,
		       uint64_t top, char *buf, size_t len);

/* What $expand may still read in one answer. */
struct rf_expand_budget {
	unsigned resources;
	size_t bytes;
};
/*
 * Replace the links in body (the answer at req->path) by the resources
 * they name, levels deep, as q says. The members of the answer's own
 * collection are read as q's $select keeps them. A collection whose
 * members do not all fit in budget keeps those that do, with a
 * Members@odata.nextLink to the rest. 0, or -ENOMEM.
 */
int rf_expand(struct redfish *rf, const struct rf_request *req, const struct rf_query *q,
	      json_t *body, struct rf_expand_budget *budget);

/* ---- sse.c: the SSE hub (docs/dhpd.md, "Event stream") ---- */

struct rf_sse;
int rf_sse_new(struct redfish *rf, struct rf_sse **ret_sse);
void rf_sse_free(struct rf_sse *sse);
/* Events up to seq are committed and published (set once the engine is
 * there, from the store). */
void rf_sse_set_published(struct rf_sse *sse, uint64_t seq);
uint64_t rf_sse_published(const struct rf_sse *sse);
/* An event the engine published. */
void rf_sse_publish(struct rf_sse *sse, const struct dhp_event *ev);
/* Streams open now. */
unsigned rf_sse_clients(const struct rf_sse *sse);
/*
 * Answer res with an event stream for a client that has seen every event
 * up to after, and wants those about filter (an OriginResource URI) or,
 * with filter NULL, all. Takes ownership of filter (malloc'd) in every
 * case; 0, or -ENOMEM with a 500 in res.
 */
int rf_sse_stream(struct rf_sse *sse, char *filter, uint64_t after, const char *source,
		  struct http_response *res);
/* End the stream of an SSE EventDestination (its DELETE). */
void rf_sse_close(struct rf_sse *sse, void *client);

/* ---- event-format.c: an event as Redfish shows it ---- */

#define RF_EVENT_URI_MAX 160
/* The resources an event is about; "" when it names none of the kind. */
struct rf_event_origin {
	char system[RF_EVENT_URI_MAX];	/* the partition's ComputerSystem */
	char block[RF_EVENT_URI_MAX];		/* the unit's ResourceBlock */
	char task[RF_EVENT_URI_MAX];		/* the operation's Task */
	char origin[RF_EVENT_URI_MAX];	/* OriginOfCondition: the first of those, or the Chassis */
	char partition[DHP_NAME_MAX];
};
void rf_event_origin(struct redfish *rf, const struct dhp_event *ev, struct rf_event_origin *o);
/* The Event (NULL when out of memory). */
json_t *rf_event_json(const struct dhp_event *ev, const struct rf_event_origin *o);
/* Its MessageId, and the registry's severity in *severity. */
const char *rf_event_message_id(const struct dhp_event *ev, const char **severity);
/* Append "id: N\ndata: {one-line Event}\n\n" to buf: 0, or -ENOMEM. */
int rf_event_format(const struct dhp_event *ev, const struct rf_event_origin *o,
		    struct http_buf *buf);
/* Append the notice that events first..last were pruned before a client
 * that resumed could be sent them (docs/dhpd.md, "Event stream"): a
 * comment, then "id: last" and an EventBufferExceeded Event. 0 or -ENOMEM. */
int rf_event_format_pruned(uint64_t first, uint64_t last, uint64_t now_ms,
			   struct http_buf *buf);

/* ---- subs.c, deliver.c: event subscriptions (EventDestinations) ---- */

#define RF_SUBS_URI	"/redfish/v1/EventService/Subscriptions"
#define RF_SUBS_MAX	64		/* push subscriptions (SSE: max-sse-clients) */
#define RF_SUB_LIST_MAX	16		/* entries of each filter list */
#define RF_SUB_CONTEXT_MAX 256		/* bytes of Context */
#define RF_SUB_DEST_MAX	1024		/* bytes of Destination */

enum rf_sub_kind { RF_SUB_PUSH, RF_SUB_SSE };
/* EventDestination.DeliveryRetryPolicy; one string table (subs.c). */
enum rf_retry_policy {
	RF_RETRY_SUSPEND,		/* SuspendRetries: the default */
	RF_RETRY_TERMINATE,		/* TerminateAfterRetries */
	RF_RETRY_FOREVER,		/* RetryForever */
	RF_RETRY_BACKOFF,		/* RetryForeverWithBackoff */
	RF_RETRY_MAX
};
const char *rf_retry_policy_name(enum rf_retry_policy p);
int rf_retry_policy_parse(const char *name, enum rf_retry_policy *ret);

/* Which events a subscription wants: each list empty means "any". */
struct rf_sub_filter {
	char *prefixes[RF_SUB_LIST_MAX];	/* RegistryPrefixes */
	char *types[RF_SUB_LIST_MAX];		/* ResourceTypes */
	char *origins[RF_SUB_LIST_MAX];		/* OriginResources URIs */
	unsigned n_prefixes, n_types, n_origins;
};

struct rf_delivery;
struct rf_sub {
	char id[24];			/* "7" (push: the store's number), "sse-3" */
	enum rf_sub_kind kind;
	uint64_t store_id;		/* push */
	char *destination;
	char *context;			/* never NULL */
	struct rf_sub_filter filter;
	enum rf_retry_policy policy;	/* push */
	bool suspended;			/* push: Status.State Disabled */
	void *sse_client;		/* SSE: sse.c's client */
	struct rf_delivery *delivery;	/* push: deliver.c */
	struct rf_sub *next;
};

struct rf_subs;
int rf_subs_new(struct redfish *rf, struct rf_subs **ret_subs);
void rf_subs_free(struct rf_subs *subs);
/* Read the push subscriptions from the store (once the engine is set). */
int rf_subs_load(struct rf_subs *subs, struct dhp_error *err);
/* Every subscription, oldest first (push ones by number, then SSE). */
struct rf_sub *rf_subs_list(struct rf_subs *subs);
struct rf_sub *rf_subs_find(struct rf_subs *subs, const char *id);
unsigned rf_subs_count(const struct rf_subs *subs, enum rf_sub_kind kind);
/* Whether sub wants ev (o: its resources). */
bool rf_sub_wants(const struct rf_sub *sub, const struct dhp_event *ev,
		  const struct rf_event_origin *o);
void rf_filter_release(struct rf_sub_filter *f);
/*
 * A new push subscription from tmpl (its strings and filter are taken in
 * every case, tmpl is left empty), stored durably: 0 with the new one in
 * *ret_sub, or an error in err.
 */
int rf_subs_add(struct rf_subs *subs, struct rf_sub *tmpl, struct rf_sub **ret_sub,
		struct dhp_error *err);
/* Store sub's settings after a change (Context, policy, suspension). */
int rf_subs_save(struct rf_subs *subs, struct rf_sub *sub, struct dhp_error *err);
/* Delete: a push one from the store (durably), an SSE one by ending its
 * stream. sub is freed; on failure it stays as it was. */
int rf_subs_delete(struct rf_subs *subs, struct rf_sub *sub, struct dhp_error *err);
/* An SSE stream opened (sse.c): its EventDestination, or NULL when out of
 * memory (the stream goes on, unlisted). filter: its OriginResource. */
struct rf_sub *rf_subs_add_sse(struct rf_subs *subs, void *client, const char *source,
			       const char *filter);
/* The stream ended: its EventDestination goes. Accepts NULL. */
void rf_subs_remove_sse(struct rf_subs *subs, struct rf_sub *sub);
/* A committed event: to every push subscription that wants it. */
void rf_subs_publish(struct rf_subs *subs, const struct dhp_event *ev);

/* Shared by subs.c and subs-store.c only. */
struct redfish *rf_subs_service(struct rf_subs *subs);
void rf_subs_insert(struct rf_subs *subs, struct rf_sub *sub);	/* in its place */
void rf_subs_unlink(struct rf_subs *subs, struct rf_sub *sub);
void rf_sub_free(struct rf_sub *sub);				/* accepts NULL */

/* deliver.c: one push subscription's queue, POSTs, retries. */
int rf_delivery_new(struct redfish *rf, struct rf_sub *sub, struct rf_delivery **ret);
void rf_delivery_free(struct rf_delivery *d);
/* Queue ev for sub's receiver (dropping the oldest when full). */
void rf_delivery_push(struct rf_delivery *d, const struct dhp_event *ev,
		      const struct rf_event_origin *o);

#endif
