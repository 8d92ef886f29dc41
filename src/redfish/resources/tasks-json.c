/* SPDX-License-Identifier: MIT */
/*
 * An operation as a Redfish Task. Its Messages are the operation's events,
 * each with a TaskEvent registry id: TaskStarted when it is queued,
 * TaskProgressChanged for each phase, notification and unit change, and
 * TaskCompletedOK, TaskCompletedWarning (a notice after the commit failed)
 * or TaskAborted at its end. Message is dhp's own text for the event,
 * which says more than the registry's.
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_PAGE	128
#define MESSAGES_MAX	256	/* beyond, only the outcome is kept */

static unsigned phase_percent(const struct dhp_op *op, unsigned done)
{
	unsigned n = dhp_core_phase_count(op->kind);

	if (!n)
		return 0;
	return done >= n ? 100 : 100 * done / n;
}

struct scan {
	const struct dhp_op *op;
	char id[24];
	unsigned percent;
	bool started, warning;
	unsigned omitted;
	json_t *messages;
};

static void add_message(struct scan *s, const struct dhp_event *ev)
{
	const char *which = "TaskProgressChanged", *severity = "OK";
	bool outcome = false;
	unsigned done;
	char pct[12], time[32];
	json_t *msg, *args;

	if (ev->kind == DHP_EVENT_OP_STATE && !s->started) {
		which = "TaskStarted";
		s->started = true;
	} else if (ev->kind == DHP_EVENT_OP_STATE && dhp_op_state_final(s->op->state)) {
		outcome = true;
		if (s->op->state != DHP_OP_COMPLETED)
			which = "TaskAborted", severity = "Critical";
		else if (s->warning)
			which = "TaskCompletedWarning", severity = "Warning";
		else
			which = "TaskCompletedOK";
	} else if (ev->kind == DHP_EVENT_OP_PHASE) {
		/* The engine writes "<kind> <phases done>: phase <name> done". */
		if (sscanf(ev->text, "%*s %u: phase", &done) == 1)
			s->percent = phase_percent(s->op, done);
		if (strstr(ev->text, "after the commit"))
			s->warning = true;
	}
	if (!outcome && json_array_size(s->messages) >= MESSAGES_MAX) {
		s->omitted++;
		return;
	}
	snprintf(pct, sizeof(pct), "%u", s->percent);
	args = !strcmp(which, "TaskProgressChanged") ? json_pack("[s,s]", s->id, pct)
						      : json_pack("[s]", s->id);
	rf_time(ev->time_ms, time, sizeof(time));
	msg = json_pack("{s:s+, s:s, s:o, s:s, s:o}",
			"MessageId", RF_TASKEVENT, which, "Message", ev->text, "MessageArgs", args,
			"MessageSeverity", severity, "Oem", rf_oem(RF_T_OEM_MESSAGE, json_pack(
			"{s:I, s:s, s:s}", "Seq", (json_int_t)ev->seq,
			"Kind", dhp_event_kind_name(ev->kind), "Time", time)));
	if (msg && ev->unit[0])
		json_object_set_new(json_object_get(json_object_get(msg, "Oem"), "Dhp"), "Unit",
				    json_string(ev->unit));
	json_array_append_new(s->messages, msg);
}

static void scan_events(struct redfish *rf, struct scan *s)
{
	struct dhp_store *store = dhp_core_store(rf_core(rf));
	uint64_t after = 0;

	for (;;) {
		struct dhp_event *evs = NULL;
		size_t n = 0;

		if (dhp_store_op_events(store, s->op->id, after, EVENTS_PAGE, &evs, &n, NULL) < 0 ||
		    !n) {
			free(evs);
			return;
		}
		for (size_t i = 0; i < n; i++)
			add_message(s, &evs[i]);
		after = evs[n - 1].seq;
		free(evs);
		if (n < EVENTS_PAGE)
			return;
	}
}

static json_t *task_oem(struct dhp_server *server, const struct dhp_op *op, unsigned omitted)
{
	json_t *units = json_array(), *error = json_null();

	for (unsigned i = 0; units && i < op->n_units && op->units[i] < server->n_units; i++)
		json_array_append_new(units, json_string(server->units[op->units[i]].id));
	if (op->error.code)
		error = json_pack("{s:s, s:s, s:s}", "Code", dhp_error_name(op->error.code),
				  "Message", op->error.message, "Resolution", op->error.resolution);
	return rf_oem(RF_T_OEM_TASK, json_pack("{s:s, s:s, s:s?, s:o, s:s?, s:b, s:I, s:b, s:o, s:I}",
		"Kind", dhp_op_kind_name(op->kind),
		"State", dhp_op_state_name(op->state),
		"Partition", op->partition_name[0] ? op->partition_name : NULL,
		"Units", units,
		"Spare", op->spare >= 0 && (size_t)op->spare < server->n_units
			 ? server->units[op->spare].id : NULL,
		"Staged", op->staged,
		"Phase", (json_int_t)op->phase,
		"RollingBack", op->rolling_back,
		"Error", error,
		"MessagesOmitted", (json_int_t)omitted));
}

static const char *task_state(enum dhp_op_state state)
{
	switch (state) {
	case DHP_OP_QUEUED:
		return "New";
	case DHP_OP_RUNNING:
		return "Running";
	case DHP_OP_COMPLETED:
		return "Completed";
	default:
		return "Exception";	/* failed, rolled back: it did not happen */
	}
}

json_t *rf_task_json(struct redfish *rf, const struct dhp_op *op)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	struct scan s = { .op = op, .messages = json_array() };
	const struct dhp_partition *p;
	char name[64], time[32];
	json_t *task;

	snprintf(s.id, sizeof(s.id), "%llu", (unsigned long long)op->id);
	snprintf(name, sizeof(name), "Operation %s: %s", s.id, dhp_op_kind_name(op->kind));
	task = rf_resource(RF_T_TASK, s.id, name, RF_TASKS "/%s", s.id);
	if (!task || !s.messages) {
		json_decref(task), json_decref(s.messages);
		return NULL;
	}
	scan_events(rf, &s);
	json_object_set_new(task, "TaskState", json_string(task_state(op->state)));
	rf_time(op->created_ms, time, sizeof(time));
	json_object_set_new(task, "StartTime", json_string(time));
	if (dhp_op_state_final(op->state)) {
		/* TaskStatus is only set once the task has ended (schema). */
		json_object_set_new(task, "TaskStatus", json_string(
			op->state != DHP_OP_COMPLETED ? "Critical" : s.warning ? "Warning" : "OK"));
		rf_time(op->ended_ms, time, sizeof(time));
		json_object_set_new(task, "EndTime", json_string(time));
		json_object_set_new(task, "PercentComplete", json_integer(100));
	} else if (!op->rolling_back) {
		json_object_set_new(task, "PercentComplete",
				    json_integer(phase_percent(op, (unsigned)op->phase)));
	}
	json_object_set_new(task, "TaskMonitor", json_sprintf(RF_MONITORS "/%s", s.id));
	json_object_set_new(task, "Messages", s.messages);
	p = dhp_server_partition(server, op->partition);
	if (op->kind == DHP_OP_CREATE && op->state == DHP_OP_COMPLETED && p)
		json_object_set_new(task, "Links", json_pack("{s:[o]}", "CreatedResources",
			rf_link(RF_SYSTEMS "/%s", p->name)));
	json_object_set_new(task, "Oem", task_oem(server, op, s.omitted));
	return task;
}

int rf_find_op(struct redfish *rf, uint64_t id, struct dhp_op *ret_op)
{
	struct dhp_core *core = rf_core(rf);
	const struct dhp_op *active = dhp_core_active_op(core, id);

	/* The engine's copy is newer than the store's while it runs. */
	if (active) {
		*ret_op = *active;
		return 0;
	}
	return dhp_store_get_op(dhp_core_store(core), dhp_core_server(core), id, ret_op, NULL);
}
