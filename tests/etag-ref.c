/* SPDX-License-Identifier: MIT */
/* The reference ETag (etag-ref.h): src/http/json-etag.c's hash of a
 * canonical walk, written again the plain way (qsort, lookups, a byte at
 * a time into each word). */
#include "etag-ref.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_MAX_KEYS 256

static uint64_t ref_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

/* Each whole 8 bytes as the machine reads them; the rest, with the
 * piece's length in the top byte. */
static uint64_t ref_piece(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t whole = len / 8 * 8;
	uint64_t w;

	for (size_t i = 0; i < whole; i += 8) {
		memcpy(&w, p + i, 8);
		h = ref_word(h, w);
	}
	w = (uint64_t)(len % 256) << 56;
	for (size_t i = whole; i < len; i++)
		w |= (uint64_t)p[i] << (8 * (i - whole));
	return ref_word(h, w);
}

static int ref_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t ref_value(uint64_t h, const json_t *v, unsigned depth);

static uint64_t ref_object(uint64_t h, const json_t *v, unsigned depth)
{
	const char *keys[REF_MAX_KEYS], *key;
	size_t n = 0;
	json_t *child;

	json_object_foreach((json_t *)v, key, child)
		if (n < REF_MAX_KEYS)
			keys[n++] = key;
	if (n == json_object_size(v))
		qsort(keys, n, sizeof(keys[0]), ref_key_cmp);
	for (size_t i = 0; i < n; i++) {
		h = ref_piece(h, keys[i], strlen(keys[i]) + 1);
		h = ref_value(h, json_object_get(v, keys[i]), depth + 1);
	}
	return h;
}

static uint64_t ref_value(uint64_t h, const json_t *v, unsigned depth)
{
	unsigned char tag = v ? (unsigned char)json_typeof(v) : 0xff;
	json_int_t i;
	double d;

	h = ref_piece(h, &tag, 1);
	if (!v || depth > 64)
		return h;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return ref_object(h, v, depth);
	case JSON_ARRAY:
		for (size_t k = 0; k < json_array_size(v); k++)
			h = ref_value(h, json_array_get(v, k), depth + 1);
		return ref_piece(h, "]", 1);
	case JSON_STRING:
		return ref_piece(h, json_string_value(v), json_string_length(v) + 1);
	case JSON_INTEGER:
		i = json_integer_value(v);
		return ref_piece(h, &i, sizeof(i));
	case JSON_REAL:
		d = json_real_value(v);
		return ref_piece(h, &d, sizeof(d));
	default:
		return h;
	}
}

void etag_reference(const json_t *v, char *buf, size_t len)
{
	snprintf(buf, len, "W/\"%016" PRIx64 "\"", ref_value(0xcbf29ce484222325ull, v, 0));
}
