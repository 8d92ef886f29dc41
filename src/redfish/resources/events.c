/* SPDX-License-Identifier: MIT */
/*
 * The EventService (docs/redfish.md, docs/dhpd.md "Event stream"): its
 * resource, the checks of a request for its server-sent events URI (stream
 * limit, $filter, Last-Event-ID), and an event of dhp's journal as a
 * Redfish Event: the resources it is about, its registry message, its text
 * on the wire, "id: N\ndata: {Event}\n\n". The streams themselves are
 * the SSE hub's (sse.c), which formats each event once for every client.
 */
#include "http/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_SERVICE_URI "/redfish/v1/EventService"
#define EVENTS_SSE_URI EVENTS_SERVICE_URI "/SSE"

/* ---- an event as Redfish sees it ---- */

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

void api_event_origin(struct api *api, const struct dhp_event *ev, struct api_event_origin *o)
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

static json_t *event_oem(const struct dhp_event *ev, const struct api_event_origin *o)
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

int api_event_format(const struct dhp_event *ev, const struct api_event_origin *o,
		     struct api_buf *buf)
{
	char id[24], when[40];
	const char *severity, *msg_id = message_id(ev, &severity);
	size_t start = buf->len;
	json_t *doc;
	int r;

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
	if (!doc)
		return -ENOMEM;
	api_buf_add(buf, "id: ", 4);
	api_buf_add(buf, id, strlen(id));
	api_buf_add(buf, "\ndata: ", 7);
	r = api_json_append(buf, doc);
	api_buf_add(buf, "\n\n", 2);
	json_decref(doc);
	if (!r && buf->failed)
		r = -ENOMEM;
	if (r < 0 && !buf->failed)
		buf->len = start;
	return r;
}

/* ---- the requests ---- */

/* Only "OriginResource eq '<uri>'" (docs/redfish.md). */
static int events_parse_filter(const char *filter, char **ret, struct api_response *res)
{
	static const char prefix[] = "OriginResource eq '";
	size_t n = filter ? strlen(filter) : 0, p = sizeof(prefix) - 1;

	*ret = NULL;
	if (!filter)
		return 0;
	if (n <= p + 1 || n - p - 1 >= API_URI_MAX || strncmp(filter, prefix, p) ||
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

static void get_sse(struct api *api, const struct api_request *req, struct api_response *res)
{
	struct api_events *hub = api_get_events(api);
	char *filter = NULL;
	uint64_t after = api_events_published(hub);
	unsigned n = api_events_clients(hub);

	if (n >= api_get_limits(api)->max_sse_clients) {
		api_error(res, 503, "ServiceTemporarilyUnavailable", NULL,
			  "too many event streams are open (%u)", n);
		api_header(res, "Retry-After", "30");
		return;
	}
	if (events_parse_filter(req->filter, &filter, res) < 0 ||
	    events_parse_last_id(req->last_event_id, &after, res) < 0) {
		free(filter);
		return;
	}
	api_events_stream(hub, filter, after, res);
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
