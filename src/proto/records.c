/* SPDX-License-Identifier: MIT */
/*
 * Who saw a start note, per unit (records.h): one list, newest first, of
 * heap records, shared by dhp-agent (applications) and libdhp
 * (registrations).
 */
#include "proto/records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dhp_proto_records_init(struct dhp_proto_records *recs, size_t max)
{
	*recs = (struct dhp_proto_records){ .max = max };
}

void dhp_proto_records_release(struct dhp_proto_records *recs)
{
	while (recs->first) {
		struct dhp_proto_record *rec = recs->first;

		recs->first = rec->next;
		free(rec);
	}
	recs->n = 0;
}

bool dhp_proto_unit_same(const struct dhp_proto_unit *a, const struct dhp_proto_unit *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		return a->cpu == b->cpu;
	case DHP_PROTO_UNIT_MEMORY:
		return a->phys_addr == b->phys_addr && a->size == b->size;
	default:
		return !strcasecmp(a->slot, b->slot);
	}
}

enum dhp_proto_note dhp_proto_note_start(enum dhp_proto_note note)
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

void dhp_proto_records_end(struct dhp_proto_records *recs, const struct dhp_proto_unit *unit)
{
	/* unit may be inside a record freed below. */
	const struct dhp_proto_unit key = *unit;
	struct dhp_proto_record **p = &recs->first;

	/* set keeps one record per unit; the walk goes on all the same. */
	while (*p) {
		struct dhp_proto_record *rec = *p;

		if (dhp_proto_unit_same(&rec->unit, &key)) {
			*p = rec->next;
			free(rec);
			recs->n--;
		} else {
			p = &rec->next;
		}
	}
}

/* Forget the oldest: the last, the list being newest first. */
static void drop_oldest(struct dhp_proto_records *recs)
{
	struct dhp_proto_record **p = &recs->first;

	if (!*p)
		return;
	while ((*p)->next)
		p = &(*p)->next;
	free(*p);
	*p = NULL;
	recs->n--;
}

int dhp_proto_records_set(struct dhp_proto_records *recs, enum dhp_proto_note start,
			  const struct dhp_proto_unit *unit, const uint64_t *serials, size_t n)
{
	struct dhp_proto_record *rec = NULL;

	/* Copied before the old record goes: unit or serials may be in it. */
	if (n <= (SIZE_MAX - sizeof(*rec)) / sizeof(rec->serials[0]))
		rec = malloc(sizeof(*rec) + n * sizeof(rec->serials[0]));
	if (!rec) {
		/* No record rather than a stale one. */
		dhp_proto_records_end(recs, unit);
		return -ENOMEM;
	}
	rec->start = start;
	rec->unit = *unit;
	rec->n = n;
	if (n)
		memcpy(rec->serials, serials, n * sizeof(rec->serials[0]));
	/* A new start for the unit replaces whatever was left of an old one. */
	dhp_proto_records_end(recs, &rec->unit);
	rec->next = recs->first;
	recs->first = rec;
	if (++recs->n > recs->max)
		drop_oldest(recs);
	return 0;
}

const struct dhp_proto_record *dhp_proto_records_find(const struct dhp_proto_records *recs,
						      enum dhp_proto_note note,
						      const struct dhp_proto_unit *unit)
{
	for (const struct dhp_proto_record *rec = recs->first; rec; rec = rec->next) {
		if (!dhp_proto_unit_same(&rec->unit, unit))
			continue;
		/* A record of another family's start does not say who saw
		 * this one's: as if there were none. */
		return rec->start == dhp_proto_note_start(note) ? rec : NULL;
	}
	return NULL;
}

bool dhp_proto_serials_has(const uint64_t *list, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (list[mid] == v)
			return true;
		if (list[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
