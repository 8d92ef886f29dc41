/* SPDX-License-Identifier: MIT */
/*
 * The event stream: server-sent events over one long GET, through libcurl's
 * multi interface so that Ctrl-C and "the stream has gone quiet" are
 * noticed while waiting. A dropped connection is resumed with
 * Last-Event-ID set to the last event handed on (as the SSE spec has
 * browsers do), so no event is lost or repeated. sse-parse.c parses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse-internal.h"

#define RETRY_FIRST_MS 500
#define RETRY_MAX_MS 30000
#define TRIES_WITHOUT_FOLLOW 3
#define ERROR_BODY_MAX (64u << 10)

/* One connection. */
struct sse_conn {
	CURL *easy;
	struct sse_parser *parser;
	long status;
	bool started;			/* 200 and its headers are in */
	bool bad_type;			/* ...but not text/event-stream */
	bool ended;			/* quiet, stopped or interrupted: no resuming */
	char *error_body;		/* of a status other than 200, capped */
	size_t error_len;
};

/* Once the answer's headers are in: is it an event stream? */
static void check_start(struct sse_conn *c)
{
	const char *type = NULL;

	if (c->started || c->bad_type)
		return;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->status != 200)
		return;
	curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &type);
	if (!type || strncmp(type, "text/event-stream", 17)) {
		c->bad_type = true;
		return;
	}
	c->started = true;
	c->parser->last_dispatch_ms = now_ms();
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct sse_conn *c = ctx;
	size_t len = size * n, room;

	check_start(c);
	if (c->bad_type)
		return 0;	/* not an event stream: nothing to parse */
	if (c->status == 200)
		return sse_parse(c->parser, data, len) < 0 ? 0 : len;
	/* An error answer: keep its body for the Redfish message in it. */
	if (!c->error_body && !(c->error_body = calloc(1, ERROR_BODY_MAX + 1)))
		return 0;
	room = ERROR_BODY_MAX - c->error_len;
	memcpy(c->error_body + c->error_len, data, len < room ? len : room);
	c->error_len += len < room ? len : room;
	return len;
}

/* Drive the transfer until it ends, we stop it, or it goes quiet. */
static CURLcode pump(struct sse_conn *c, CURLM *multi, const struct sse_options *opt)
{
	CURLcode code = CURLE_OK;
	int running = 1, left;
	CURLMsg *msg;

	while (running) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			return CURLE_FAILED_INIT;
		check_start(c);
		if (ctl_interrupted() || c->parser->stop || c->bad_type ||
		    (!opt->follow && c->started &&
		     now_ms() - c->parser->last_dispatch_ms >= opt->quiet_ms)) {
			c->ended = true;	/* without follow: every event so far has come */
			return CURLE_OK;
		}
		if (running && curl_multi_poll(multi, NULL, 0, 100, NULL) != CURLM_OK)
			return CURLE_FAILED_INIT;
	}
	while ((msg = curl_multi_info_read(multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			code = msg->data.result;
	check_start(c);
	return code;
}

/* A failure that a later connection may not have (TLS and usage errors
 * would only repeat). */
static bool resumable(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* What a connection's end means: 0 done for good, -EAGAIN worth resuming,
 * other negative an error (in err). */
static int outcome(struct http *http, struct sse_conn *c, CURLcode code,
		   const struct sse_options *opt, struct ctl_error *err)
{
	json_t *body;
	int r;

	if (c->bad_type)
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				     "%s did not answer with an event stream", http_base(http));
	if (c->parser->error[0])
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				     "bad event stream from %s: %s", http_base(http),
				     c->parser->error);
	if (c->ended || c->parser->stop)
		return 0;
	if (code != CURLE_OK) {
		r = http_error_curl(http, code, NULL, false, err);
		return resumable(code) ? -EAGAIN : r;
	}
	if (c->started) {
		ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL, "the server ended it");
		return opt->follow ? -EAGAIN : 0;
	}
	body = c->error_body ? json_loadb(c->error_body, c->error_len, 0, NULL) : NULL;
	r = http_error_status(http, c->status, body, NULL, err);
	json_decref(body);
	return c->status == 503 ? -EAGAIN : r;	/* 503: too many streams, for now */
}

static int connect_once(struct http *http, struct sse_parser *p, const struct sse_options *opt,
			bool *ret_started, struct ctl_error *err)
{
	struct sse_conn c = { .parser = p };
	struct curl_slist *headers = NULL, *l;
	CURLM *multi = curl_multi_init();
	char line[64];
	int r;

	c.easy = curl_easy_init();
	if (!multi || !c.easy) {
		r = ctl_error_set(err, CTL_EXIT_FAILED, NULL, "libcurl failed to start");
		goto out;
	}
	r = http_setup_stream(http, c.easy, opt->path, &headers, err);
	if (r < 0)
		goto out;
	snprintf(line, sizeof(line), "Last-Event-ID: %llu", p->last_id);
	if (!(l = curl_slist_append(headers, "Cache-Control: no-cache")) || !(headers = l) ||
	    (p->has_last_id && (!(l = curl_slist_append(headers, line)) || !(headers = l)))) {
		r = ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
		goto out;
	}
	curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c);
	sse_parser_restart(p);
	curl_multi_add_handle(multi, c.easy);
	r = outcome(http, &c, pump(&c, multi, opt), opt, err);
	curl_multi_remove_handle(multi, c.easy);
	*ret_started = c.started;
out:
	curl_slist_free_all(headers);
	free(c.error_body);
	if (c.easy)
		curl_easy_cleanup(c.easy);
	if (multi)
		curl_multi_cleanup(multi);
	return r;
}

int sse_run(struct http *http, const struct sse_options *opt, sse_fn fn, void *ctx,
	    struct ctl_error *err)
{
	struct sse_parser *p = sse_parser_new(fn, ctx);
	unsigned delay = RETRY_FIRST_MS, tries = 0;
	bool ever = false, told = false;
	int r;

	if (!p)
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	p->last_id = opt->since;
	p->has_last_id = opt->has_since;
	for (;;) {
		struct ctl_error drop = { 0 };
		bool started = false;

		r = connect_once(http, p, opt, &started, &drop);
		ever = ever || started;
		/* Done, an error, never connected at all, or tried enough. */
		if (r != -EAGAIN || !ever || (!opt->follow && ++tries > TRIES_WITHOUT_FOLLOW)) {
			if (r < 0)
				*err = drop;
			break;
		}
		if (started) {	/* it worked for a while: a new outage */
			delay = p->retry_ms ? p->retry_ms : RETRY_FIRST_MS;
			told = false;
		}
		if (!told && p->has_last_id) {
			fflush(stdout);
			fprintf(stderr, PROG ": the event stream dropped (%s); resuming after event "
				"%llu\n", drop.message, p->last_id);
		} else if (!told) {
			/* No event seen yet: nothing to resume from but "now". */
			fflush(stdout);
			fprintf(stderr, PROG ": the event stream dropped (%s); reconnecting\n",
				drop.message);
		}
		told = true;
		if (sleep_ms(delay) < 0) {
			r = 0;
			break;
		}
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	if ((r == 0 || r == -EINTR) && ctl_interrupted())
		r = opt->follow ? 0 : ctl_error_set(err, CTL_EXIT_INTERRUPTED, NULL, "interrupted");
	sse_parser_free(p);
	return r;
}
