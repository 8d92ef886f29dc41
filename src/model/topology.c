/* SPDX-License-Identifier: MIT */
/*
 * Topology files. The format is line-oriented and specified in
 * docs/topology.md: a line needs no parser library, gives each error an
 * exact line number, and diffs well. The parser works on (pointer, length)
 * slices of the text, so nothing is copied until a unit is made.
 *
 * A socket line may stand for a range of sockets, and units are added
 * socket by socket, so the unit lines of a block are kept (as slices of the
 * text) until the block ends, then made once per socket of the range.
 */
#include "model/topology.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOPO_FILE_MAX		(16u << 20)
#define TOPO_LINE_MAX		1024u
#define TOPO_COUNT_MAX		4096u
#define TOPO_MODEL_MAX		63u
#define TOPO_SOCKETS_MAX	256u
/* Five times the largest real server (12,544 units); bounds the memory a
 * hostile file can make us allocate. */
#define TOPO_UNITS_MAX		65536u
/* Linux's largest NR_CPUS on x86-64. */
#define TOPO_HOST_CPUS_MAX	8192u
/* The memory block size: hot add and remove work in these. */
#define TOPO_MEMORY_BLOCK	(128ull << 20)
/* Keeps the sum of every module's size (at most TOPO_UNITS_MAX) in 64 bits. */
#define TOPO_MODULE_MAX		(64ull << 40)
/* Longest user text quoted back in an error message. */
#define TOPO_QUOTE_MAX		40

struct span {
	const char *p;
	size_t len;
};

#define SPAN_FMT "%.*s"
#define SPAN_ARG(s) (int)((s).len < TOPO_QUOTE_MAX ? (s).len : TOPO_QUOTE_MAX), (s).p

struct cursor {
	const char *p, *end;
};

enum topo_key {
	KEY_COUNT,
	KEY_MODEL,
	KEY_SIZE,
	KEY_DEVICES,
	KEY_HOST_CPUS,
	KEY_MAX
};

static const char *const key_names[KEY_MAX] = {
	[KEY_COUNT] = "count",
	[KEY_MODEL] = "model",
	[KEY_SIZE] = "size",
	[KEY_DEVICES] = "devices",
	[KEY_HOST_CPUS] = "host-cpus",
};

#define K(k) (1u << (k))
static const unsigned type_keys[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = K(KEY_COUNT) | K(KEY_MODEL) | K(KEY_HOST_CPUS),
	[DHP_UNIT_MEMORY] = K(KEY_COUNT) | K(KEY_MODEL) | K(KEY_SIZE),
	[DHP_UNIT_IO_HOST_BRIDGE] = K(KEY_COUNT) | K(KEY_MODEL) | K(KEY_DEVICES),
};

static const char *const type_keys_text[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "count, model, host-cpus",
	[DHP_UNIT_MEMORY] = "count, model, size",
	[DHP_UNIT_IO_HOST_BRIDGE] = "count, model, devices",
};

/* The type part of a unit id: s<socket>-<prefix><index>. */
static const char *const id_prefix[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "cpu",
	[DHP_UNIT_MEMORY] = "mem",
	[DHP_UNIT_IO_HOST_BRIDGE] = "iohb",
};

/* One unit line of the open socket block. */
struct unit_line {
	unsigned line;
	enum dhp_unit_type type;
	unsigned count;
	struct span model, devices;	/* devices.p is NULL when absent */
	uint64_t size_bytes;
	unsigned host_lo, host_hi;	/* host-cpus, when has_host */
	bool has_host;
};

struct parser {
	const char *name;
	struct dhp_error *err;
	unsigned line;			/* the line being read, from 1 */

	char server_name[DHP_NAME_MAX];
	unsigned server_line, mode_line;	/* 0 until seen */
	enum dhp_partitioning_mode mode;
	struct dhp_server *server;	/* made at the first socket line */

	bool in_block;
	unsigned block_line, first_socket, last_socket;
	struct unit_line *lines;
	size_t n_lines, cap_lines;
	size_t block_units;		/* units per socket of the block */

	unsigned socket_line[TOPO_SOCKETS_MAX];	/* 0 when not defined */
	unsigned char host_used[TOPO_HOST_CPUS_MAX / 8];
	unsigned n_type[DHP_UNIT_TYPE_MAX];
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char what[DHP_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dhp_error_set(ps->err, -EINVAL, "%s:%u: %s", ps->name, line, what);
}

#define fail(ps, ...) fail_at((ps), (ps)->line, __VA_ARGS__)

static bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && !memcmp(s.p, word, s.len);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
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

static bool next_word(struct cursor *c, struct span *ret_word)
{
	if (at_end(c))
		return false;
	ret_word->p = c->p;
	while (c->p < c->end && !is_blank(*c->p))
		c->p++;
	ret_word->len = (size_t)(c->p - ret_word->p);
	return true;
}

/* Decimal digits only: no sign, blank or base prefix as strtoul allows. */
static bool span_uint(struct span s, uint64_t max, uint64_t *ret)
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

/* "N" or "A-B" with A <= B <= max. */
static bool span_range(struct span s, unsigned max, unsigned *ret_lo, unsigned *ret_hi)
{
	const char *dash = memchr(s.p, '-', s.len);
	struct span a = s, b = s;
	uint64_t lo, hi;

	if (dash) {
		a.len = (size_t)(dash - s.p);
		b = (struct span){ dash + 1, s.len - a.len - 1 };
	}
	if (!span_uint(a, max, &lo) || !span_uint(b, max, &hi) || lo > hi)
		return false;
	*ret_lo = (unsigned)lo;
	*ret_hi = (unsigned)hi;
	return true;
}


/* --- the keys of a unit line ------------------------------------------ */

static int set_count(struct parser *ps, struct unit_line *u, struct span v)
{
	uint64_t n;

	if (!span_uint(v, TOPO_COUNT_MAX, &n) || !n)
		return fail(ps, "count \"" SPAN_FMT "\" is not a number from 1 to %u",
			    SPAN_ARG(v), TOPO_COUNT_MAX);
	u->count = (unsigned)n;
	return 0;
}

static int set_model(struct parser *ps, struct unit_line *u, struct span v)
{
	if (!v.len || v.len > TOPO_MODEL_MAX)
		return fail(ps, "model must be 1 to %u characters, not %zu",
			    TOPO_MODEL_MAX, v.len);
	u->model = v;
	return 0;
}

static const struct {
	const char *name;
	unsigned shift;
} size_units[] = {
	{ "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
};

static int set_size(struct parser *ps, struct unit_line *u, struct span v)
{
	struct span digits = { v.p, 0 }, unit;
	uint64_t n;
	size_t i;

	while (digits.len < v.len && v.p[digits.len] >= '0' && v.p[digits.len] <= '9')
		digits.len++;
	unit = (struct span){ v.p + digits.len, v.len - digits.len };
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
		if (span_is(unit, size_units[i].name))
			break;
	if (!digits.len || i == sizeof(size_units) / sizeof(size_units[0]))
		return fail(ps, "size \"" SPAN_FMT "\" is not a number and a unit (B, KiB, MiB, GiB or TiB)",
			    SPAN_ARG(v));
	if (!span_uint(digits, TOPO_MODULE_MAX >> size_units[i].shift, &n))
		return fail(ps, "size \"" SPAN_FMT "\" is over 64 TiB", SPAN_ARG(v));
	n <<= size_units[i].shift;
	if (!n || n % TOPO_MEMORY_BLOCK)
		return fail(ps, "size \"" SPAN_FMT "\" is not a non-zero multiple of 128 MiB (the memory block size)",
			    SPAN_ARG(v));
	u->size_bytes = n;
	return 0;
}

/* Comma-separated names of [a-z0-9-], none empty. */
static int set_devices(struct parser *ps, struct unit_line *u, struct span v)
{
	bool empty = true;

	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];

		if (c == ',') {
			if (empty)
				break;
			empty = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return fail(ps, "devices \"" SPAN_FMT "\": expected comma-separated names of a-z, 0-9 and '-'",
				    SPAN_ARG(v));
		empty = false;
	}
	if (empty)
		return fail(ps, "devices \"" SPAN_FMT "\" has an empty name", SPAN_ARG(v));
	u->devices = v;
	return 0;
}

static int set_host_cpus(struct parser *ps, struct unit_line *u, struct span v)
{
	if (!span_range(v, TOPO_HOST_CPUS_MAX - 1, &u->host_lo, &u->host_hi))
		return fail(ps, "host-cpus \"" SPAN_FMT "\" is not a cpu or a range A-B of cpus 0 to %u",
			    SPAN_ARG(v), TOPO_HOST_CPUS_MAX - 1);
	u->has_host = true;
	return 0;
}

static int (*const key_setters[KEY_MAX])(struct parser *, struct unit_line *, struct span) = {
	[KEY_COUNT] = set_count,
	[KEY_MODEL] = set_model,
	[KEY_SIZE] = set_size,
	[KEY_DEVICES] = set_devices,
	[KEY_HOST_CPUS] = set_host_cpus,
};

static int set_key(struct parser *ps, struct unit_line *u, unsigned *seen,
		   struct span key, struct span val)
{
	unsigned k;

	for (k = 0; k < KEY_MAX; k++)
		if (span_is(key, key_names[k]))
			break;
	if (k == KEY_MAX)
		return fail(ps, "unknown key \"" SPAN_FMT "\" (expected %s)",
			    SPAN_ARG(key), type_keys_text[u->type]);
	if (!(type_keys[u->type] & K(k)))
		return fail(ps, "key \"%s\" does not apply to %s (expected %s)", key_names[k],
			    dhp_unit_type_name(u->type), type_keys_text[u->type]);
	if (*seen & K(k))
		return fail(ps, "duplicate key \"%s\"", key_names[k]);
	*seen |= K(k);
	return key_setters[k](ps, u, val);
}

/* --- scanning key=value ------------------------------------------------ */

static int quoted_value(struct parser *ps, struct cursor *c, struct span key,
			struct span *ret_val)
{
	const char *close = memchr(c->p + 1, '"', (size_t)(c->end - c->p - 1));

	if (!close)
		return fail(ps, "the value of \"" SPAN_FMT "\" has no closing quote",
			    SPAN_ARG(key));
	*ret_val = (struct span){ c->p + 1, (size_t)(close - c->p - 1) };
	c->p = close + 1;
	if (c->p < c->end && !is_blank(*c->p))
		return fail(ps, "trailing garbage after the quoted value of \"" SPAN_FMT "\"",
			    SPAN_ARG(key));
	return 1;
}

static int bare_value(struct parser *ps, struct cursor *c, struct span key,
		      struct span *ret_val)
{
	const char *start = c->p;

	for (; c->p < c->end && !is_blank(*c->p); c->p++)
		if (*c->p == '"')
			return fail(ps, "stray quote in the value of \"" SPAN_FMT "\"",
				    SPAN_ARG(key));
	if (c->p == start)
		return fail(ps, "key \"" SPAN_FMT "\" has no value", SPAN_ARG(key));
	*ret_val = (struct span){ start, (size_t)(c->p - start) };
	return 1;
}

/* 1 when a key=value was read (a quoted value without its quotes), 0 at
 * the end of the line, or an error. */
static int next_key(struct parser *ps, struct cursor *c, struct span *ret_key,
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
		return fail(ps, "expected key=value, found \"" SPAN_FMT "\"", SPAN_ARG(key));
	if (!key.len)
		return fail(ps, "a value without a key");
	*ret_key = key;
	if (++c->p < c->end && *c->p == '"')
		return quoted_value(ps, c, key, ret_val);
	return bare_value(ps, c, key, ret_val);
}

/* --- unit lines and socket blocks -------------------------------------- */

static int check_unit_line(struct parser *ps, const struct unit_line *u, unsigned seen)
{
	if (!(seen & K(KEY_MODEL)))
		return fail(ps, "missing key \"model\"");
	if (u->type == DHP_UNIT_MEMORY && !(seen & K(KEY_SIZE)))
		return fail(ps, "missing key \"size\" (a memory module needs one)");
	if (u->has_host && u->host_hi - u->host_lo + 1 != u->count)
		return fail(ps, "host-cpus names %u cpus but count is %u",
			    u->host_hi - u->host_lo + 1, u->count);
	return 0;
}

static int keep_unit_line(struct parser *ps, const struct unit_line *u)
{
	size_t sockets = ps->last_socket - ps->first_socket + 1;

	if (ps->server->n_units + (ps->block_units + u->count) * sockets > TOPO_UNITS_MAX)
		return fail(ps, "more than %u units in the server", TOPO_UNITS_MAX);
	if (ps->n_lines == ps->cap_lines) {
		size_t cap = ps->cap_lines ? 2 * ps->cap_lines : 16;
		struct unit_line *lines = realloc(ps->lines, cap * sizeof(*lines));

		if (!lines)
			return dhp_error_set(ps->err, -ENOMEM, "%s:%u: out of memory",
					     ps->name, ps->line);
		ps->lines = lines;
		ps->cap_lines = cap;
	}
	ps->lines[ps->n_lines++] = *u;
	ps->block_units += u->count;
	return 0;
}

static int parse_unit_line(struct parser *ps, struct span word, struct cursor *c)
{
	struct unit_line u = { .line = ps->line, .count = 1 };
	char type[16];
	unsigned seen = 0;
	struct span key = { 0 }, val = { 0 };
	int r;

	if (!ps->in_block)
		return fail(ps, "indented line outside a socket block (only unit lines are indented, under a socket line)");
	snprintf(type, sizeof(type), SPAN_FMT, SPAN_ARG(word));
	if (word.len >= sizeof(type) || dhp_unit_type_parse(type, &u.type))
		return fail(ps, "unknown word \"" SPAN_FMT "\" (expected processor, memory or io-host-bridge)",
			    SPAN_ARG(word));
	while ((r = next_key(ps, c, &key, &val)) > 0)
		if ((r = set_key(ps, &u, &seen, key, val)))
			return r;
	if (r)
		return r;
	r = check_unit_line(ps, &u, seen);
	return r ? r : keep_unit_line(ps, &u);
}

/* Claims host cpu i of u's host-cpus for unit id. */
static int claim_host_cpu(struct parser *ps, const struct unit_line *u, int32_t cpu,
			  const char *id)
{
	unsigned char bit = (unsigned char)(1u << (cpu % 8));

	/* Two units on one host cpu would share it across partitions, and a
	 * hot replace between them would move nothing. */
	if (ps->host_used[cpu / 8] & bit)
		return fail_at(ps, u->line, "host cpu %d is mapped twice (again for %s)",
			       (int)cpu, id);
	ps->host_used[cpu / 8] |= bit;
	return 0;
}

static int make_units(struct parser *ps, const struct unit_line *u, unsigned socket,
		      unsigned *next_index)
{
	char model[TOPO_MODEL_MAX + 1], devices[TOPO_LINE_MAX + 1];
	struct dhp_unit tmpl = {
		.type = u->type,
		.socket = (uint16_t)socket,
		.model = model,
		.size_bytes = u->size_bytes,
		.devices = u->devices.p ? devices : NULL,
	};
	int r;

	snprintf(model, sizeof(model), "%.*s", (int)u->model.len, u->model.p);
	snprintf(devices, sizeof(devices), "%.*s", (int)u->devices.len,
		 u->devices.p ? u->devices.p : "");
	for (unsigned i = 0; i < u->count; i++) {
		tmpl.index = (uint16_t)(*next_index)++;
		tmpl.host_cpu = u->has_host ? (int32_t)(u->host_lo + i) : -1;
		snprintf(tmpl.id, sizeof(tmpl.id), "s%u-%s%u", socket,
			 id_prefix[u->type], (unsigned)tmpl.index);
		if (u->has_host && (r = claim_host_cpu(ps, u, tmpl.host_cpu, tmpl.id)))
			return r;
		/* Ids are unique by construction: only -ENOMEM is left. */
		if ((r = dhp_server_add_unit(ps->server, &tmpl, NULL)))
			return dhp_error_set(ps->err, r, "%s:%u: cannot add unit %s: %s",
					     ps->name, u->line, tmpl.id, strerror(-r));
	}
	ps->n_type[u->type] += u->count;
	return 0;
}

/* Makes the block's units, socket by socket, lines in order. */
static int end_block(struct parser *ps)
{
	int r;

	if (!ps->in_block)
		return 0;
	ps->in_block = false;
	if (!ps->n_lines)
		return fail_at(ps, ps->block_line,
			       "socket has no unit lines (indent processor, memory and io-host-bridge lines under it)");
	for (unsigned s = ps->first_socket; s <= ps->last_socket; s++) {
		unsigned next_index[DHP_UNIT_TYPE_MAX] = { 0 };

		for (size_t i = 0; i < ps->n_lines; i++) {
			r = make_units(ps, &ps->lines[i], s, &next_index[ps->lines[i].type]);
			if (r)
				return r;
		}
	}
	ps->n_lines = 0;
	ps->block_units = 0;
	return 0;
}

/* --- server, mode and socket lines ------------------------------------- */

static int no_more_words(struct parser *ps, struct cursor *c, const char *after)
{
	struct span extra;

	if (next_word(c, &extra))
		return fail(ps, "trailing garbage \"" SPAN_FMT "\" after %s",
			    SPAN_ARG(extra), after);
	return 0;
}

/* Both must come before the first socket, which needs them: a second one
 * is the only way to place one after a socket. */
static int check_once(struct parser *ps, const char *what, unsigned first_line)
{
	if (first_line)
		return fail(ps, "second \"%s\" line (the first is line %u)", what, first_line);
	return 0;
}

static int parse_server_line(struct parser *ps, struct cursor *c)
{
	struct span name;
	int r = check_once(ps, "server", ps->server_line);

	if (r)
		return r;
	if (!next_word(c, &name))
		return fail(ps, "\"server\" needs a name");
	snprintf(ps->server_name, sizeof(ps->server_name), SPAN_FMT, SPAN_ARG(name));
	if (name.len >= DHP_NAME_MAX || dhp_partition_name_check(ps->server_name))
		return fail(ps, "bad server name \"" SPAN_FMT "\" (1 to 63 of A-Z a-z 0-9 . _ -, starting with a letter or digit)",
			    SPAN_ARG(name));
	ps->server_line = ps->line;
	return no_more_words(ps, c, "the server name");
}

static int parse_mode_line(struct parser *ps, struct cursor *c)
{
	struct span word;
	char mode[16];
	int r = check_once(ps, "mode", ps->mode_line);

	if (r)
		return r;
	if (!next_word(c, &word))
		return fail(ps, "\"mode\" needs a value: static or dynamic");
	snprintf(mode, sizeof(mode), SPAN_FMT, SPAN_ARG(word));
	if (word.len >= sizeof(mode) || dhp_mode_parse(mode, &ps->mode))
		return fail(ps, "unknown mode \"" SPAN_FMT "\" (expected static or dynamic)",
			    SPAN_ARG(word));
	ps->mode_line = ps->line;
	return no_more_words(ps, c, "the mode");
}

/* The server is made here, once its name and mode are known. */
static int make_server(struct parser *ps)
{
	if (ps->server)
		return 0;
	if (!ps->server_line || !ps->mode_line)
		return fail(ps, "socket before the \"%s\" line (server and mode come first)",
			    ps->server_line ? "mode" : "server");
	ps->server = dhp_server_new(ps->server_name, ps->mode);
	if (!ps->server)
		return dhp_error_set(ps->err, -ENOMEM, "%s:%u: out of memory", ps->name, ps->line);
	return 0;
}

static int parse_socket_line(struct parser *ps, struct cursor *c)
{
	struct span range;
	unsigned lo, hi;
	int r = make_server(ps);

	if (r)
		return r;
	if (!next_word(c, &range))
		return fail(ps, "\"socket\" needs a number or a range A-B");
	if (!span_range(range, TOPO_SOCKETS_MAX - 1, &lo, &hi))
		return fail(ps, "bad socket \"" SPAN_FMT "\" (a number or a range A-B of 0 to %u)",
			    SPAN_ARG(range), TOPO_SOCKETS_MAX - 1);
	for (unsigned s = lo; s <= hi; s++)
		if (ps->socket_line[s])
			return fail(ps, "socket %u is defined twice (first on line %u)",
				    s, ps->socket_line[s]);
	for (unsigned s = lo; s <= hi; s++)
		ps->socket_line[s] = ps->line;
	ps->in_block = true;
	ps->block_line = ps->line;
	ps->first_socket = lo;
	ps->last_socket = hi;
	return no_more_words(ps, c, "the socket");
}

static int parse_top_line(struct parser *ps, struct span word, struct cursor *c)
{
	enum dhp_unit_type type;
	char w[16];
	int r = end_block(ps);

	if (r)
		return r;
	if (span_is(word, "server"))
		return parse_server_line(ps, c);
	if (span_is(word, "mode"))
		return parse_mode_line(ps, c);
	if (span_is(word, "socket"))
		return parse_socket_line(ps, c);
	snprintf(w, sizeof(w), SPAN_FMT, SPAN_ARG(word));
	if (word.len < sizeof(w) && !dhp_unit_type_parse(w, &type))
		return fail(ps, "\"%s\" line must be indented under a socket line", w);
	return fail(ps, "unknown word \"" SPAN_FMT "\" (expected server, mode or socket)",
		    SPAN_ARG(word));
}

/* --- lines and the whole text ------------------------------------------ */

/* A topology is text: tab is the only control character it may hold. */
static int check_chars(struct parser *ps, const char *p, const char *end)
{
	for (; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!ch)
			return fail(ps, "NUL byte (this is not a text file)");
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(ps, "control character 0x%02x", ch);
	}
	return 0;
}

static int parse_line(struct parser *ps, const char *p, const char *end)
{
	struct cursor c = { p, end };
	struct span word;
	int r;

	if (end > p && end[-1] == '\r')		/* CRLF line ends */
		c.end = --end;
	if ((size_t)(end - p) > TOPO_LINE_MAX)
		return fail(ps, "line is longer than %u characters", TOPO_LINE_MAX);
	if ((r = check_chars(ps, p, end)))
		return r;
	/* Blank and comment lines do not end a socket block. */
	if (!next_word(&c, &word))
		return 0;
	if (is_blank(*p))
		return parse_unit_line(ps, word, &c);
	return parse_top_line(ps, word, &c);
}

static int finish(struct parser *ps)
{
	unsigned last = ps->line ? ps->line : 1;
	int r = end_block(ps);

	if (r)
		return r;
	if (!ps->server_line)
		return fail_at(ps, last, "end of file without a \"server\" line");
	if (!ps->mode_line)
		return fail_at(ps, last, "end of file without a \"mode\" line");
	if (!ps->n_type[DHP_UNIT_PROCESSOR] || !ps->n_type[DHP_UNIT_MEMORY])
		return fail_at(ps, ps->server_line,
			       "server \"%s\" needs at least one processor and one memory module",
			       ps->server_name);
	return 0;
}

static int parse_text(const char *text, size_t len, const char *name,
		      struct dhp_server **ret_server, struct dhp_error *err)
{
	struct parser ps = { .name = name, .err = err };
	const char *p = text, *end = text + len;
	int r = 0;

	while (!r && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		ps.line++;
		r = parse_line(&ps, p, eol);
		p = nl ? nl + 1 : end;
	}
	if (!r)
		r = finish(&ps);
	free(ps.lines);
	if (r) {
		dhp_server_free(ps.server);
		return r;
	}
	*ret_server = ps.server;
	return 0;
}

int dhp_topology_parse(const char *text, const char *name,
		       struct dhp_server **ret_server, struct dhp_error *err)
{
	size_t len;

	if (!name)
		name = "topology";
	if (!text || !ret_server)
		return dhp_error_set(err, -EINVAL, "%s: no topology text", name);
	len = strnlen(text, TOPO_FILE_MAX + 1);
	if (len > TOPO_FILE_MAX)
		return dhp_error_set(err, -EINVAL, "%s: larger than 16 MiB", name);
	return parse_text(text, len, name, ret_server, err);
}

/* --- files -------------------------------------------------------------- */

/* Reads at most TOPO_FILE_MAX + 1 bytes, so that a file over the limit is
 * seen without reading all of it. -EFBIG when over, -errno on error. */
static int read_capped(int fd, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *grown;
	ssize_t n;

	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 64 * 1024;
			if (cap > TOPO_FILE_MAX + 1)
				cap = TOPO_FILE_MAX + 1;
			if (!(grown = realloc(buf, cap))) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		len += (size_t)n;
	} while (n > 0 && len <= TOPO_FILE_MAX);
	if (len > TOPO_FILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static int file_error(struct dhp_error *err, const char *path, int code)
{
	char text[128];

	if (code == -EFBIG)
		return dhp_error_set(err, -EINVAL, "%s: larger than 16 MiB", path);
	return dhp_error_set(err, code, "%s: %s", path,
			     strerror_r(-code, text, sizeof(text)));
}

int dhp_topology_load(const char *path, struct dhp_server **ret_server,
		      struct dhp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	if (!path || !ret_server)
		return dhp_error_set(err, -EINVAL, "no topology path");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_error(err, path, -errno);
	r = read_capped(fd, &text, &len);
	close(fd);
	if (r)
		return file_error(err, path, r);
	r = parse_text(text, len, path, ret_server, err);
	free(text);
	return r;
}
