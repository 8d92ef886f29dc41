/* SPDX-License-Identifier: MIT */
/*
 * The words of a topology line (docs/topology.md): blank-separated words,
 * key=value pairs with bare or quoted values, decimal numbers and ranges,
 * comments, and the characters a line may not hold. Knows nothing of what
 * the words mean; see topology-internal.h.
 */
#include "model/topology-internal.h"

#include <stdarg.h>
#include <stdio.h>

int topo_fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char what[DHP_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dhp_error_set(ps->err, -EINVAL, "%s:%u: %s", ps->name, line, what);
}

/* Skips blanks; true when nothing but a comment is left. A '#' starts a
 * comment only at the start of a word, so "a#b" is one (bad) word rather
 * than something silently cut short. */
static bool at_end(struct cursor *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
	return c->p == c->end || *c->p == '#';
}

bool topo_next_word(struct cursor *c, struct span *ret_word)
{
	if (at_end(c))
		return false;
	ret_word->p = c->p;
	while (c->p < c->end && !is_blank(*c->p))
		c->p++;
	ret_word->len = (size_t)(c->p - ret_word->p);
	return true;
}

/* No sign, blank or base prefix as strtoul allows. */
bool topo_span_uint(struct span s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s.len)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		if (v > (max - (uint64_t)(s.p[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*ret = v;
	return true;
}

bool topo_span_range(struct span s, unsigned max, unsigned *ret_lo, unsigned *ret_hi)
{
	const char *dash = memchr(s.p, '-', s.len);
	struct span a = s, b = s;
	uint64_t lo, hi;

	if (dash) {
		a.len = (size_t)(dash - s.p);
		b = (struct span){ dash + 1, s.len - a.len - 1 };
	}
	if (!topo_span_uint(a, max, &lo) || !topo_span_uint(b, max, &hi) || lo > hi)
		return false;
	*ret_lo = (unsigned)lo;
	*ret_hi = (unsigned)hi;
	return true;
}

/* --- key=value ----------------------------------------------------------- */

static int quoted_value(struct parser *ps, struct cursor *c, struct span key,
			struct span *ret_val)
{
	const char *close = memchr(c->p + 1, '"', (size_t)(c->end - c->p - 1));

	if (!close)
		return topo_fail(ps, "the value of \"" SPAN_FMT "\" has no closing quote",
				 SPAN_ARG(key));
	*ret_val = (struct span){ c->p + 1, (size_t)(close - c->p - 1) };
	c->p = close + 1;
	if (c->p < c->end && !is_blank(*c->p))
		return topo_fail(ps, "trailing garbage after the quoted value of \"" SPAN_FMT "\"",
				 SPAN_ARG(key));
	return 1;
}

static int bare_value(struct parser *ps, struct cursor *c, struct span key,
		      struct span *ret_val)
{
	const char *start = c->p;

	for (; c->p < c->end && !is_blank(*c->p); c->p++)
		if (*c->p == '"')
			return topo_fail(ps, "stray quote in the value of \"" SPAN_FMT "\"",
					 SPAN_ARG(key));
	if (c->p == start)
		return topo_fail(ps, "key \"" SPAN_FMT "\" has no value", SPAN_ARG(key));
	*ret_val = (struct span){ start, (size_t)(c->p - start) };
	return 1;
}

int topo_next_key(struct parser *ps, struct cursor *c, struct span *ret_key,
		  struct span *ret_val)
{
	struct span key;

	if (at_end(c))
		return 0;
	key.p = c->p;
	while (c->p < c->end && *c->p != '=' && !is_blank(*c->p))
		c->p++;
	key.len = (size_t)(c->p - key.p);
	if (c->p == c->end || *c->p != '=')
		return topo_fail(ps, "expected key=value, found \"" SPAN_FMT "\"", SPAN_ARG(key));
	if (!key.len)
		return topo_fail(ps, "a value without a key");
	*ret_key = key;
	if (++c->p < c->end && *c->p == '"')
		return quoted_value(ps, c, key, ret_val);
	return bare_value(ps, c, key, ret_val);
}

/* --- characters ---------------------------------------------------------- */

/* A topology is text: tab is the only control character it may hold. */
int topo_check_chars(struct parser *ps, const char *p, const char *end)
{
	for (; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!ch)
			return topo_fail(ps, "NUL byte (this is not a text file)");
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return topo_fail(ps, "control character 0x%02x", ch);
	}
	return 0;
}
