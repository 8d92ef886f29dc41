/* SPDX-License-Identifier: MIT */
/*
 * The agent protocol's lines, as either peer reads them (src/proto): bytes
 * through the line reader (dhp_proto_reader_push, in chunks the input's
 * first byte sizes), then each line through dhp_proto_decode(), which dhpd
 * (backend/qemu/agent.c), dhp-agent (agent/serve.c, apps-line.c) and
 * libdhp (libdhp/agent-conn.c) all call; a line that does not decode
 * through dhp_proto_peek_id() and dhp_proto_peek_type(), as they answer
 * it. A line that decodes must encode again, and what it encodes to must
 * decode to the same message (then encode to the same bytes).
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <string.h>

#include "proto/line.h"
#include "proto/proto.h"

struct lines {
	unsigned n;
};

static void roundtrip(const struct dhp_proto_msg *msg)
{
	static struct dhp_proto_msg again;
	static char a[DHP_PROTO_LINE_MAX + 1], b[DHP_PROTO_LINE_MAX + 1];
	size_t alen, blen;
	struct dhp_error err = { 0 };
	int r = dhp_proto_encode(msg, a, sizeof(a), &alen, &err);

	/* A decoded message fits one line again, unless a state's lists had
	 * to be cut (then it is marked truncated) or its text grew by
	 * escaping. */
	if (r == -EMSGSIZE)
		return;
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(alen >= 1 && a[alen - 1] == '\n' && a[alen] == '\0');
	r = dhp_proto_decode(a, alen - 1, &again, &err);
	if (r < 0)
		fprintf(stderr, "re-decode of \"%s\": %s\n", a, err.message);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(again.type == msg->type);
	FUZZ_CHECK(dhp_proto_encode(&again, b, sizeof(b), &blen, &err) == 0);
	if (alen != blen || memcmp(a, b, alen))
		fprintf(stderr, "first:  %s\nsecond: %s\n", a, b);
	FUZZ_CHECK(alen == blen && !memcmp(a, b, alen));
}

static int on_line(void *ctx, const char *line, size_t len, int rc)
{
	static struct dhp_proto_msg msg;
	struct lines *lines = ctx;
	struct dhp_error err = { 0 };
	enum dhp_proto_type type;
	uint64_t id;

	lines->n++;
	if (rc == -EMSGSIZE) {
		FUZZ_CHECK(!line && !len);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && line && len > 0 && len < DHP_PROTO_LINE_MAX);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	if (dhp_proto_decode(line, len, &msg, &err) == 0) {
		roundtrip(&msg);
		return 0;
	}
	FUZZ_CHECK(err.code < 0 && err.message[0]);
	FUZZ_CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
	if (dhp_proto_peek_type(line, len, &type))
		FUZZ_CHECK((unsigned)type < DHP_PROTO_TYPE_MAX);
	(void)dhp_proto_peek_id(line, len, &id);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhp_proto_reader reader;
	struct lines lines = { 0 };
	size_t chunk, at = 0;

	if (!size)
		return 0;
	/* The first byte: how the stream is cut into reads (0: at once). */
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	dhp_proto_reader_init(&reader);
	while (at < size) {
		size_t n = size - at < chunk ? size - at : chunk;

		FUZZ_CHECK(dhp_proto_reader_push(&reader, (const char *)data + at, n, on_line,
						 &lines, NULL) == 0);
		at += n;
	}
	return 0;
}
