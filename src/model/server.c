/* SPDX-License-Identifier: MIT */
#include "model/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_EMPTY UINT32_MAX

static const char *const mode_names[DHP_MODE_MAX] = {
	[DHP_MODE_STATIC] = "static",
	[DHP_MODE_DYNAMIC] = "dynamic",
};

const char *dhp_mode_name(enum dhp_partitioning_mode mode)
{
	return (unsigned)mode < DHP_MODE_MAX ? mode_names[mode] : "?";
}

int dhp_mode_parse(const char *name, enum dhp_partitioning_mode *ret_mode)
{
	for (unsigned i = 0; i < DHP_MODE_MAX; i++)
		if (name && !strcmp(name, mode_names[i])) {
			*ret_mode = (enum dhp_partitioning_mode)i;
			return 0;
		}
	return -EINVAL;
}

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
	free(server->index);
	free(server);
}

/* FNV-1a: small, good enough for ids and digests. */
static uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

#define FNV_OFFSET 0xcbf29ce484222325ull

static size_t index_slot(const struct dhp_server *server, const char *id)
{
	return fnv1a(FNV_OFFSET, id, strlen(id)) & (server->index_cap - 1);
}

static int index_rebuild(struct dhp_server *server, size_t cap)
{
	uint32_t *index = malloc(cap * sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		index[i] = INDEX_EMPTY;
	free(server->index);
	server->index = index;
	server->index_cap = cap;
	for (size_t u = 0; u < server->n_units; u++) {
		size_t slot = index_slot(server, server->units[u].id);

		while (index[slot] != INDEX_EMPTY)
			slot = (slot + 1) & (cap - 1);
		index[slot] = (uint32_t)u;
	}
	return 0;
}

struct dhp_unit *dhp_server_unit(struct dhp_server *server, const char *id)
{
	size_t slot;

	if (!id || !server->index_cap)
		return NULL;
	for (slot = index_slot(server, id); server->index[slot] != INDEX_EMPTY;
	     slot = (slot + 1) & (server->index_cap - 1))
		if (!strcmp(server->units[server->index[slot]].id, id))
			return &server->units[server->index[slot]];
	return NULL;
}

static const char *intern(struct dhp_server *server, const char *s)
{
	char **strings;
	char *copy;

	if (!s)
		return NULL;
	for (size_t i = 0; i < server->n_strings; i++)
		if (!strcmp(server->strings[i], s))
			return server->strings[i];
	strings = realloc(server->strings, (server->n_strings + 1) * sizeof(*strings));
	if (!strings)
		return NULL;
	server->strings = strings;
	copy = strdup(s);
	if (!copy)
		return NULL;
	server->strings[server->n_strings++] = copy;
	return copy;
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
		.health = DHP_HEALTH_OK,
	};
	if (!unit->model || (tmpl->devices && !unit->devices))
		return dhp_error_set(err, -ENOMEM, "out of memory");
	snprintf(unit->id, sizeof(unit->id), "%s", tmpl->id);
	server->n_units++;
	if (2 * server->n_units > server->index_cap) {
		if (index_rebuild(server, server->index_cap ? 2 * server->index_cap : 128)) {
			server->n_units--;
			return dhp_error_set(err, -ENOMEM, "out of memory");
		}
	} else {
		size_t slot = index_slot(server, unit->id);

		while (server->index[slot] != INDEX_EMPTY)
			slot = (slot + 1) & (server->index_cap - 1);
		server->index[slot] = (uint32_t)(server->n_units - 1);
	}
	if (unit->socket + 1u > server->n_sockets)
		server->n_sockets = unit->socket + 1u;
	return 0;
}

uint64_t dhp_server_digest(const struct dhp_server *server)
{
	uint64_t hash = fnv1a(FNV_OFFSET, server->name, strlen(server->name));

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];

		hash = fnv1a(hash, u->id, strlen(u->id) + 1);
		hash = fnv1a(hash, &u->type, sizeof(u->type));
		hash = fnv1a(hash, u->model, strlen(u->model) + 1);
		hash = fnv1a(hash, &u->size_bytes, sizeof(u->size_bytes));
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
