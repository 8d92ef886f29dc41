/* SPDX-License-Identifier: MIT */
/*
 * src/http's JSON output against jansson, on trees the input describes
 * (the fuzzing form of tests/t0650-json-differential.c):
 * http_json_append() must write byte for byte what json_dumps(JSON_COMPACT)
 * writes, or refuse what it refuses; http_etag() must give the hash of the
 * reference walk (t0650's: keys sorted with qsort, each value looked up
 * again).
 *
 * The input is a small program that builds the tree, one byte an opcode
 * (below), so that strings and keys reach the serializer as raw bytes
 * (invalid UTF-8, NULs), which json_loads would never give it.
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "etag-ref.h"
#include "http/http.h"

#define DEPTH_MAX 80		/* past json-dump.c's own walk: jansson's then */

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static size_t take(struct input *in, void *buf, size_t n)
{
	n = n < in->left ? n : in->left;
	memcpy(buf, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

/* op % 8: 0 null, 1 true, 2 false, 3 an integer (8 bytes), 4 a real
 * (8 bytes; NaN and infinities, which jansson refuses, become 0.5),
 * 5 a string (a length byte, raw bytes), 6 an array (a count byte, its
 * values), 7 an object (a count byte, then a raw key and a value each). */
static json_t *value(struct input *in, unsigned depth)
{
	unsigned op = byte(in), n;
	char s[256];
	json_int_t i = 0;
	double d = 0;
	json_t *v, *child;

	if (depth >= DEPTH_MAX)
		op = 0;
	switch (op % 8) {
	case 0: return json_null();
	case 1: return json_true();
	case 2: return json_false();
	case 3:
		take(in, &i, sizeof(i));
		return json_integer(i);
	case 4:
		take(in, &d, sizeof(d));
		return json_real(isfinite(d) ? d : 0.5);
	case 5:
		n = byte(in);
		return json_stringn_nocheck(s, take(in, s, n));
	case 6:
		v = json_array();
		for (n = byte(in) % 16; v && n && in->left; n--)
			json_array_append_new(v, value(in, depth + 1));
		return v;
	default:
		v = json_object();
		for (n = byte(in) % 16; v && n && in->left; n--) {
			size_t len = take(in, s, byte(in) % 24);

			child = value(in, depth + 1);
			/* Keys with a NUL are cut there, as jansson's own
			 * object_set would take them. */
			if (json_object_setn_new_nocheck(v, s, strnlen(s, len), child))
				json_decref(child);
		}
		return v;
	}
}

static void dump_agrees(const json_t *v)
{
	static const char prefix[] = "data: ";
	char *want = json_dumps(v, JSON_COMPACT);
	struct http_buf buf = { 0 };
	int r;

	http_buf_add(&buf, prefix, sizeof(prefix) - 1);
	r = http_json_append(&buf, v);
	if (!want) {
		FUZZ_CHECK(r == -EINVAL && buf.len == sizeof(prefix) - 1);
	} else {
		if (r != 0 || buf.len != sizeof(prefix) - 1 + strlen(want) ||
		    memcmp(buf.data + sizeof(prefix) - 1, want, strlen(want)))
			fprintf(stderr, "http_json_append %d: \"%.*s\"\njson_dumps: \"%s\"\n", r,
				(int)buf.len, buf.data ? buf.data : "", want);
		FUZZ_CHECK(r == 0 && buf.len == sizeof(prefix) - 1 + strlen(want) &&
			   !memcmp(buf.data + sizeof(prefix) - 1, want, strlen(want)));
	}
	FUZZ_CHECK(!memcmp(buf.data, prefix, sizeof(prefix) - 1));
	free(want);
	free(buf.data);
}

static void etag_agrees(const json_t *v)
{
	char got[64], want[64];

	http_etag(v, got, sizeof(got));
	etag_reference(v, want, sizeof(want));
	if (strcmp(got, want))
		fprintf(stderr, "http_etag %s, reference %s\n", got, want);
	FUZZ_CHECK(!strcmp(got, want));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	json_t *v = value(&in, 0);

	if (!v)
		return 0;
	dump_agrees(v);
	etag_agrees(v);
	json_decref(v);
	return 0;
}
