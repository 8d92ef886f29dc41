/* SPDX-License-Identifier: MIT */
/*
 * Sending a change and seeing it through. The answer is immediate (200,
 * 201, 204), or an operation runs on: 202 with a task monitor, which we
 * poll, printing each new message of the Task (one per phase event,
 * docs/redfish.md) as it appears, then one outcome line.
 *
 * Why poll rather than follow the event stream: the Task's Messages are
 * exactly this operation's phases, in order, and the monitor is durable
 * (a dropped connection or a restarted dhpd loses nothing: the next poll
 * reads them all), whereas the stream would have to be opened before the
 * request and filtered by operation. Polling starts every 50 ms, so a
 * phase shows within a blink, and slows down for long operations.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

static const char *const final_states[] = { "completed", "failed", "rolled-back" };

const char *task_state(const json_t *task)
{
	const char *s = jstr(task, "Oem/Dhp/State", NULL);
	const char *ts = jstr(task, "TaskState", "");

	if (s)
		return s;
	/* A Task without dhp's word: Redfish's TaskState is coarser. */
	if (!strcmp(ts, "Completed"))
		return "completed";
	if (!strcmp(ts, "Exception") || !strcmp(ts, "Killed") || !strcmp(ts, "Cancelled"))
		return "failed";
	if (!strcmp(ts, "New") || !strcmp(ts, "Pending"))
		return "queued";
	return "running";
}

bool task_state_final(const char *state)
{
	for (size_t i = 0; i < sizeof(final_states) / sizeof(final_states[0]); i++)
		if (!strcmp(state, final_states[i]))
			return true;
	return false;
}

void task_describe(const json_t *task, char *buf, size_t len)
{
	const json_t *dhp = jget(task, "Oem/Dhp"), *u;
	const char *kind = jstr(dhp, "Kind", NULL), *part = ref_id(jget(dhp, "Partition"));
	const char *profile = jstr(dhp, "OsProfile", NULL), *spare = ref_id(jget(dhp, "Spare"));
	bool create = kind && !strcmp(kind, "create");
	size_t pos = 0, i;

	buf[0] = '\0';
	if (!kind) {
		buf_add(buf, len, &pos, "%s", jstr(task, "Name", "task"));
		return;
	}
	if (!part)
		part = "-";
	buf_add(buf, len, &pos, "%s", kind);
	if (create)
		buf_add(buf, len, &pos, " %s (%s%s", part, profile ? profile : "",
			profile ? ":" : "");
	json_array_foreach(jget(dhp, "Units"), i, u) {
		const char *id = ref_id(u);

		buf_add(buf, len, &pos, create && !i && !profile ? "%s" : " %s", id ? id : "?");
	}
	if (create)
		buf_add(buf, len, &pos, ")");
	else if (!strcmp(kind, "assign") || !strcmp(kind, "hot-add"))
		buf_add(buf, len, &pos, " -> %s", part);
	else if (!strcmp(kind, "unassign") || !strcmp(kind, "hot-remove"))
		buf_add(buf, len, &pos, " from %s", part);
	else if (!strcmp(kind, "hot-replace"))
		buf_add(buf, len, &pos, " -> %s in %s", spare ? spare : "?", part);
	else if (strcmp(kind, "power-on") && strcmp(kind, "power-off"))
		buf_add(buf, len, &pos, " %s", part);
	if (json_is_true(jget(dhp, "Staged")))
		buf_add(buf, len, &pos, " at restart");
}

long long task_took_ms(const json_t *task)
{
	int64_t start, end;
	bool p1, p2;

	if (parse_time_ms(jstr(task, "StartTime", NULL), &start, &p1) ||
	    parse_time_ms(jstr(task, "EndTime", NULL), &end, &p2) || !p1 || !p2 || end < start)
		return -1;
	return end - start;
}

void task_print_outcome(const json_t *task, long long took_ms)
{
	const char *state = task_state(task), *id = jstr(task, "Id", "?");
	const char *why = jstr(task, "Oem/Dhp/Error/Message", NULL);
	const char *hint = jstr(task, "Oem/Dhp/Error/Resolution", NULL);
	char what[1024];

	task_describe(task, what, sizeof(what));
	if (!strcmp(state, "completed")) {
		long long ms = task_took_ms(task) >= 0 ? task_took_ms(task) : took_ms;

		if (ms >= 0)
			printf("operation %s %s: completed (%lld ms)\n", id, what, ms);
		else
			printf("operation %s %s: completed\n", id, what);
		return;
	}
	if (!task_state_final(state) || !why) {
		printf("operation %s %s: %s\n", id, what, state);
		return;
	}
	printf("operation %s %s: %s: %s\n", id, what, state, why);
	if (hint && hint[0])
		printf("  hint: %s\n", hint);
}

static void print_messages(const json_t *task, size_t *printed, uint64_t t0_ms)
{
	const json_t *msgs = json_object_get(task, "Messages");
	unsigned long long t = now_ms() - t0_ms;

	for (; *printed < json_array_size(msgs); ++*printed) {
		const json_t *m = json_array_get(msgs, *printed);

		printf("  [%4llu] %s\n", t, jstr(m, "Message", jstr(m, "MessageId", "?")));
	}
	fflush(stdout);
}

static unsigned poll_interval(uint64_t waited_ms)
{
	return waited_ms < 1000 ? 50 : waited_ms < 10000 ? 200 : 500;
}

/* The next state of the task: from the monitor at where, or from the Task
 * itself once the monitor is gone or answers with something else (then
 * where becomes the Task's URI). */
static int poll_task(struct ctl *ctl, char *where, size_t len, json_t **task,
		     struct ctl_error *err)
{
	const char *self = jstr(*task, "@odata.id", NULL);
	bool at_self = self && !strcmp(where, self);
	struct http_reply reply;
	int r = http_call(ctl->http, "GET", where, NULL, NULL, &reply, err);

	if (r < 0 && reply.status == 404 && self && !at_self) {
		memset(err, 0, sizeof(*err));
		snprintf(where, len, "%s", self);
		http_reply_release(&reply);
		return poll_task(ctl, where, len, task, err);
	}
	if (r == 0 && !jget(reply.json, "TaskState") && self && !at_self)
		snprintf(where, len, "%s", self);	/* a finished monitor may answer with the result */
	else if (r == 0 && json_is_object(reply.json)) {
		json_decref(*task);
		*task = json_incref(reply.json);
	}
	http_reply_release(&reply);
	return r;
}

int task_follow(struct ctl *ctl, const char *monitor, json_t *task, uint64_t t0_ms)
{
	struct ctl_error err = { 0 };
	char where[HTTP_MAX_HEADER];
	size_t printed = 0;
	int rc;

	snprintf(where, sizeof(where), "%s", monitor);
	json_incref(task);
	for (;;) {
		if (!ctl->json)
			print_messages(task, &printed, t0_ms);
		if (task_state_final(task_state(task)))
			break;
		if (sleep_ms(poll_interval(now_ms() - t0_ms)) < 0 ||
		    poll_task(ctl, where, sizeof(where), &task, &err) < 0) {
			if (ctl_interrupted() || err.exit_code == CTL_EXIT_INTERRUPTED) {
				const char *id = jstr(task, "Id", "?");
				char hint[128];

				snprintf(hint, sizeof(hint), "follow it with: dhpctl ops --wait %s", id);
				memset(&err, 0, sizeof(err));
				ctl_error_set(&err, CTL_EXIT_INTERRUPTED, hint,
					      "stopped waiting: operation %s goes on in dhpd", id);
			}
			json_decref(task);
			return ctl_error_print(&err);
		}
	}
	if (ctl->json)
		json_print(task);
	else
		task_print_outcome(task, (long long)(now_ms() - t0_ms));
	rc = strcmp(task_state(task), "completed") ? CTL_EXIT_FAILED : CTL_EXIT_OK;
	json_decref(task);
	return rc;
}

/* The answer to a change, sent at t0_ms. */
static int task_finish(struct ctl *ctl, const struct http_reply *reply, const char *done_text,
		       uint64_t t0_ms)
{
	struct ctl_error err = { 0 };
	const char *monitor;
	json_t *task = NULL;
	int rc;

	if (reply->status != 202) {
		if (ctl->json && reply->json)
			json_print(reply->json);
		else if (!ctl->json && done_text)
			printf("%s\n", done_text);
		return CTL_EXIT_OK;
	}
	monitor = reply->location[0] ? reply->location :
		  jstr(reply->json, "TaskMonitor", jstr(reply->json, "@odata.id", NULL));
	if (!monitor) {
		ctl_error_set(&err, CTL_EXIT_UNREACHABLE, NULL,
			      "the server accepted the request but named no task monitor");
		return ctl_error_print(&err);
	}
	if (json_is_object(reply->json)) {
		task = json_incref(reply->json);
	} else {
		/* 202 with an empty body: the monitor tells what the task is. */
		struct http_reply first;

		if (http_call(ctl->http, "GET", monitor, NULL, NULL, &first, &err) < 0 ||
		    !json_is_object(first.json)) {
			http_reply_release(&first);
			ctl_error_set(&err, CTL_EXIT_UNREACHABLE, NULL,
				      "the task monitor %s did not answer with a task", monitor);
			return ctl_error_print(&err);
		}
		task = json_incref(first.json);
		http_reply_release(&first);
	}
	if (ctl->no_wait) {
		if (ctl->json)
			json_print(task);
		else
			printf("%s\n", jstr(task, "Id", monitor));
		json_decref(task);
		return CTL_EXIT_OK;
	}
	rc = task_follow(ctl, monitor, task, t0_ms);
	json_decref(task);
	return rc;
}

int ctl_change(struct ctl *ctl, const char *method, const char *path, const json_t *body,
	       const char *if_match, const char *done_text)
{
	struct ctl_error err = { 0 };
	struct http_reply reply;
	uint64_t t0 = now_ms();
	int rc;

	if (http_call(ctl->http, method, path, body, if_match, &reply, &err) < 0) {
		http_reply_release(&reply);
		return ctl_error_print(&err);
	}
	rc = task_finish(ctl, &reply, done_text, t0);
	http_reply_release(&reply);
	return rc;
}
