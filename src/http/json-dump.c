/* SPDX-License-Identifier: MIT */
/*
 * Compact JSON text, byte for byte what json_dumps(v, JSON_COMPACT) writes,
 * at a fraction of its cost: it was a quarter of dhpd's CPU time for a GET.
 *
 * jansson's dumper calls its output callback once per token, decodes every
 * character of every string as UTF-8, and tracks each object and array in
 * a hash table to detect cycles. This walk copies runs of plain characters
 * at once, checks UTF-8 only for bytes above 0x7f, and bounds the depth
 * instead of tracking parents.
 *
 * What it must match (jansson 2.14, dump.c): objects in iteration order
 * (insertion order: no JSON_SORT_KEYS), ':' and ',' without spaces; in
 * strings '"' and '\\' escaped, \b \f \n \r \t by name, other bytes below
 * 0x20 as \u00XX (upper-case hex), everything else as it is (no
 * JSON_ENSURE_ASCII, no JSON_ESCAPE_SLASH); integers as "%lld"; true,
 * false, null. Where it would have to guess, it leaves the value to
 * jansson itself: a real (jansson's own "%.17g" rules, appended from
 * json_dumps of that value), and a string that is not valid UTF-8, a value
 * nested too deep (a cycle) or a top-level scalar (the whole text then
 * comes from json_dumps, which refuses them in the same way as before).
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#define DUMP_MAX_DEPTH 256	/* deeper than any body dhp makes */
#define BUF_MIN 2048

void http_buf_add(struct http_buf *b, const void *data, size_t len)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (len > b->cap - b->len) {
		cap = b->cap ? b->cap : BUF_MIN;
		while (cap - b->len < len) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void add_char(struct http_buf *b, char c)
{
	if (b->len < b->cap && !b->failed)
		b->data[b->len++] = c;
	else
		http_buf_add(b, &c, 1);
}

/* 1 for bytes that end a run of plain string characters: controls, '"',
 * '\\' and the bytes of multi-byte UTF-8 sequences (checked one by one). */
static const unsigned char special[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* Length of the valid UTF-8 sequence at s (jansson's utf8_check_first and
 * utf8_check_full: no overlong forms, no surrogates, at most U+10FFFF), or
 * 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char u = s[0];
	size_t n = u >= 0xc2 && u <= 0xdf ? 2 : u >= 0xe0 && u <= 0xef ? 3 :
		   u >= 0xf0 && u <= 0xf4 ? 4 : 0;
	uint32_t cp = n == 2 ? u & 0x1fu : n == 3 ? u & 0xfu : u & 0x7u;

	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;
	return n;
}

static int dump_string(struct http_buf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, n;
	char esc[6] = { '\\', 'u', '0', '0' };

	add_char(b, '"');
	while (i < len) {
		for (run = i; run < len && !special[s[run]]; run++)
			;
		if (run > i)
			http_buf_add(b, s + i, run - i);
		if ((i = run) == len)
			break;
		if (s[i] >= 0x80) {
			n = utf8_len(s + i, len - i);
			if (!n)
				return -EINVAL;
			http_buf_add(b, s + i, n);
			i += n;
			continue;
		}
		switch (s[i]) {
		case '"': http_buf_add(b, "\\\"", 2); break;
		case '\\': http_buf_add(b, "\\\\", 2); break;
		case '\b': http_buf_add(b, "\\b", 2); break;
		case '\f': http_buf_add(b, "\\f", 2); break;
		case '\n': http_buf_add(b, "\\n", 2); break;
		case '\r': http_buf_add(b, "\\r", 2); break;
		case '\t': http_buf_add(b, "\\t", 2); break;
		default:
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 0xf];
			http_buf_add(b, esc, sizeof(esc));
		}
		i++;
	}
	add_char(b, '"');
	return 0;
}

static void dump_integer(struct http_buf *b, json_int_t v)
{
	char text[24], *p = text + sizeof(text);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	http_buf_add(b, p, (size_t)(text + sizeof(text) - p));
}

/* jansson's own text for a real: its rules ("%.17g", ".0" added, the
 * exponent trimmed) are its to keep. */
static int dump_real(struct http_buf *b, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		return -ENOMEM;
	http_buf_add(b, text, strlen(text));
	free(text);
	return 0;
}

static int dump_value(struct http_buf *b, const json_t *v, unsigned depth);

static int dump_object(struct http_buf *b, const json_t *v, unsigned depth)
{
	void *iter = json_object_iter((json_t *)v);
	int r;

	add_char(b, '{');
	for (bool first = true; iter; first = false) {
		if (!first)
			add_char(b, ',');
		r = dump_string(b, json_object_iter_key(iter), json_object_iter_key_len(iter));
		if (r < 0)
			return r;
		add_char(b, ':');
		r = dump_value(b, json_object_iter_value(iter), depth + 1);
		if (r < 0)
			return r;
		iter = json_object_iter_next((json_t *)v, iter);
	}
	add_char(b, '}');
	return 0;
}

static int dump_array(struct http_buf *b, const json_t *v, unsigned depth)
{
	size_t n = json_array_size(v);
	int r;

	add_char(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			add_char(b, ',');
		r = dump_value(b, json_array_get(v, i), depth + 1);
		if (r < 0)
			return r;
	}
	add_char(b, ']');
	return 0;
}

static int dump_value(struct http_buf *b, const json_t *v, unsigned depth)
{
	if (!v || depth > DUMP_MAX_DEPTH)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return dump_object(b, v, depth);
	case JSON_ARRAY:
		return dump_array(b, v, depth);
	case JSON_STRING:
		return dump_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		dump_integer(b, json_integer_value(v));
		return 0;
	case JSON_REAL:
		return dump_real(b, v);
	case JSON_TRUE:
		http_buf_add(b, "true", 4);
		return 0;
	case JSON_FALSE:
		http_buf_add(b, "false", 5);
		return 0;
	case JSON_NULL:
		http_buf_add(b, "null", 4);
		return 0;
	default:
		return -EINVAL;
	}
}

static int dump_top(struct http_buf *b, const json_t *v)
{
	size_t start = b->len;
	int r;

	if (!json_is_object(v) && !json_is_array(v))
		return -EINVAL;	/* JSON_ENCODE_ANY is not asked for */
	r = dump_value(b, v, 0);
	if (!r && b->failed)
		r = -ENOMEM;
	if (r < 0 && !b->failed)
		b->len = start;
	return r;
}

int http_json_append(struct http_buf *b, const json_t *v)
{
	char *text;
	int r = dump_top(b, v);

	if (r != -EINVAL)
		return r;
	text = json_dumps(v, JSON_COMPACT);	/* the cases left to jansson */
	if (!text)
		return -EINVAL;
	http_buf_add(b, text, strlen(text));
	free(text);
	return b->failed ? -ENOMEM : 0;
}
