/* SPDX-License-Identifier: MIT */
/*
 * dhpctl's server-sent events parser (src/dhpctl/sse-parse.c), fed the
 * stream in reads the input's first byte sizes, with a restart (a new
 * connection) where that byte says. Each event handed on must be a C
 * string of its stated length, within SSE_EVENT_MAX; a parser that
 * refused the stream says why.
 *
 * dhpctl's objects are in no layer library: mk/fuzz.mk links
 * sse-parse.c's into this harness. now_ms() is util.c's, which would bring
 * the rest of dhpctl: this file has its own.
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <string.h>

#include "sse-internal.h"

uint64_t now_ms(void)
{
	return 0;
}

static int on_event(void *ctx, const struct sse_event *ev)
{
	unsigned *n = ctx;

	FUZZ_CHECK(ev->data && ev->len <= SSE_EVENT_MAX && ev->data[ev->len] == '\0');
	/* The fifth event asks to stop, as a caller that has what it wanted. */
	return ++*n == 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_parser *p;
	unsigned events = 0;
	size_t chunk, restart_at, at = 0;

	if (size < 2)
		return 0;
	chunk = data[0] ? data[0] : size;
	restart_at = data[1] * (size / 256 + 1);
	data += 2;
	size -= 2;
	p = sse_parser_new(on_event, &events);
	if (!p)
		return 0;
	while (at < size) {
		size_t n = size - at < chunk ? size - at : chunk;
		int r;

		if (at <= restart_at && restart_at < at + n)
			sse_parser_restart(p);
		r = sse_parse(p, (const char *)data + at, n);
		FUZZ_CHECK(r == 0 || r == -EPROTO || r == -ECANCELED);
		if (r == -EPROTO)
			FUZZ_CHECK(p->error[0]);
		if (r < 0)
			break;
		at += n;
	}
	sse_parser_free(p);
	return 0;
}
