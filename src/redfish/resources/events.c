/* SPDX-License-Identifier: MIT */
/*
 * The EventService (docs/redfish.md, docs/dhpd.md "Event stream"): its
 * resource, its routes (Subscriptions' handlers are
 * resources/subscriptions.c), and the checks of a request for its
 * server-sent events URI (stream limit, $filter, Last-Event-ID). The
 * streams themselves are the SSE hub's (sse.c), which formats each event
 * once for every client (event-format.c).
 */
#include "redfish/resources/resources.h"

#include <stdlib.h>
#include <string.h>

#define EVENTS_SERVICE_URI "/redfish/v1/EventService"
#define EVENTS_SSE_URI EVENTS_SERVICE_URI "/SSE"

/* ---- the requests ---- */

/* Only "OriginResource eq '<uri>'" (docs/redfish.md). */
static int events_parse_filter(const char *filter, char **ret, struct http_response *res)
{
	static const char prefix[] = "OriginResource eq '";
	size_t n = filter ? strlen(filter) : 0, p = sizeof(prefix) - 1;

	*ret = NULL;
	if (!filter)
		return 0;
	if (n <= p + 1 || n - p - 1 >= RF_EVENT_URI_MAX || strncmp(filter, prefix, p) ||
	    filter[n - 1] != '\'' || memchr(filter + p, '\'', n - p - 1)) {
		rf_error(res, 400, "QueryParameterValueError",
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
		rf_error(res, 500, "InternalError", NULL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int events_parse_last_id(const char *text, uint64_t *after, struct http_response *res)
{
	char *end = NULL;
	unsigned long long v;

	if (!text)
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-') {
		rf_error(res, 400, "HeaderInvalid", "Send the id of the last event received.",
			 "Last-Event-ID must be an event number, not \"%.40s\"", text);
		return -EINVAL;
	}
	*after = v;
	return 0;
}

static void get_sse(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_sse *hub = rf_get_sse(rf);
	char *filter = NULL;
	uint64_t after = rf_sse_published(hub);
	unsigned n = rf_sse_clients(hub);

	if (n >= rf_max_sse_clients(rf)) {
		rf_error(res, 503, "ServiceTemporarilyUnavailable", NULL,
			 "too many event streams are open (%u)", n);
		http_header(res, "Retry-After", "30");
		return;
	}
	if (events_parse_filter(req->filter, &filter, res) < 0 ||
	    events_parse_last_id(req->last_event_id, &after, res) < 0) {
		free(filter);
		return;
	}
	rf_sse_stream(hub, filter, after, req->source, res);
}

static void get_service(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	const struct redfish_config *c = rf_config(rf);

	(void)req;
	rf_ok(res, 200, json_pack(
		"{s:s, s:s, s:s, s:s, s:b, s:s, s:{s:s}, s:I, s:I, s:{s:s, s:s}, s:[s], s:[s, s, s],"
		" s:[s, s, s, s], s:b, s:{s:b, s:b, s:b, s:b, s:b, s:b}}",
		"@odata.id", EVENTS_SERVICE_URI, "@odata.type", "#EventService.v1_12_0.EventService",
		"Id", "EventService", "Name", "Event Service", "ServiceEnabled", 1,
		"ServerSentEventUri", EVENTS_SSE_URI, "Subscriptions", "@odata.id", RF_SUBS_URI,
		"DeliveryRetryAttempts", (json_int_t)c->retry_attempts,
		"DeliveryRetryIntervalSeconds", (json_int_t)c->retry_interval_s,
		"Status", "State", "Enabled", "Health", "OK",
		"EventFormatTypes", "Event",
		"RegistryPrefixes", "TaskEvent", "ResourceEvent", "Base",
		"ResourceTypes", "ComputerSystem", "ResourceBlock", "Task", "Chassis",
		"SubordinateResourcesSupported", 0,
		"SSEFilterPropertiesSupported", "OriginResource", 1, "EventFormatType", 0,
		"MessageId", 0, "RegistryPrefix", 0, "ResourceType", 0, "MetricReportDefinition", 0));
}

const struct rf_route rf_routes_events[] = {
	{ HTTP_GET, EVENTS_SERVICE_URI, get_service, AUTH_PRIV_LOGIN },
	{ HTTP_GET, EVENTS_SSE_URI, get_sse, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_SUBS_URI, rf_subs_list_get, AUTH_PRIV_LOGIN },
	{ HTTP_POST, RF_SUBS_URI, rf_subs_post, AUTH_PRIV_CONFIGURE_COMPONENTS },
	{ HTTP_POST, RF_SUBS_URI "/Members", rf_subs_post, AUTH_PRIV_CONFIGURE_COMPONENTS },
	{ HTTP_GET, RF_SUBS_URI "/{}", rf_sub_get, AUTH_PRIV_LOGIN },
	{ HTTP_PATCH, RF_SUBS_URI "/{}", rf_sub_patch, AUTH_PRIV_CONFIGURE_COMPONENTS },
	{ HTTP_DELETE, RF_SUBS_URI "/{}", rf_sub_delete, AUTH_PRIV_CONFIGURE_COMPONENTS },
	{ HTTP_POST, RF_SUBS_URI "/{}/Actions/EventDestination.ResumeSubscription", rf_sub_resume,
	  AUTH_PRIV_CONFIGURE_COMPONENTS },
	{ 0, NULL, NULL, 0 },
};
