/* SPDX-License-Identifier: MIT */
/*
 * Streamed responses (server-sent events): http.h's http_stream.
 *
 * The response reads from the stream's queue. When the queue is empty the
 * connection is suspended, and http_stream_write() resumes it: MHD serves
 * every connection resumed in a turn of the loop in one MHD_run(), and
 * tls.c writes each one's bytes with one send(). A suspended
 * connection does not notice its client leaving (MHD's rule): the SSE
 * publisher's keep-alive comments find out (redfish's SSE hub
 * sends one every 15 s).
 */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_QUEUE_MAX (1024 * 1024)	/* a slower client is dropped */
#define STREAM_BLOCK 16384		/* the most MHD asks a stream for at once */

static void stream_wake(struct http_stream *st)
{
	if (!st->suspended)
		return;
	st->suspended = false;
	MHD_resume_connection(st->req->conn);
	http_kick(st->req->server);
}

static int queue_reserve(struct http_stream *st, size_t len)
{
	char *buf;
	size_t cap;

	if (st->head && st->head + st->len + len > st->cap) {
		memmove(st->buf, st->buf + st->head, st->len);
		st->head = 0;
	}
	if (st->len + len <= st->cap)
		return 0;
	cap = st->cap ? st->cap : 4096;
	while (cap < st->len + len)
		cap *= 2;
	buf = realloc(st->buf, cap);
	if (!buf)
		return -ENOMEM;
	st->buf = buf;
	st->cap = cap;
	return 0;
}

int http_stream_write(struct http_stream *st, const char *data, size_t len)
{
	if (st->closing)
		return -EPIPE;
	if (st->len + len > STREAM_QUEUE_MAX || queue_reserve(st, len) < 0) {
		st->closing = st->failed = true;
		stream_wake(st);
		return -ENOBUFS;
	}
	memcpy(st->buf + st->head + st->len, data, len);
	st->len += len;
	stream_wake(st);
	return 0;
}

void http_stream_on_close(struct http_stream *st, void (*fn)(void *ctx), void *ctx)
{
	st->close_fn = fn;
	st->close_ctx = ctx;
}

void http_stream_on_drain(struct http_stream *st, void (*fn)(void *ctx), void *ctx)
{
	st->drain_fn = fn;
	st->drain_ctx = ctx;
}

size_t http_stream_queued(const struct http_stream *st)
{
	return st->len;
}

void http_stream_close(struct http_stream *st)
{
	st->closing = true;
	stream_wake(st);
}

/* MHD asks for the next bytes of a stream. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = &((struct http_req *)cls)->stream;
	size_t n;

	(void)pos;
	if (!st->len && !st->closing && st->drain_fn)
		st->drain_fn(st->drain_ctx);
	if (st->len) {
		n = st->len < max ? st->len : max;
		memcpy(buf, st->buf + st->head, n);
		st->head += n;
		st->len -= n;
		if (!st->len)
			st->head = 0;
		return (ssize_t)n;
	}
	if (st->closing)
		return st->failed ? MHD_CONTENT_READER_END_WITH_ERROR
				  : MHD_CONTENT_READER_END_OF_STREAM;
	MHD_suspend_connection(st->req->conn);
	st->suspended = true;
	return 0;
}

void http_stream_end(struct http_req *r)
{
	struct http_stream *st = &r->stream;
	struct http_server *s = r->server;

	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->closing = true;
	if (st->close_fn)
		st->close_fn(st->close_ctx);
	free(st->buf);
	r->streaming = false;
}

enum MHD_Result http_stream_queue(struct http_req *r, const struct http_response *res)
{
	struct http_server *s = r->server;
	struct http_stream *st = &r->stream;
	struct MHD_Response *resp;
	enum MHD_Result ok = MHD_NO;

	memset(st, 0, sizeof(*st));
	st->req = r;
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	r->streaming = true;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read,
						 r, NULL);
	if (resp) {
		http_add_headers(r, resp, res, "text/event-stream");
		ok = MHD_queue_response(r->conn, res->status, resp);
		MHD_destroy_response(resp);
	}
	res->stream_open(res->stream_ctx, st);
	if (ok != MHD_YES)
		http_stream_end(r);
	return ok;
}
