/* SPDX-License-Identifier: MIT */
/*
 * `events`: the numbered event stream, "[seq] time text" per event, or with
 * -o json each event's JSON on a line of its own (JSON Lines), as the
 * server sent it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define SSE_PATH "/redfish/v1/EventService/SSE"
#define QUIET_MS 500	/* without --follow: the backlog has come once it is this quiet */

struct events {
	bool json;
	unsigned long long printed;
};

static void print_record(unsigned long long seq, const json_t *rec)
{
	const char *stamp = jstr(rec, "EventTimestamp", NULL);
	const char *text = jstr(rec, "Message", jstr(rec, "MessageId", "?"));
	char when[48];
	int64_t ms;
	bool precise;

	if (!parse_time_ms(stamp, &ms, &precise))
		format_time_ms(ms, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "%s", stamp ? stamp : "-");
	printf("[%6llu] %s  %s\n", seq, when, text);
}

static int on_event(void *ctx, const struct sse_event *ev)
{
	struct events *e = ctx;
	long long id = 0;
	json_t *data;

	if (e->json) {
		printf("%.*s\n", (int)ev->len, ev->data);
	} else {
		const json_t *rec, *records;
		size_t i;

		data = json_loadb(ev->data, ev->len, 0, NULL);
		if (!ev->has_id && jint(data, "Id", &id))
			id = id >= 0 ? id : 0;
		records = json_object_get(data, "Events");
		if (json_array_size(records))
			json_array_foreach(records, i, rec)
				print_record(ev->has_id ? ev->id : (unsigned long long)id, rec);
		else	/* not a Redfish Event: show it as it came */
			printf("[%6llu] %.*s\n", ev->has_id ? ev->id : 0ull, (int)ev->len, ev->data);
		json_decref(data);
	}
	e->printed++;
	/* Stop once nobody reads (dhpctl events | head). */
	return fflush(stdout) || ferror(stdout);
}

int cmd_events(struct ctl *ctl, const struct ctl_args *args)
{
	const char *since = ctl_arg_opt(args, "since"), *part = ctl_arg_opt(args, "partition");
	struct sse_options opt = { .follow = ctl_arg_opt(args, "follow") != NULL,
				   .quiet_ms = QUIET_MS };
	struct events e = { .json = ctl->json };
	struct ctl_error err = { 0 };
	char path[512];
	char *end;

	if (since) {
		errno = 0;
		opt.since = strtoull(since, &end, 10);
		if (errno || *end || !since[0] || since[0] == '-')
			return ctl_usage("bad --since \"%s\" (an event number)", since);
		opt.has_since = true;
	} else if (!opt.follow) {
		/* A listing shows everything; following alone shows what comes next. */
		opt.has_since = true;
	}
	if (part) {
		char filter[160], *escaped;

		if (!ctl_valid_name(part))
			return ctl_usage("bad partition name \"%s\"", part);
		snprintf(filter, sizeof(filter), "OriginResource eq '/redfish/v1/Systems/%s'", part);
		escaped = curl_easy_escape(NULL, filter, 0);
		if (!escaped)
			return ctl_usage("out of memory");
		snprintf(path, sizeof(path), SSE_PATH "?$filter=%s", escaped);
		curl_free(escaped);
	} else {
		snprintf(path, sizeof(path), SSE_PATH);
	}
	opt.path = path;
	if (sse_run(ctl->http, &opt, on_event, &e, &err) < 0)
		return ctl_error_print(&err);
	if (!e.printed && !ctl->json && !opt.follow)
		printf("no events\n");
	return CTL_EXIT_OK;
}
