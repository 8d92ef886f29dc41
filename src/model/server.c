/* SPDX-License-Identifier: MIT */
#include "model/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "common/strindex.h"

static const char *const mode_names[DHP_MODE_MAX] = {
	[DHP_MODE_STATIC] = "static",
	[DHP_MODE_DYNAMIC] = "dynamic",
};

struct dhp_server *dhp_server_new(const char *name, enum dhp_partitioning_mode mode)
{
	struct dhp_server *server = calloc(1, sizeof(*server));

	if (!server)
		return NULL;
	snprintf(server->name, sizeof(server->name), "%s", name);
	server->mode = mode;
	return server;
}

void dhp_server_free(struct dhp_server *server)
{
	if (!server)
		return;
	for (size_t i = 0; i < server->n_partitions; i++)
		free(server->partitions[i]);
	for (size_t i = 0; i < server->n_strings; i++)
		free(server->strings[i]);
	free(server->partitions);
	free(server->strings);
	free(server->units);
	free(server->distances);
	dhp_strindex_release(&server->unit_index);
	dhp_strindex_release(&server->string_index);
	free(server);
}

unsigned dhp_server_distance(const struct dhp_server *server, unsigned a, unsigned b)
{
	if (a >= server->n_sockets || b >= server->n_sockets)
		return DHP_DISTANCE_REMOTE;
	if (server->distances)
		return server->distances[(size_t)a * server->n_sockets + b];
	return a == b ? DHP_DISTANCE_LOCAL : DHP_DISTANCE_REMOTE;
}

static const char *unit_key(const void *ctx, uint32_t pos)
{
	return ((const struct dhp_server *)ctx)->units[pos].id;
}

static const char *string_key(const void *ctx, uint32_t pos)
{
	return ((const struct dhp_server *)ctx)->strings[pos];
}

struct dhp_unit *dhp_server_unit(struct dhp_server *server, const char *id)
{
	uint32_t pos = dhp_strindex_find(&server->unit_index, id, unit_key, server);

	return pos == DHP_STRINDEX_NONE ? NULL : &server->units[pos];
}

/* Models, device lists, part numbers and serials, kept once each: a topology may name a new
 * model on every line, so the lookup is hashed, not linear. */
static const char *intern(struct dhp_server *server, const char *s)
{
	uint32_t pos = dhp_strindex_find(&server->string_index, s, string_key, server);
	char **strings;

	if (!s || pos != DHP_STRINDEX_NONE)
		return s ? server->strings[pos] : NULL;
	strings = realloc(server->strings, (server->n_strings + 1) * sizeof(*strings));
	if (!strings)
		return NULL;
	server->strings = strings;
	strings[server->n_strings] = strdup(s);
	if (!strings[server->n_strings])
		return NULL;
	if (dhp_strindex_add(&server->string_index, (uint32_t)server->n_strings, string_key,
			     server)) {
		free(strings[server->n_strings]);
		return NULL;
	}
	return strings[server->n_strings++];
}

int dhp_server_add_unit(struct dhp_server *server, const struct dhp_unit *tmpl,
			struct dhp_error *err)
{
	struct dhp_unit *unit;

	if (dhp_server_unit(server, tmpl->id))
		return dhp_error_set(err, -EEXIST, "unit \"%s\" is defined twice", tmpl->id);
	if (server->n_units == server->cap_units) {
		size_t cap = server->cap_units ? 2 * server->cap_units : 64;
		struct dhp_unit *units = realloc(server->units, cap * sizeof(*units));

		if (!units)
			return dhp_error_set(err, -ENOMEM, "out of memory");
		server->units = units;
		server->cap_units = cap;
	}
	unit = &server->units[server->n_units];
	*unit = (struct dhp_unit){
		.type = tmpl->type,
		.socket = tmpl->socket,
		.index = tmpl->index,
		.model = intern(server, tmpl->model ? tmpl->model : ""),
		.size_bytes = tmpl->size_bytes,
		.devices = intern(server, tmpl->devices),
		.host_cpu = tmpl->host_cpu,
		.serial = intern(server, tmpl->serial),
		.part_number = intern(server, tmpl->part_number),
		.health = DHP_HEALTH_OK,
	};
	if (!unit->model || (tmpl->devices && !unit->devices) ||
	    (tmpl->serial && !unit->serial) || (tmpl->part_number && !unit->part_number))
		return dhp_error_set(err, -ENOMEM, "out of memory");
	snprintf(unit->id, sizeof(unit->id), "%s", tmpl->id);
	if (dhp_strindex_add(&server->unit_index, (uint32_t)server->n_units, unit_key, server))
		return dhp_error_set(err, -ENOMEM, "out of memory");
	server->n_units++;
	if (unit->socket + 1u > server->n_sockets)
		server->n_sockets = unit->socket + 1u;
	return 0;
}

uint64_t dhp_server_digest(const struct dhp_server *server)
{
	uint64_t hash = dhp_fnv1a(DHP_FNV_OFFSET, server->name, strlen(server->name));

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];

		hash = dhp_fnv1a(hash, u->id, strlen(u->id) + 1);
		hash = dhp_fnv1a(hash, &u->type, sizeof(u->type));
		hash = dhp_fnv1a(hash, u->model, strlen(u->model) + 1);
		hash = dhp_fnv1a(hash, &u->size_bytes, sizeof(u->size_bytes));
	}
	return hash;
}

struct dhp_partition *dhp_server_add_partition(struct dhp_server *server, uint32_t id,
					       const char *name,
					       const struct dhp_os_profile *profile)
{
	struct dhp_partition *p;

	if (server->n_partitions == server->cap_partitions) {
		size_t cap = server->cap_partitions ? 2 * server->cap_partitions : 16;
		struct dhp_partition **v = realloc(server->partitions, cap * sizeof(*v));

		if (!v)
			return NULL;
		server->partitions = v;
		server->cap_partitions = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->id = id;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->profile = profile;
	p->state = DHP_PARTITION_STOPPED;
	server->partitions[server->n_partitions++] = p;
	return p;
}

void dhp_server_remove_partition(struct dhp_server *server, uint32_t id)
{
	for (size_t i = 0; i < server->n_partitions; i++)
		if (server->partitions[i]->id == id) {
			free(server->partitions[i]);
			/* Keep creation order: listings show it. */
			memmove(&server->partitions[i], &server->partitions[i + 1],
				(server->n_partitions - i - 1) * sizeof(server->partitions[0]));
			server->n_partitions--;
			return;
		}
}

struct dhp_partition *dhp_server_partition(struct dhp_server *server, uint32_t id)
{
	for (size_t i = 0; i < server->n_partitions; i++)
		if (server->partitions[i]->id == id)
			return server->partitions[i];
	return NULL;
}

struct dhp_partition *dhp_server_partition_by_name(struct dhp_server *server,
						   const char *name)
{
	for (size_t i = 0; i < server->n_partitions; i++)
		if (name && !strcmp(server->partitions[i]->name, name))
			return server->partitions[i];
	return NULL;
}

unsigned dhp_server_count_units(const struct dhp_server *server, uint32_t partition,
				enum dhp_unit_type type)
{
	unsigned n = 0;

	for (size_t i = 0; i < server->n_units; i++)
		if (server->units[i].partition == partition &&
		    (type == DHP_UNIT_TYPE_MAX || server->units[i].type == type))
			n++;
	return n;
}

DHP_NAMES_DEFINE(dhp_mode, enum dhp_partitioning_mode, mode_names, DHP_MODE_MAX)
