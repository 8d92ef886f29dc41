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
