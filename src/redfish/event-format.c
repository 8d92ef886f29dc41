/* SPDX-License-Identifier: MIT */
/*
 * An event of dhp's journal as a Redfish Event (docs/dhpd.md, "Event
 * stream"): the resources it is about, its registry message, its text on
 * the wire, "id: N\ndata: {Event}\n\n". The SSE hub (sse.c) formats each
 * event once for every client; push subscriptions (deliver.c) POST the
 * same Event, with their Context.
 */
#include "redfish/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The type of an event's Oem.Dhp (schemas/oem/DhpEvent_v1.xml). */
#define OEM_EVENT	"#DhpEvent.v1_0_0.DhpEvent"

/* A deleted partition is not in the server any more: its operations keep
 * its name. */
static void partition_name(struct redfish *rf, const struct dhp_event *ev, char *buf, size_t len)
{
	struct dhp_core *core = rf_core(rf);
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

void rf_event_origin(struct redfish *rf, const struct dhp_event *ev, struct rf_event_origin *o)
{
	memset(o, 0, sizeof(*o));
	if (ev->partition)
		partition_name(rf, ev, o->partition, sizeof(o->partition));
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
			 dhp_core_server(rf_core(rf))->name);
}

/* The registries' ids (TaskEvent 1.0, ResourceEvent 1.4) and severities.
 * An op-state event's text is "operation N KIND: STATE..." (core). */
const char *rf_event_message_id(const struct dhp_event *ev, const char **severity)
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

static json_t *event_oem(const struct dhp_event *ev, const struct rf_event_origin *o)
{
	json_t *dhp = json_pack("{s:s, s:s}", "@odata.type", OEM_EVENT,
				"Kind", dhp_event_kind_name(ev->kind));

	if (ev->op)
		json_object_set_new(dhp, "Operation", json_integer((json_int_t)ev->op));
	if (o->partition[0])
		json_object_set_new(dhp, "Partition", json_string(o->partition));
	if (ev->unit[0])
		json_object_set_new(dhp, "Unit", json_string(ev->unit));
	return json_pack("{s:o}", "Dhp", dhp);
}

/* One SSE record of doc (taken: freed here; NULL is -ENOMEM) after what
 * buf held at start; on failure buf is as it was, unless it failed. */
static int add_record(struct http_buf *buf, size_t start, const char *id, json_t *doc)
{
	int r;

	if (!doc)
		return -ENOMEM;
	http_buf_add(buf, "id: ", 4);
	http_buf_add(buf, id, strlen(id));
	http_buf_add(buf, "\ndata: ", 7);
	r = http_json_append(buf, doc);
	http_buf_add(buf, "\n\n", 2);
	json_decref(doc);
	if (!r && buf->failed)
		r = -ENOMEM;
	if (r < 0 && !buf->failed)
		buf->len = start;
	return r;
}

json_t *rf_event_json(const struct dhp_event *ev, const struct rf_event_origin *o)
{
	char id[24], when[40];
	const char *severity, *msg_id = rf_event_message_id(ev, &severity);

	snprintf(id, sizeof(id), "%" PRIu64, ev->seq);
	timestamp(ev->time_ms, when, sizeof(when));
	return json_pack("{s:s, s:s, s:s, s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[],"
			" s:{s:s}, s:o}]}",
			"@odata.type", "#Event.v1_13_0.Event", "Id", id, "Name", "dhp event",
			"Events@odata.count", 1, "Events",
			"EventId", id, "EventType", "Other", "MemberId", "0",
			"EventTimestamp", when, "MessageSeverity", severity, "MessageId", msg_id,
			"Message", ev->text, "MessageArgs",
			"OriginOfCondition", "@odata.id", o->origin, "Oem", event_oem(ev, o));
}

int rf_event_format(const struct dhp_event *ev, const struct rf_event_origin *o,
		    struct http_buf *buf)
{
	char id[24];

	snprintf(id, sizeof(id), "%" PRIu64, ev->seq);
	return add_record(buf, buf->len, id, rf_event_json(ev, o));
}

/*
 * Redfish has no word for a resumed stream whose events are gone, so dhp
 * says it twice: an SSE comment for people, and an Event a client can
 * detect, Base's EventBufferExceeded, with the range in Oem.Dhp. Its id is
 * the last number pruned: a client that resumes from it misses nothing
 * more.
 */
int rf_event_format_pruned(uint64_t first, uint64_t last, uint64_t now_ms,
			   struct http_buf *buf)
{
	char id[24], when[40], text[160], comment[80];
	size_t start = buf->len;
	json_t *doc;

	snprintf(id, sizeof(id), "%" PRIu64, last);
	timestamp(now_ms, when, sizeof(when));
	snprintf(text, sizeof(text), "events %" PRIu64 " to %" PRIu64 " were pruned from the "
		 "event journal (--event-retention) before this stream sent them", first, last);
	snprintf(comment, sizeof(comment), ": events %" PRIu64 "..%" PRIu64 " were pruned\n",
		 first, last);
	doc = json_pack("{s:s, s:s, s:s, s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[],"
			" s:{s:{s:s, s:I, s:I}}}]}",
			"@odata.type", "#Event.v1_13_0.Event", "Id", id, "Name", "dhp event",
			"Events@odata.count", 1, "Events",
			"EventId", id, "EventType", "Other", "MemberId", "0",
			"EventTimestamp", when, "MessageSeverity", "Warning",
			"MessageId", "Base.1.22.EventBufferExceeded", "Message", text,
			"MessageArgs", "Oem", "Dhp", "@odata.type", OEM_EVENT,
			"PrunedFirst", (json_int_t)first,
			"PrunedLast", (json_int_t)last);
	if (doc)
		http_buf_add(buf, comment, strlen(comment));
	return add_record(buf, start, id, doc);
}
