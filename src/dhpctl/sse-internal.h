/* SPDX-License-Identifier: MIT */
/* What sse.c (the connection) and sse-parse.c (the parser) share. */
#ifndef DHPCTL_SSE_INTERNAL_H
#define DHPCTL_SSE_INTERNAL_H

#include <stdint.h>

#include "http-internal.h"

#define SSE_LINE_MAX (64u << 10)	/* one line of the stream */
#define SSE_EVENT_MAX (1u << 20)	/* one event's data */

/* The SSE parser (the WHATWG "event stream interpretation"), one per run:
 * the last event id survives reconnections. */
struct sse_parser {
	sse_fn fn;
	void *ctx;
	char *line;			/* SSE_LINE_MAX + 1 bytes */
	size_t line_len;
	bool after_cr;			/* a "\r" ended the last line: skip a "\n" */
	char *data;			/* the event being read, capped at SSE_EVENT_MAX */
	size_t data_len, data_cap;
	unsigned long long id_buf;	/* the "id:" field, until dispatch */
	bool has_id_buf;
	unsigned long long last_id;	/* of the last event handed on: resume after it */
	bool has_last_id;
	unsigned retry_ms;		/* the server's "retry:", 0 if none */
	uint64_t last_dispatch_ms;	/* to tell when the stream has gone quiet */
	bool stop;			/* fn asked to stop */
	char error[160];		/* a protocol error, or "" */
};

struct sse_parser *sse_parser_new(sse_fn fn, void *ctx);
void sse_parser_free(struct sse_parser *p);
/* A new connection: forget its predecessor's half-read line and event. */
void sse_parser_restart(struct sse_parser *p);
/* Feed bytes. -EPROTO when the stream breaks a limit (p->error says
 * which), -ECANCELED when fn asked to stop; 0 otherwise. */
int sse_parse(struct sse_parser *p, const char *data, size_t len);

#endif
