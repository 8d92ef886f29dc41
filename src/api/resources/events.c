/* SPDX-License-Identifier: MIT */
/*
 * EventService and its server-sent events (docs/redfish.md).
 *
 * Each SSE client has a cursor: the number of the last event it was
 * considered for. The hub knows the last event the engine published, and
 * the engine publishes only committed events, in order. A client whose
 * cursor is one behind a published event is sent it at once; one further
 * behind (it resumed with Last-Event-ID, or missed something) reads the
 * store, a page each time its queue has drained, up to the last published
 * event and no further: so a resumed stream has no gap and no duplicate,
 * and never shows an event a crash could take back (the store's open
 * transaction may hold events not committed yet).
 */
#include "api/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 256			/* events read from the store at once */
#define PAGES_PER_TURN 8		/* then let the loop breathe */
#define LOW_WATER (256 * 1024)		/* queue bytes below which to read more */
#define KEEPALIVE_MS 15000u

#define EVENTS_SERVICE_URI "/redfish/v1/EventService"
#define EVENTS_SSE_URI EVENTS_SERVICE_URI "/SSE"
#define URI_MAX 160

/* ---- an event as Redfish sees it ---- */

/* The resources an event is about; "" when it names none of the kind. */
struct event_origin {
	char system[URI_MAX];		/* the partition's ComputerSystem */
	char block[URI_MAX];		/* the unit's ResourceBlock */
	char task[URI_MAX];		/* the operation's Task */
	char origin[URI_MAX];		/* OriginOfCondition: the first of those, or the Chassis */
	char partition[DHP_NAME_MAX];
};

/* A deleted partition is not in the server any more: its operations keep
 * its name. */
static void partition_name(struct api *api, const struct dhp_event *ev, char *buf, size_t len)
{
	struct dhp_core *core = api_core(api);
	struct dhp_server *server = dhp_core_server(core);
	const struct dhp_partition *p = dhp_server_partition(server, ev->partition);
	const struct dhp_op *active;
	struct dhp_op op;

	buf[0] = '\0';
	if (p) {
		snprintf(buf, len, "%s", p->name);
	} else if (ev->op && (active = dhp_core_active_op(core, ev->op))) {
		snprintf(buf, len, "%s", active->partition_name);
	} else if (ev->op && !dhp_store_get_op(dhp_core_store(core), server, ev->op, &op, NULL)) {
		snprintf(buf, len, "%s", op.partition_name);
	}
}

static void events_origin(struct api *api, const struct dhp_event *ev, struct event_origin *o)
{
	memset(o, 0, sizeof(*o));
	if (ev->partition)
		partition_name(api, ev, o->partition, sizeof(o->partition));
	if (o->partition[0])
		snprintf(o->system, sizeof(o->system), "/redfish/v1/Systems/%s", o->partition);
	if (ev->unit[0])
		snprintf(o->block, sizeof(o->block),
			 "/redfish/v1/CompositionService/ResourceBlocks/%s", ev->unit);
	if (ev->op)
		snprintf(o->task, sizeof(o->task), "/redfish/v1/TaskService/Tasks/%" PRIu64, ev->op);
	if (o->system[0] || o->block[0] || o->task[0])
		snprintf(o->origin, sizeof(o->origin), "%s",
			 o->system[0] ? o->system : o->block[0] ? o->block : o->task);
	else
		snprintf(o->origin, sizeof(o->origin), "/redfish/v1/Chassis/%s",
			 dhp_core_server(api_core(api))->name);
}

/* The registries' ids (TaskEvent 1.0, ResourceEvent 1.4) and severities.
 * An op-state event's text is "operation N KIND: STATE..." (core). */
static const char *message_id(const struct dhp_event *ev, const char **severity)
{
	const char *state = strchr(ev->text, ':');

	*severity = "OK";
	switch (ev->kind) {
	case DHP_EVENT_OP_STATE:
		if (state && !strncmp(state, ": queued", 8))
			return "TaskEvent.1.0.TaskStarted";
		if (state && !strncmp(state, ": completed", 11))
			return "TaskEvent.1.0.TaskCompletedOK";
		*severity = "Critical";
		return "TaskEvent.1.0.TaskAborted";
	case DHP_EVENT_OP_PHASE:
	case DHP_EVENT_NOTIFY:
		return "TaskEvent.1.0.TaskProgressChanged";
	default:
		return "ResourceEvent.1.4.ResourceChanged";
	}
}

static void timestamp(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03u+00:00", (unsigned)(ms % 1000));
}

static json_t *event_oem(const struct dhp_event *ev, const struct event_origin *o)
{
	json_t *dhp = json_pack("{s:s}", "Kind", dhp_event_kind_name(ev->kind));

	if (ev->op)
		json_object_set_new(dhp, "Operation", json_integer((json_int_t)ev->op));
	if (o->partition[0])
		json_object_set_new(dhp, "Partition", json_string(o->partition));
	if (ev->unit[0])
		json_object_set_new(dhp, "Unit", json_string(ev->unit));
	return json_pack("{s:o}", "Dhp", dhp);
}

/* "id: N\ndata: {one-line Event}\n\n"; caller frees. NULL: out of memory. */
static char *events_format(struct api *api, const struct dhp_event *ev,
			   const struct event_origin *o)
{
	char id[24], when[40], *data, *text = NULL;
	const char *severity, *msg_id = message_id(ev, &severity);
	json_t *doc;

	(void)api;
	snprintf(id, sizeof(id), "%" PRIu64, ev->seq);
	timestamp(ev->time_ms, when, sizeof(when));
	doc = json_pack("{s:s, s:s, s:s, s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[],"
			" s:{s:s}, s:o}]}",
			"@odata.type", "#Event.v1_13_0.Event", "Id", id, "Name", "dhp event",
			"Events@odata.count", 1, "Events",
			"EventId", id, "EventType", "Other", "MemberId", "0",
			"EventTimestamp", when, "MessageSeverity", severity, "MessageId", msg_id,
			"Message", ev->text, "MessageArgs",
			"OriginOfCondition", "@odata.id", o->origin, "Oem", event_oem(ev, o));
	data = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (data && asprintf(&text, "id: %s\ndata: %s\n\n", id, data) < 0)
		text = NULL;
	free(data);
	return text;
}

/* ---- the request ---- */

/* Only "OriginResource eq '<uri>'" (docs/redfish.md). */
static int events_parse_filter(const char *filter, char **ret, struct api_response *res)
{
	static const char prefix[] = "OriginResource eq '";
	size_t n = filter ? strlen(filter) : 0, p = sizeof(prefix) - 1;

	*ret = NULL;
	if (!filter)
		return 0;
	if (n <= p + 1 || n - p - 1 >= URI_MAX || strncmp(filter, prefix, p) ||
	    filter[n - 1] != '\'' || memchr(filter + p, '\'', n - p - 1)) {
		api_error(res, 400, "QueryParameterValueError",
			  "Use $filter=OriginResource eq '/redfish/v1/...'.",
			  "unsupported $filter \"%.100s\": only OriginResource eq '<URI>' is supported",
			  filter);
		return -EINVAL;
	}
	n -= p + 1;
	if (n > 1 && filter[p + n - 1] == '/')
		n--;		/* ".../Systems/web/" is ".../Systems/web" */
	*ret = strndup(filter + p, n);
	if (!*ret) {
		api_error(res, 500, "InternalError", NULL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int events_parse_last_id(const char *text, uint64_t *after, struct api_response *res)
{
	char *end = NULL;
	unsigned long long v;

	if (!text)
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-') {
		api_error(res, 400, "HeaderInvalid", "Send the id of the last event received.",
			  "Last-Event-ID must be an event number, not \"%.40s\"", text);
		return -EINVAL;
	}
	*after = v;
	return 0;
}

/* ---- the hub ---- */

struct sse_client {
	struct api_events *hub;
	struct api_stream *stream;
	uint64_t cursor;
	char *filter;			/* OriginResource URI, or NULL */
	bool dead;			/* its stream is closing */
	struct dhp_timer *again;	/* more to read in the next turn */
	struct sse_client *prev, *next;
};

struct api_events {
	struct api *api;
	uint64_t published;
	struct sse_client *clients;
	unsigned n_clients;
	struct dhp_timer *keepalive;
};

int api_events_new(struct api *api, struct api_events **ret_events)
{
	struct api_events *hub = calloc(1, sizeof(*hub));

	if (!hub)
		return -ENOMEM;
	hub->api = api;
	*ret_events = hub;
	return 0;
}

static void client_free(struct sse_client *c)
{
	struct api_events *hub = c->hub;

	if (c->prev)
		c->prev->next = c->next;
	else if (hub->clients == c)
		hub->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->stream)
		hub->n_clients--;
	dhp_timer_cancel(api_loop(hub->api), c->again);
	free(c->filter);
	free(c);
}

void api_events_free(struct api_events *hub)
{
	if (!hub)
		return;
	/* Streams are the HTTP layer's and end first (http_free). */
	while (hub->clients)
		client_free(hub->clients);
	dhp_timer_cancel(api_loop(hub->api), hub->keepalive);
	free(hub);
}

void api_events_set_published(struct api_events *hub, uint64_t seq)
{
	hub->published = seq;
}

static void client_write(struct sse_client *c, const char *text, size_t len)
{
	if (!c->dead && api_stream_write(c->stream, text, len) < 0)
		c->dead = true;	/* too slow or gone: its close call frees it */
}

/* ---- reading the store for a client that is behind ---- */

static void pump_again(void *arg);

/* Matches c's filter: the event's origin or any resource it names. */
static bool wanted(const struct sse_client *c, const struct event_origin *o)
{
	return !c->filter || !strcmp(c->filter, o->system) || !strcmp(c->filter, o->block) ||
	       !strcmp(c->filter, o->task) || !strcmp(c->filter, o->origin);
}

static void send_event(struct sse_client *c, const struct dhp_event *ev,
		       const struct event_origin *o, char **text)
{
	if (!wanted(c, o))
		return;
	if (!*text)
		*text = events_format(c->hub->api, ev, o);
	if (*text)
		client_write(c, *text, strlen(*text));
}

static void send_stored(struct sse_client *c, const struct dhp_event *ev)
{
	struct event_origin o;
	char *text = NULL;

	events_origin(c->hub->api, ev, &o);
	send_event(c, ev, &o, &text);
	free(text);
}

/* One page; false when there is nothing more to read now. */
static bool pump_page(struct sse_client *c)
{
	struct dhp_store *store = dhp_core_store(api_core(c->hub->api));
	struct dhp_event *evs = NULL;
	size_t n = 0;

	if (dhp_store_events(store, c->cursor, PAGE, &evs, &n, NULL) < 0) {
		api_stream_close(c->stream);
		c->dead = true;
		return false;
	}
	for (size_t i = 0; i < n && evs[i].seq <= c->hub->published; i++) {
		send_stored(c, &evs[i]);
		c->cursor = evs[i].seq;
	}
	free(evs);
	if (!n)		/* the store lost some: skip them rather than spin */
		c->cursor = c->hub->published;
	return c->cursor < c->hub->published;
}

static void pump(struct sse_client *c)
{
	for (unsigned i = 0; i < PAGES_PER_TURN; i++)
		if (c->dead || api_stream_queued(c->stream) >= LOW_WATER || !pump_page(c))
			return;
	/* Still behind and nothing queued (a filter skipped it all): the
	 * drain call will not come, so come back in the next turn. */
	if (!api_stream_queued(c->stream) && !c->again)
		c->again = dhp_timer_add(api_loop(c->hub->api), 0, pump_again, c);
}

static void pump_again(void *arg)
{
	struct sse_client *c = arg;

	c->again = NULL;
	pump(c);
}

static void on_drain(void *ctx)
{
	struct sse_client *c = ctx;

	if (c->cursor < c->hub->published)
		pump(c);
}

/* ---- live events ---- */

void api_events_publish(struct api_events *hub, const struct dhp_event *ev)
{
	struct event_origin o;
	char *text = NULL;
	bool have_origin = false;

	if (ev->seq > hub->published)
		hub->published = ev->seq;
	for (struct sse_client *c = hub->clients; c; c = c->next) {
		if (c->dead || c->cursor >= ev->seq)
			continue;
		if (c->cursor + 1 < ev->seq) {		/* behind: the store has it */
			if (!api_stream_queued(c->stream))
				pump(c);
			continue;
		}
		if (!have_origin)
			events_origin(hub->api, ev, &o);
		have_origin = true;
		send_event(c, ev, &o, &text);	/* formatted once for everyone */
		c->cursor = ev->seq;
	}
	free(text);
}

static void keepalive_fire(void *arg)
{
	static const char comment[] = ": keep-alive\n\n";
	struct api_events *hub = arg;

	hub->keepalive = NULL;
	for (struct sse_client *c = hub->clients; c; c = c->next)
		client_write(c, comment, sizeof(comment) - 1);
	if (hub->clients)
		hub->keepalive = dhp_timer_add(api_loop(hub->api), KEEPALIVE_MS, keepalive_fire,
					       hub);
}

/* ---- the stream's life ---- */

static void on_close(void *ctx)
{
	client_free(ctx);
}

static void on_open(void *ctx, struct api_stream *stream)
{
	struct sse_client *c = ctx;
	struct api_events *hub = c->hub;

	c->stream = stream;
	hub->n_clients++;
	c->next = hub->clients;
	if (hub->clients)
		hub->clients->prev = c;
	hub->clients = c;
	api_stream_on_close(stream, on_close, c);
	api_stream_on_drain(stream, on_drain, c);
	if (!hub->keepalive)
		hub->keepalive = dhp_timer_add(api_loop(hub->api), KEEPALIVE_MS, keepalive_fire,
					       hub);
	pump(c);
}

/* ---- the handlers ---- */

static void get_sse(struct api *api, const struct api_request *req, struct api_response *res)
{
	struct api_events *hub = api_get_events(api);
	struct sse_client *c;
	char *filter = NULL;
	uint64_t after = hub->published;

	if (hub->n_clients >= api_get_limits(api)->max_sse_clients) {
		api_error(res, 503, "ServiceTemporarilyUnavailable", NULL,
			  "too many event streams are open (%u)", hub->n_clients);
		api_header(res, "Retry-After", "30");
		return;
	}
	if (events_parse_filter(req->filter, &filter, res) < 0 ||
	    events_parse_last_id(req->last_event_id, &after, res) < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(filter);
		api_error(res, 500, "InternalError", NULL, "out of memory");
		return;
	}
	c->hub = hub;
	c->cursor = after;
	c->filter = filter;
	res->status = 200;
	res->stream_open = on_open;
	res->stream_ctx = c;
}

static void get_service(struct api *api, const struct api_request *req,
			struct api_response *res)
{
	(void)api, (void)req;
	api_ok(res, 200, json_pack(
		"{s:s, s:s, s:s, s:s, s:b, s:s, s:{s:s, s:s}, s:[s], s:[s, s, s],"
		" s:{s:b, s:b, s:b, s:b, s:b, s:b}}",
		"@odata.id", EVENTS_SERVICE_URI, "@odata.type", "#EventService.v1_12_0.EventService",
		"Id", "EventService", "Name", "Event Service", "ServiceEnabled", 1,
		"ServerSentEventUri", EVENTS_SSE_URI,
		"Status", "State", "Enabled", "Health", "OK",
		"EventFormatTypes", "Event",
		"RegistryPrefixes", "TaskEvent", "ResourceEvent", "Base",
		"SSEFilterPropertiesSupported", "OriginResource", 1, "EventFormatType", 0,
		"MessageId", 0, "RegistryPrefix", 0, "ResourceType", 0, "MetricReportDefinition", 0));
}

const struct api_route api_routes_events[] = {
	{ API_GET, EVENTS_SERVICE_URI, get_service, AUTH_PRIV_LOGIN },
	{ API_GET, EVENTS_SSE_URI, get_sse, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
