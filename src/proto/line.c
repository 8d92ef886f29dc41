/* SPDX-License-Identifier: MIT */
/* Splitting a byte stream into capped lines (see line.h). */
#include "proto/line.h"

#include <errno.h>
#include <string.h>

void dhp_proto_reader_init(struct dhp_proto_reader *r)
{
	r->len = 0;
	r->skipping = false;
}

void dhp_proto_reader_reset(struct dhp_proto_reader *r)
{
	dhp_proto_reader_init(r);
}

/* A complete line is in r->buf[0..r->len); hand it out and start anew. */
static int deliver(struct dhp_proto_reader *r, dhp_proto_line_fn fn, void *ctx)
{
	size_t len = r->len;

	r->len = 0;
	if (len && r->buf[len - 1] == '\r')
		len--;
	if (!len)
		return 0;
	return fn(ctx, r->buf, len, 0);
}

int dhp_proto_reader_push(struct dhp_proto_reader *r, const char *data, size_t n,
			  dhp_proto_line_fn fn, void *ctx, size_t *ret_used)
{
	size_t i = 0;
	int rc = 0;

	while (i < n) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t chunk = nl ? (size_t)(nl - (data + i)) : n - i;

		if (r->skipping) {
			/* The rest of an over-long line: drop it. */
			i += chunk;
			if (nl) {
				i++;
				r->skipping = false;
			}
			continue;
		}
		/* The newline counts towards the cap: a line is at most
		 * DHP_PROTO_LINE_MAX bytes with it, so its text at most one
		 * less, which is what buf holds. */
		if (r->len + chunk > sizeof(r->buf) - 1) {
			r->len = 0;
			r->skipping = true;
			rc = fn(ctx, NULL, 0, -EMSGSIZE);
			if (rc)
				break;
			continue;
		}
		memcpy(r->buf + r->len, data + i, chunk);
		r->len += chunk;
		i += chunk;
		if (!nl)
			break;
		i++;
		rc = deliver(r, fn, ctx);
		if (rc)
			break;
	}
	if (ret_used)
		*ret_used = i;
	return rc;
}
