/* SPDX-License-Identifier: MIT */
/*
 * The ETag of a JSON body (http.h): a 64-bit hash of a canonical walk of
 * the value: keys in sorted order, each value with a type tag, numbers by
 * their binary value. The same resource state has the same ETag
 * whatever order its keys were set in, and across restarts. (Hashing
 * json_dumps(JSON_SORT_KEYS) text gives the same property but serialises
 * every body twice.)
 *
 * Exactly, per value: one type byte (json_typeof, 0xff for a missing
 * value); then for an object each key with its NUL and the key's value, in
 * strcmp order of the keys (an object of more than ETAG_MAX_KEYS keys: its
 * first ETAG_MAX_KEYS in jansson's order, unsorted); for an array its
 * elements, then ']'; a string's bytes and a NUL; an integer's or a real's
 * bytes (json_int_t, double); nothing more for true, false and null. Below
 * depth 64, only the type byte.
 *
 * Each piece of the walk (a tag, a key and its NUL, a string and its NUL,
 * a number) is hashed by mix(): its whole 8-byte words (as this machine
 * reads them), then one word of the rest xor'ed with the piece's length
 * in the top byte; each word by h = (h ^ w) * K, h ^= h >> 32.
 *
 * Every GET of a single resource pays this walk, so it reads each object's
 * keys and values in one pass of jansson's iterator (no lookups), sorts
 * the few keys of an object by insertion, and hashes a word at a time:
 * FNV-1a's multiply per byte was 7% of a GET of a partition.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>


#define ETAG_MAX_KEYS 256	/* larger objects are hashed in jansson's order */
#define ETAG_MAX_DEPTH 64	/* deeper than any resource dhp makes */

#define MIX_K 0x9e3779b97f4a7c15ull	/* odd, bits spread: 2^64 / golden ratio */
#define MIX_SEED 0xcbf29ce484222325ull

static uint64_t mix_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * MIX_K;
	return h ^ (h >> 32);
}

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;
	size_t n = len;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = mix_word(h, w);
	}
	w = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < n; i++)
		w ^= (uint64_t)p[i] << (8 * i);
	return mix_word(h, w);
}

struct member {
	const char *key;
	size_t len;			/* strlen(key) */
	const json_t *value;
};

static uint64_t hash_value(uint64_t h, const json_t *v, unsigned depth);

/* strcmp order; a key is compared up to its first NUL, as strcmp would. */
static int key_cmp(const struct member *a, const struct member *b)
{
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static uint64_t hash_object(uint64_t h, const json_t *v, unsigned depth)
{
	struct member m[ETAG_MAX_KEYS], tmp;
	size_t n = 0, size = json_object_size(v);
	void *iter;

	for (iter = json_object_iter((json_t *)v); iter && n < ETAG_MAX_KEYS;
	     iter = json_object_iter_next((json_t *)v, iter)) {
		m[n].key = json_object_iter_key(iter);
		m[n].len = strlen(m[n].key);
		/* A key with a NUL inside names, for strcmp and for
		 * json_object_get, the key up to that NUL. */
		m[n].value = m[n].len == json_object_iter_key_len(iter) ?
			     json_object_iter_value(iter) : json_object_get(v, m[n].key);
		n++;
	}
	if (n == size)
		for (size_t i = 1; i < n; i++) {
			size_t j = i;

			tmp = m[i];
			for (; j > 0 && key_cmp(&m[j - 1], &tmp) > 0; j--)
				m[j] = m[j - 1];
			m[j] = tmp;
		}
	for (size_t i = 0; i < n; i++) {
		h = mix(h, m[i].key, m[i].len + 1);
		h = hash_value(h, m[i].value, depth + 1);
	}
	return h;
}

static uint64_t hash_value(uint64_t h, const json_t *v, unsigned depth)
{
	unsigned char tag = v ? (unsigned char)json_typeof(v) : 0xff;
	json_int_t i;
	double d;

	h = mix(h, &tag, 1);
	if (!v || depth > ETAG_MAX_DEPTH)
		return h;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return hash_object(h, v, depth);
	case JSON_ARRAY:
		for (size_t k = 0, n = json_array_size(v); k < n; k++)
			h = hash_value(h, json_array_get(v, k), depth + 1);
		return mix(h, "]", 1);
	case JSON_STRING:
		return mix(h, json_string_value(v), json_string_length(v) + 1);
	case JSON_INTEGER:
		i = json_integer_value(v);
		return mix(h, &i, sizeof(i));
	case JSON_REAL:
		d = json_real_value(v);
		return mix(h, &d, sizeof(d));
	default:
		return h;	/* true, false, null: the tag says it all */
	}
}

void http_etag(const json_t *body, char *buf, size_t len)
{
	snprintf(buf, len, "W/\"%016llx\"",
		 (unsigned long long)hash_value(MIX_SEED, body, 0));
}
