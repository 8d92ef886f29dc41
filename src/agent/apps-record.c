/* SPDX-License-Identifier: MIT */
/*
 * Which applications saw a start note, per unit: a failure note later
 * undoes the start for those, and only those (docs/agent-protocol.md,
 * Failures later). A complete or failure note ends the record. dhpd may
 * die between a start and its end, so the records are capped: past
 * RECORDS_MAX the oldest is forgotten, and a failure for it then goes to
 * every application, which is the safe side.
 */
#include "agent/agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS_MAX 256

struct agent_record {
	struct agent_record *next;
	enum dhp_proto_note start;
	struct dhp_proto_unit unit;	/* the key: kind + cpu, phys_addr or slot */
	size_t n;
	uint64_t serials[];		/* in registration order */
};

enum dhp_proto_note record_start_of(enum dhp_proto_note note)
{
	switch (note) {
	case DHP_PROTO_NOTE_ADD_START:
	case DHP_PROTO_NOTE_ADD_COMPLETE:
	case DHP_PROTO_NOTE_ADD_FAILURE:
		return DHP_PROTO_NOTE_ADD_START;
	case DHP_PROTO_NOTE_REMOVE_QUERY:
	case DHP_PROTO_NOTE_REMOVE_COMPLETE:
	case DHP_PROTO_NOTE_REMOVE_FAILURE:
		return DHP_PROTO_NOTE_REMOVE_QUERY;
	default:
		return DHP_PROTO_NOTE_REPLACE_START;
	}
}

static bool same_unit(const struct dhp_proto_unit *x, const struct dhp_proto_unit *y)
{
	if (x->kind != y->kind)
		return false;
	switch (x->kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		return x->cpu == y->cpu;
	case DHP_PROTO_UNIT_MEMORY:
		return x->phys_addr == y->phys_addr;
	default:
		return !strcmp(x->slot, y->slot);
	}
}

void record_end(struct agent_apps *apps, const struct dhp_proto_unit *unit)
{
	for (struct agent_record **p = &apps->records; *p; p = &(*p)->next) {
		struct agent_record *rec = *p;

		if (same_unit(&rec->unit, unit)) {
			*p = rec->next;
			free(rec);
			apps->n_records--;
			return;
		}
	}
}

/* Forget the oldest (the last: the list is newest first). */
static void record_drop_oldest(struct agent_apps *apps)
{
	struct agent_record **p = &apps->records;

	if (!*p)
		return;
	while ((*p)->next)
		p = &(*p)->next;
	free(*p);
	*p = NULL;
	apps->n_records--;
}

int record_set(struct agent_apps *apps, enum dhp_proto_note start,
	       const struct dhp_proto_unit *unit, const uint64_t *serials, size_t n)
{
	struct agent_record *rec;

	/* A new start for the unit replaces whatever was left of an old one. */
	record_end(apps, unit);
	rec = malloc(sizeof(*rec) + n * sizeof(rec->serials[0]));
	if (!rec)
		return -ENOMEM;
	rec->start = start;
	rec->unit = *unit;
	rec->n = n;
	if (n)
		memcpy(rec->serials, serials, n * sizeof(rec->serials[0]));
	rec->next = apps->records;
	apps->records = rec;
	if (++apps->n_records > RECORDS_MAX)
		record_drop_oldest(apps);
	return 0;
}

bool record_get(const struct agent_apps *apps, enum dhp_proto_note note,
		const struct dhp_proto_unit *unit, const uint64_t **ret_serials,
		size_t *ret_n)
{
	for (const struct agent_record *rec = apps->records; rec; rec = rec->next) {
		if (!same_unit(&rec->unit, unit))
			continue;
		/* A record of another phase's start does not say who saw this
		 * one's: as if there were none. */
		if (rec->start != record_start_of(note))
			return false;
		*ret_serials = rec->serials;
		*ret_n = rec->n;
		return true;
	}
	return false;
}

void record_free_all(struct agent_apps *apps)
{
	while (apps->records) {
		struct agent_record *rec = apps->records;

		apps->records = rec->next;
		free(rec);
	}
	apps->n_records = 0;
}
