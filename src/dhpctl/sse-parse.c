/* SPDX-License-Identifier: MIT */
/*
 * Parsing server-sent events: lines ended by "\n", "\r\n" or "\r";
 * "field: value"; a blank line hands the event on. Every line and event is
 * capped before its buffer grows, so a server cannot make us allocate
 * without bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse-internal.h"

struct sse_parser *sse_parser_new(sse_fn fn, void *ctx)
{
	struct sse_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->line = malloc(SSE_LINE_MAX + 1);
	if (!p->line) {
		free(p);
		return NULL;
	}
	p->fn = fn;
	p->ctx = ctx;
	return p;
}

void sse_parser_free(struct sse_parser *p)
{
	if (!p)
		return;
	free(p->line);
	free(p->data);
	free(p);
}

void sse_parser_restart(struct sse_parser *p)
{
	p->line_len = 0;
	p->after_cr = false;
	p->data_len = 0;
	p->has_id_buf = false;
}

static int append_data(struct sse_parser *p, const char *value, size_t len)
{
	size_t need = p->data_len + len + 2;	/* the value, "\n", NUL */

	if (need > SSE_EVENT_MAX) {
		snprintf(p->error, sizeof(p->error), "an event is larger than %u KiB",
			 SSE_EVENT_MAX >> 10);
		return -EPROTO;
	}
	if (need > p->data_cap) {
		size_t cap = p->data_cap ? p->data_cap : 4096;
		char *d;

		while (cap < need)
			cap *= 2;
		d = realloc(p->data, cap);
		if (!d) {
			snprintf(p->error, sizeof(p->error), "out of memory");
			return -EPROTO;
		}
		p->data = d;
		p->data_cap = cap;
	}
	memcpy(p->data + p->data_len, value, len);
	p->data_len += len;
	p->data[p->data_len++] = '\n';
	p->data[p->data_len] = '\0';
	return 0;
}

static bool parse_number(const char *s, unsigned long long *ret)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	*ret = strtoull(s, &end, 10);
	return true;
}

static int dispatch(struct sse_parser *p)
{
	struct sse_event ev;

	if (p->has_id_buf) {
		p->last_id = p->id_buf;
		p->has_last_id = true;
	}
	if (!p->data_len)
		return 0;
	p->data[--p->data_len] = '\0';	/* the last "\n" is not part of it */
	ev = (struct sse_event){ p->last_id, p->has_last_id, p->data, p->data_len };
	p->data_len = 0;
	p->last_dispatch_ms = now_ms();
	if (p->fn(p->ctx, &ev)) {
		p->stop = true;
		return -ECANCELED;
	}
	return 0;
}

static int process_line(struct sse_parser *p)
{
	char *line = p->line, *value;
	unsigned long long n;

	line[p->line_len] = '\0';
	p->line_len = 0;
	if (!line[0])
		return dispatch(p);
	if (line[0] == ':')
		return 0;	/* a comment: the server's keep-alive */
	value = strchr(line, ':');
	if (value) {
		*value++ = '\0';
		if (*value == ' ')
			value++;
	} else {
		value = line + strlen(line);
	}
	if (!strcmp(line, "data"))
		return append_data(p, value, strlen(value));
	if (!strcmp(line, "id")) {
		/* dhpd's ids are event numbers; anything else is not ours. */
		if (!parse_number(value, &n)) {
			snprintf(p->error, sizeof(p->error), "an event id is not a number: \"%.40s\"",
				 value);
			return -EPROTO;
		}
		p->id_buf = n;
		p->has_id_buf = true;
	} else if (!strcmp(line, "retry") && parse_number(value, &n)) {
		p->retry_ms = n > 60000 ? 60000 : (unsigned)n;
	}
	return 0;	/* "event" and unknown fields: ignored, as the spec says */
}

int sse_parse(struct sse_parser *p, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		int r;

		if (p->after_cr && c == '\n') {
			p->after_cr = false;
			continue;
		}
		p->after_cr = c == '\r';
		if (c != '\r' && c != '\n') {
			if (p->line_len >= SSE_LINE_MAX) {
				snprintf(p->error, sizeof(p->error), "a line is longer than %u KiB",
					 SSE_LINE_MAX >> 10);
				return -EPROTO;
			}
			p->line[p->line_len++] = c;
			continue;
		}
		r = process_line(p);
		if (r < 0)
			return r;
	}
	return 0;
}
