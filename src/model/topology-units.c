/* SPDX-License-Identifier: MIT */
/*
 * The unit lines of a topology (docs/topology.md): which keys each unit
 * type takes, what their values may be, and the units a line stands for.
 *
 * A socket line may stand for a range of sockets, and units are added
 * socket by socket, so the unit lines of a block are kept (as slices of the
 * text) until the block ends, then made once per socket of the range.
 */
#include "model/topology-internal.h"

#include <stdio.h>
#include <stdlib.h>

enum topo_key {
	KEY_COUNT,
	KEY_MODEL,
	KEY_SIZE,
	KEY_DEVICES,
	KEY_HOST_CPUS,
	KEY_SERIAL,
	KEY_PART_NUMBER,
	KEY_MAX
};

static const char *const key_names[KEY_MAX] = {
	[KEY_COUNT] = "count",
	[KEY_MODEL] = "model",
	[KEY_SIZE] = "size",
	[KEY_DEVICES] = "devices",
	[KEY_HOST_CPUS] = "host-cpus",
	[KEY_SERIAL] = "serial",
	[KEY_PART_NUMBER] = "part-number",
};

#define K(k) (1u << (k))
#define KEYS_ALL (K(KEY_COUNT) | K(KEY_MODEL) | K(KEY_SERIAL) | K(KEY_PART_NUMBER))
static const unsigned type_keys[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = KEYS_ALL | K(KEY_HOST_CPUS),
	[DHP_UNIT_MEMORY] = KEYS_ALL | K(KEY_SIZE),
	[DHP_UNIT_IO_HOST_BRIDGE] = KEYS_ALL | K(KEY_DEVICES),
};

static const char *const type_keys_text[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "count, model, host-cpus, serial, part-number",
	[DHP_UNIT_MEMORY] = "count, model, size, serial, part-number",
	[DHP_UNIT_IO_HOST_BRIDGE] = "count, model, devices, serial, part-number",
};

/* What a serial's {id} stands for: the unit's id. */
#define SERIAL_ID "{id}"

/* The type part of a unit id: s<socket>-<prefix><index>. */
static const char *const id_prefix[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "cpu",
	[DHP_UNIT_MEMORY] = "mem",
	[DHP_UNIT_IO_HOST_BRIDGE] = "iohb",
};

/* --- the keys of a unit line ------------------------------------------ */

static int set_count(struct parser *ps, struct unit_line *u, struct span v)
{
	uint64_t n;

	if (!topo_span_uint(v, TOPO_COUNT_MAX, &n) || !n)
		return topo_fail(ps, "count \"" SPAN_FMT "\" is not a number from 1 to %u",
				 SPAN_ARG(v), TOPO_COUNT_MAX);
	u->count = (unsigned)n;
	return 0;
}

static int set_model(struct parser *ps, struct unit_line *u, struct span v)
{
	if (!v.len || v.len > TOPO_MODEL_MAX)
		return topo_fail(ps, "model must be 1 to %u characters, not %zu",
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
		return topo_fail(ps, "size \"" SPAN_FMT "\" is not a number and a unit (B, KiB, MiB, GiB or TiB)",
				 SPAN_ARG(v));
	if (!topo_span_uint(digits, TOPO_MODULE_MAX >> size_units[i].shift, &n))
		return topo_fail(ps, "size \"" SPAN_FMT "\" is over 64 TiB", SPAN_ARG(v));
	n <<= size_units[i].shift;
	if (!n || n % TOPO_MEMORY_BLOCK)
		return topo_fail(ps, "size \"" SPAN_FMT "\" is not a non-zero multiple of 128 MiB (the memory block size)",
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
			return topo_fail(ps, "devices \"" SPAN_FMT "\": expected comma-separated names of a-z, 0-9 and '-'",
					 SPAN_ARG(v));
		empty = false;
	}
	if (empty)
		return topo_fail(ps, "devices \"" SPAN_FMT "\" has an empty name", SPAN_ARG(v));
	u->devices = v;
	return 0;
}

static int set_host_cpus(struct parser *ps, struct unit_line *u, struct span v)
{
	if (!topo_span_range(v, TOPO_HOST_CPUS_MAX - 1, &u->host_lo, &u->host_hi))
		return topo_fail(ps, "host-cpus \"" SPAN_FMT "\" is not a cpu or a range A-B of cpus 0 to %u",
				 SPAN_ARG(v), TOPO_HOST_CPUS_MAX - 1);
	u->has_host = true;
	return 0;
}

/* Letters, digits and - . _ / : , as on the labels of boards and
 * modules; no spaces, so that listings keep their columns. */
static bool label_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '/' || c == ':';
}

/* 0 when v is 1 to max label characters; else the offset of the first
 * bad character + 1, or -1 for a bad length. skip_id passes {id}s. */
static int label_check(struct span v, size_t max, bool skip_id)
{
	if (!v.len || v.len > max)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (skip_id && v.len - i >= strlen(SERIAL_ID) &&
		    !memcmp(v.p + i, SERIAL_ID, strlen(SERIAL_ID))) {
			i += strlen(SERIAL_ID) - 1;
			continue;
		}
		if (!label_char(v.p[i]))
			return (int)i + 1;
	}
	return 0;
}

static unsigned count_ids(struct span v)
{
	unsigned n = 0;

	for (size_t i = 0; i + strlen(SERIAL_ID) <= v.len; i++)
		n += !memcmp(v.p + i, SERIAL_ID, strlen(SERIAL_ID));
	return n;
}

static int set_serial(struct parser *ps, struct unit_line *u, struct span v)
{
	int bad = label_check(v, TOPO_SERIAL_MAX, true);

	if (bad < 0)
		return topo_fail(ps, "serial must be 1 to %u characters, not %zu",
				 TOPO_SERIAL_MAX, v.len);
	if (bad)
		return topo_fail(ps, "serial \"" SPAN_FMT "\": character %d is not a letter, "
				 "a digit, - . _ / : or part of {id}", SPAN_ARG(v), bad);
	if (count_ids(v) > 1)
		return topo_fail(ps, "serial \"" SPAN_FMT "\" has {id} more than once", SPAN_ARG(v));
	u->serial = v;
	return 0;
}

static int set_part_number(struct parser *ps, struct unit_line *u, struct span v)
{
	int bad = label_check(v, TOPO_PART_MAX, false);

	if (bad < 0)
		return topo_fail(ps, "part-number must be 1 to %u characters, not %zu",
				 TOPO_PART_MAX, v.len);
	if (bad)
		return topo_fail(ps, "part-number \"" SPAN_FMT "\": character %d is not a letter, "
				 "a digit or - . _ / :", SPAN_ARG(v), bad);
	u->part = v;
	return 0;
}

static int (*const key_setters[KEY_MAX])(struct parser *, struct unit_line *, struct span) = {
	[KEY_COUNT] = set_count,
	[KEY_MODEL] = set_model,
	[KEY_SIZE] = set_size,
	[KEY_DEVICES] = set_devices,
	[KEY_HOST_CPUS] = set_host_cpus,
	[KEY_SERIAL] = set_serial,
	[KEY_PART_NUMBER] = set_part_number,
};

static int set_key(struct parser *ps, struct unit_line *u, unsigned *seen,
		   struct span key, struct span val)
{
	unsigned k;

	for (k = 0; k < KEY_MAX; k++)
		if (span_is(key, key_names[k]))
			break;
	if (k == KEY_MAX)
		return topo_fail(ps, "unknown key \"" SPAN_FMT "\" (expected %s)",
				 SPAN_ARG(key), type_keys_text[u->type]);
	if (!(type_keys[u->type] & K(k)))
		return topo_fail(ps, "key \"%s\" does not apply to %s (expected %s)", key_names[k],
				 dhp_unit_type_name(u->type), type_keys_text[u->type]);
	if (*seen & K(k))
		return topo_fail(ps, "duplicate key \"%s\"", key_names[k]);
	*seen |= K(k);
	return key_setters[k](ps, u, val);
}

/* --- unit lines ---------------------------------------------------------- */

static int check_unit_line(struct parser *ps, const struct unit_line *u, unsigned seen)
{
	if (!(seen & K(KEY_MODEL)))
		return topo_fail(ps, "missing key \"model\"");
	if (u->type == DHP_UNIT_MEMORY && !(seen & K(KEY_SIZE)))
		return topo_fail(ps, "missing key \"size\" (a memory module needs one)");
	if (u->has_host && u->host_hi - u->host_lo + 1 != u->count)
		return topo_fail(ps, "host-cpus names %u cpus but count is %u",
				 u->host_hi - u->host_lo + 1, u->count);
	/* A serial names one unit: a line that makes several needs {id}. */
	if (u->serial.p && !count_ids(u->serial) &&
	    (u->count > 1 || ps->first_socket != ps->last_socket))
		return topo_fail(ps, "serial \"" SPAN_FMT "\" would be the same for the %zu units "
				 "of this line (put {id} in it: the unit's id)", SPAN_ARG(u->serial),
				 (size_t)u->count * (ps->last_socket - ps->first_socket + 1));
	return 0;
}

static int keep_unit_line(struct parser *ps, const struct unit_line *u)
{
	size_t sockets = ps->last_socket - ps->first_socket + 1;

	if (ps->server->n_units + (ps->block_units + u->count) * sockets > TOPO_UNITS_MAX)
		return topo_fail(ps, "more than %u units in the server", TOPO_UNITS_MAX);
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

int topo_parse_unit_line(struct parser *ps, struct span word, struct cursor *c)
{
	struct unit_line u = { .line = ps->line, .count = 1 };
	char type[16];
	unsigned seen = 0;
	struct span key = { 0 }, val = { 0 };
	int r;

	if (!ps->in_block)
		return topo_fail(ps, "indented line outside a socket block (only unit lines are indented, under a socket line)");
	snprintf(type, sizeof(type), SPAN_FMT, SPAN_ARG(word));
	if (word.len >= sizeof(type) || dhp_unit_type_parse(type, &u.type))
		return topo_fail(ps, "unknown word \"" SPAN_FMT "\" (expected processor, memory or io-host-bridge)",
				 SPAN_ARG(word));
	while ((r = topo_next_key(ps, c, &key, &val)) > 0)
		if ((r = set_key(ps, &u, &seen, key, val)))
			return r;
	if (r)
		return r;
	r = check_unit_line(ps, &u, seen);
	return r ? r : keep_unit_line(ps, &u);
}

/* --- the units of a block ------------------------------------------------ */

/* Claims host cpu i of u's host-cpus for unit id. */
static int claim_host_cpu(struct parser *ps, const struct unit_line *u, int32_t cpu,
			  const char *id)
{
	unsigned char bit = (unsigned char)(1u << (cpu % 8));

	/* Two units on one host cpu would share it across partitions, and a
	 * hot replace between them would move nothing. */
	if (ps->host_used[cpu / 8] & bit)
		return topo_fail_at(ps, u->line, "host cpu %d is mapped twice (again for %s)",
				    (int)cpu, id);
	ps->host_used[cpu / 8] |= bit;
	return 0;
}

static const char *serial_key(const void *ctx, uint32_t pos)
{
	return ((const struct dhp_server *)ctx)->units[pos].serial;
}

/* The serial of unit id from the line's, {id} replaced. */
static void serial_of(const struct span *tmpl, const char *id, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < tmpl->len && n + 1 < size; i++) {
		if (tmpl->len - i >= strlen(SERIAL_ID) &&
		    !memcmp(tmpl->p + i, SERIAL_ID, strlen(SERIAL_ID))) {
			n += (size_t)snprintf(buf + n, size - n, "%s", id);
			n = n < size ? n : size - 1;
			i += strlen(SERIAL_ID) - 1;
			continue;
		}
		buf[n++] = tmpl->p[i];
	}
	buf[n] = '\0';
}

/* Adds the unit, its serial unique in the server. */
static int add_unit(struct parser *ps, const struct unit_line *u, const struct dhp_unit *tmpl)
{
	struct dhp_server *server = ps->server;
	uint32_t pos;
	int r;

	pos = tmpl->serial ? dhp_strindex_find(&ps->serials, tmpl->serial, serial_key, server)
			   : DHP_STRINDEX_NONE;
	if (pos != DHP_STRINDEX_NONE)
		return topo_fail_at(ps, u->line, "serial \"%s\" of %s is %s's already",
				    tmpl->serial, tmpl->id, server->units[pos].id);
	/* Ids are unique by construction: only -ENOMEM is left. */
	r = dhp_server_add_unit(server, tmpl, NULL);
	if (!r && tmpl->serial)
		r = dhp_strindex_add(&ps->serials, (uint32_t)(server->n_units - 1), serial_key,
				     server);
	if (r)
		return dhp_error_set(ps->err, r, "%s:%u: cannot add unit %s: %s",
				     ps->name, u->line, tmpl->id, strerror(-r));
	return 0;
}

static int make_units(struct parser *ps, const struct unit_line *u, unsigned socket,
		      unsigned *next_index)
{
	char model[TOPO_MODEL_MAX + 1], devices[TOPO_LINE_MAX + 1], part[TOPO_PART_MAX + 1];
	char serial[TOPO_SERIAL_MAX + DHP_UNIT_ID_MAX];
	struct dhp_unit tmpl = {
		.type = u->type,
		.socket = (uint16_t)socket,
		.model = model,
		.size_bytes = u->size_bytes,
		.devices = u->devices.p ? devices : NULL,
		.serial = u->serial.p ? serial : NULL,
		.part_number = u->part.p ? part : NULL,
	};
	int r;

	snprintf(model, sizeof(model), "%.*s", (int)u->model.len, u->model.p);
	snprintf(devices, sizeof(devices), "%.*s", (int)u->devices.len,
		 u->devices.p ? u->devices.p : "");
	snprintf(part, sizeof(part), "%.*s", (int)u->part.len, u->part.p ? u->part.p : "");
	for (unsigned i = 0; i < u->count; i++) {
		tmpl.index = (uint16_t)(*next_index)++;
		tmpl.host_cpu = u->has_host ? (int32_t)(u->host_lo + i) : -1;
		snprintf(tmpl.id, sizeof(tmpl.id), "s%u-%s%u", socket,
			 id_prefix[u->type], (unsigned)tmpl.index);
		if (u->has_host && (r = claim_host_cpu(ps, u, tmpl.host_cpu, tmpl.id)))
			return r;
		if (u->serial.p)
			serial_of(&u->serial, tmpl.id, serial, sizeof(serial));
		if ((r = add_unit(ps, u, &tmpl)))
			return r;
	}
	ps->n_type[u->type] += u->count;
	return 0;
}

int topo_end_block(struct parser *ps)
{
	int r;

	if (!ps->in_block)
		return 0;
	ps->in_block = false;
	if (!ps->n_lines)
		return topo_fail_at(ps, ps->block_line,
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

void topo_parser_release(struct parser *ps)
{
	free(ps->lines);
	ps->lines = NULL;
	free(ps->dist);
	ps->dist = NULL;
	dhp_strindex_release(&ps->serials);
}
