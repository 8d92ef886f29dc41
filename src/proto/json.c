/* SPDX-License-Identifier: MIT */
/* Loading, checking and writing protocol lines with jansson (internal.h). */
#include "proto/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than limit? Walks at most limit levels, so a hostile line costs
 * no more than its size. */
static bool too_deep(json_t *v, unsigned limit)
{
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (!limit)
		return true;
	if (json_is_object(v)) {
		json_object_foreach(v, key, child)
			if (too_deep(child, limit - 1))
				return true;
	} else {
		json_array_foreach(v, i, child)
			if (too_deep(child, limit - 1))
				return true;
	}
	return false;
}

int pj_load(const char *line, size_t len, json_t **ret_root, struct dhp_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len && line[len - 1] == '\r')
		len--;
	/* The cap counts the newline, which is not in line. */
	if (len > DHP_PROTO_LINE_MAX - 1)
		return dhp_error_set(err, -EMSGSIZE, "line of %zu bytes is longer than %d",
				     len + 1, DHP_PROTO_LINE_MAX);
	/* jansson would stop at a NUL with a puzzling "end of file expected". */
	if (memchr(line, '\0', len))
		return dhp_error_set(err, -EINVAL, "line contains a NUL byte at offset %zu",
				     (size_t)((const char *)memchr(line, '\0', len) - line));
	/* Duplicate keys would let two peers read one line differently. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return dhp_error_set(err, -EINVAL, "not JSON: %s at column %d", jerr.text,
				     jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return dhp_error_set(err, -EINVAL, "a line must be a JSON object");
	}
	if (too_deep(root, DHP_PROTO_DEPTH_MAX)) {
		json_decref(root);
		return dhp_error_set(err, -EINVAL, "nested deeper than %d levels",
				     DHP_PROTO_DEPTH_MAX);
	}
	*ret_root = root;
	return 0;
}

/* obj[key], or NULL when absent or null. */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

static int wrong(const char *where, const char *key, const char *what, struct dhp_error *err)
{
	return dhp_error_set(err, -EINVAL, "%s: \"%s\" must be %s", where, key, what);
}

int pj_int(json_t *obj, const char *where, const char *key, int64_t min, int64_t max,
	   int64_t *ret, struct dhp_error *err)
{
	json_t *v = member(obj, key);
	json_int_t n;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return wrong(where, key, "an integer", err);
	n = json_integer_value(v);
	if (n < min || n > max)
		return dhp_error_set(err, -EINVAL, "%s: \"%s\" is %lld, outside %lld..%lld",
				     where, key, (long long)n, (long long)min, (long long)max);
	*ret = n;
	return 1;
}

int pj_bool(json_t *obj, const char *where, const char *key, bool *ret,
	    struct dhp_error *err)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return wrong(where, key, "true or false", err);
	*ret = json_is_true(v);
	return 1;
}

int pj_str(json_t *obj, const char *where, const char *key, char *buf, size_t size,
	   bool cut, struct dhp_error *err)
{
	json_t *v = member(obj, key);
	size_t len;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return wrong(where, key, "a string", err);
	len = json_string_length(v);
	if (len >= size && !cut)
		return dhp_error_set(err, -EMSGSIZE, "%s: \"%s\" is longer than %zu bytes",
				     where, key, size - 1);
	if (len >= size) {
		len = size - 1;
		/* Cut before a whole character, never inside one: the
		 * string must stay valid UTF-8 to be sent on. */
		while (len > 0 && ((unsigned char)json_string_value(v)[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(buf, json_string_value(v), len);
	buf[len] = '\0';
	return 1;
}

int pj_obj(json_t *obj, const char *where, const char *key, json_t **ret,
	   struct dhp_error *err)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_object(v))
		return wrong(where, key, "an object", err);
	*ret = v;
	return 1;
}

int pj_arr(json_t *obj, const char *where, const char *key, json_t **ret,
	   struct dhp_error *err)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_array(v))
		return wrong(where, key, "an array", err);
	*ret = v;
	return 1;
}

int pj_need(int r, const char *where, const char *key, struct dhp_error *err)
{
	if (r)
		return r;
	return dhp_error_set(err, -EINVAL, "%s: \"%s\" is missing", where, key);
}

int pj_set(json_t *obj, const char *key, json_t *value)
{
	/* _new steals value, even on failure. */
	return value && !json_object_set_new(obj, key, value) ? 0 : -ENOMEM;
}

int pj_dump(json_t *root, char *buf, size_t size, size_t *ret_len,
	    struct dhp_error *err)
{
	size_t cap = size < DHP_PROTO_LINE_MAX + 1 ? size : DHP_PROTO_LINE_MAX + 1;
	size_t n;

	/* Room for the newline and the NUL after the text. */
	if (cap < 3)
		return dhp_error_set(err, -EMSGSIZE, "no room for a line");
	n = json_dumpb(root, buf, cap - 2, JSON_COMPACT);
	if (!n)
		return dhp_error_set(err, -ENOMEM, "cannot write JSON");
	if (n > cap - 2)
		return dhp_error_set(err, -EMSGSIZE, "message of %zu bytes does not fit in %zu",
				     n + 1, cap - 1);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*ret_len = n + 1;
	return 0;
}

/* The length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
		 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (n == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
	    (n == 4 && s[0] == 0xF0 && s[1] < 0x90) || (n == 4 && s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return n;
}

json_t *pj_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy;
	size_t i, n;

	if (v)
		return v;
	copy = strdup(s);	/* json_string failed: invalid UTF-8 */
	if (!copy)
		return NULL;
	for (i = 0; copy[i]; i += n) {
		n = utf8_seq((const unsigned char *)copy + i);
		if (!n) {
			copy[i] = '?';
			n = 1;
		}
	}
	v = json_string(copy);
	free(copy);
	return v;
}
