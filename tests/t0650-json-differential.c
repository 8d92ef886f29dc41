/* SPDX-License-Identifier: MIT */
/*
 * src/http's JSON output against jansson, on random trees (http/http.h):
 * http_json_append() must write byte for byte what json_dumps(JSON_COMPACT)
 * writes, or refuse what it refuses; http_etag() must give the hash of the
 * reference walk below (the first ETag code: keys sorted with qsort, each
 * value looked up again with json_object_get). Both are hand-written for
 * speed (docs/BENCHMARKS.md), so jansson is the oracle.
 *
 * The trees are random but seeded: the seed is printed first, and
 * DHP_TEST_SEED=N replays a run; DHP_TEST_TREES=N sets how many trees
 * (default 20000 per case). Strings and keys carry escapes, control
 * characters, NULs, valid and invalid UTF-8 (overlong forms, surrogates,
 * past U+10FFFF, truncated sequences), integers their limits, reals
 * their awkward values.
 */
#include "etag-ref.h"
#include "harness.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"

static uint64_t rng;
static unsigned n_trees = 20000;
static unsigned refused;	/* trees both refused (a check that the refusals are exercised) */

/* xorshift64*: the same trees for the same seed on every machine. */
static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(next() % n);
}

/* ---- random values ---- */

/* Byte sequences that stress the string writer and its UTF-8 check. */
static const char *const pieces[] = {
	"a", "Id", "@odata.id", " ", "/", "\"", "\\", "\b", "\f", "\n", "\r", "\t",
	"\x01", "\x1f", "\x7f", "\0",
	"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
	"\xf4\x8f\xbf\xbf", "\xc3\xa9", "\xe2\x82\xac",			/* valid */
	"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xf0\x80\x80\x80",	/* overlong */
	"\xed\xa0\x80", "\xed\xbf\xbf",					/* surrogates */
	"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "\xbf",	/* out of range */
	"\xc2", "\xe0\xa0", "\xf0\x90\x80",				/* truncated */
};

/* Lengths of pieces[] (they may hold NULs). */
static size_t piece_len(unsigned i)
{
	return pieces[i][0] ? strlen(pieces[i]) : 1;
}

/* A random string into buf (at most max bytes); its length. With plain,
 * valid UTF-8 only, and no NUL. */
static size_t random_bytes(char *buf, size_t max, bool plain)
{
	unsigned n = below(12);
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned p = below(sizeof(pieces) / sizeof(pieces[0]));
		size_t l = piece_len(p);

		if (plain && (p == 15 || p >= 24))
			continue;
		if (!below(3)) {		/* a run of plain characters */
			for (unsigned k = below(20); k && len < max; k--)
				buf[len++] = (char)('a' + below(26));
			continue;
		}
		if (len + l > max)
			break;
		memcpy(buf + len, pieces[p], l);
		len += l;
	}
	return len;
}

static json_t *random_string(void)
{
	char buf[256];
	size_t len = random_bytes(buf, sizeof(buf), below(8) != 0);

	return json_stringn_nocheck(buf, len);
}

static json_t *random_integer(void)
{
	static const json_int_t edges[] = { 0, 1, -1, 9, 10, -10, INT32_MAX, INT32_MIN,
					    INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1 };

	if (below(2))
		return json_integer(edges[below(sizeof(edges) / sizeof(edges[0]))]);
	return json_integer((json_int_t)next());
}

static json_t *random_real(void)
{
	static const double edges[] = { 0.0, -0.0, 1.0, -1.5, 0.1, 1e300, -1e-300, 5e-324,
					 1.7976931348623157e308, 123456789012345678.0, 1e16, 1e15 };
	uint64_t bits;
	double d;

	if (below(2))
		return json_real(edges[below(sizeof(edges) / sizeof(edges[0]))]);
	bits = next();
	memcpy(&d, &bits, sizeof(d));
	return json_real(isfinite(d) ? d : 2.5);	/* jansson refuses NaN and infinities */
}

static json_t *random_value(unsigned depth);

static json_t *random_object(unsigned depth)
{
	json_t *o = json_object();
	unsigned n = below(8);
	char key[64];

	for (unsigned i = 0; i < n; i++) {
		size_t len = random_bytes(key, sizeof(key), below(6) != 0);

		if (!below(4))		/* a key seen before, or a prefix of one */
			len = len ? len / 2 : 0;
		json_object_setn_new_nocheck(o, key, len, random_value(depth + 1));
	}
	return o;
}

static json_t *random_array(unsigned depth)
{
	json_t *a = json_array();
	unsigned n = below(8);

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, random_value(depth + 1));
	return a;
}

static json_t *random_value(unsigned depth)
{
	unsigned kind = below(depth > 5 ? 6 : 9);

	switch (kind) {
	case 0: return random_string();
	case 1: return random_integer();
	case 2: return random_real();
	case 3: return json_true();
	case 4: return json_false();
	case 5: return json_null();
	case 6: case 7: return random_object(depth);
	default: return random_array(depth);
	}
}

/* A top-level value: mostly objects (what dhpd sends), some arrays, a few
 * scalars (refused by both). */
static json_t *random_tree(void)
{
	unsigned k = below(20);

	return k < 14 ? random_object(0) : k < 19 ? random_array(0) : random_value(6);
}

/* ---- the serializer ---- */

/* One tree: http_json_append's text (after a prefix it must keep) is
 * json_dumps's, or both refuse. */
static bool dump_agrees(const json_t *v, unsigned tree)
{
	static const char prefix[] = "data: ";
	char *want = json_dumps(v, JSON_COMPACT);
	struct http_buf buf = { 0 };
	bool same;
	int r;

	http_buf_add(&buf, prefix, sizeof(prefix) - 1);
	r = http_json_append(&buf, v);
	if (!want) {
		same = r == -EINVAL && buf.len == sizeof(prefix) - 1;
		refused += same;
	} else {
		same = r == 0 && buf.len == sizeof(prefix) - 1 + strlen(want) &&
		       !memcmp(buf.data + sizeof(prefix) - 1, want, strlen(want));
	}
	same = same && !memcmp(buf.data, prefix, sizeof(prefix) - 1);
	CHECK_MSG(same, "tree %u: http_json_append gave %d, \"%.*s\"; json_dumps \"%s\"", tree, r,
		  (int)(buf.len < 200 ? buf.len : 200), buf.data ? buf.data : "",
		  want ? want : "(refused)");
	free(want);
	free(buf.data);
	return same;
}

static void dump_random_trees(void)
{
	refused = 0;
	for (unsigned i = 0; i < n_trees; i++) {
		json_t *v = random_tree();
		bool ok = dump_agrees(v, i);

		json_decref(v);
		if (!ok)
			break;		/* the first difference says it all */
	}
	CHECK_MSG(refused > 0, "no tree was refused: the refusals went untested");
}

/* Deeper than json-dump.c walks itself: left to jansson, same text. */
static void dump_deep_nesting(void)
{
	json_t *v = json_string("bottom");

	for (unsigned i = 0; i < 300; i++)
		v = i % 2 ? json_pack("{s:o}", "k", v) : json_pack("[o]", v);
	v = json_pack("{s:o}", "top", v);
	dump_agrees(v, 0);
	json_decref(v);
}

/* ---- ETags ---- */

static bool etag_agrees(const json_t *v, unsigned tree)
{
	char got[64], want[64];

	http_etag(v, got, sizeof(got));
	etag_reference(v, want, sizeof(want));
	CHECK_MSG(!strcmp(got, want), "tree %u: http_etag %s, reference %s", tree, got, want);
	return !strcmp(got, want);
}

static void etag_random_trees(void)
{
	for (unsigned i = 0; i < n_trees; i++) {
		json_t *v = random_tree();
		bool ok = etag_agrees(v, i);

		json_decref(v);
		if (!ok)
			break;
	}
}

/* The order keys were set in does not change the ETag; a value does. */
static void etag_key_order(void)
{
	json_t *a = json_pack("{s:i, s:s, s:[b, n]}", "b", 1, "a", "x", "c", 1);
	json_t *b = json_pack("{s:[b, n], s:s, s:i}", "c", 1, "a", "x", "b", 1);
	json_t *c = json_pack("{s:[b, n], s:s, s:i}", "c", 1, "a", "x", "b", 2);
	char ea[64], eb[64], ec[64];

	http_etag(a, ea, sizeof(ea));
	http_etag(b, eb, sizeof(eb));
	http_etag(c, ec, sizeof(ec));
	CHECK_STR(ea, eb);
	CHECK(strcmp(ea, ec) != 0);
	etag_agrees(a, 0);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

int main(void)
{
	const char *seed = getenv("DHP_TEST_SEED");
	const char *trees = getenv("DHP_TEST_TREES");

	rng = seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
	if (!rng)
		rng = 1;	/* xorshift stays at 0 */
	if (trees && *trees)
		n_trees = (unsigned)strtoul(trees, NULL, 10);
	printf("# seed %" PRIu64 " (DHP_TEST_SEED=%" PRIu64 " replays it), %u trees per case\n",
	       rng, rng, n_trees);
	RUN(dump_random_trees);
	RUN(dump_deep_nesting);
	RUN(etag_random_trees);
	RUN(etag_key_order);
	return test_done();
}
