/* SPDX-License-Identifier: MIT */
/*
 * Which registrations saw a start note (add-start, remove-query,
 * replace-start) about a unit, so that the failure note that undoes it
 * goes to those only. dhp runs one operation at a time per partition, so
 * a unit has at most one record: a new start replaces it, a complete or
 * failure note ends it. A record with no registrations means "the failure
 * was told already" (after a veto). At most LIBDHP_RECORDS_MAX are kept
 * (an agent that restarted never ends some): the oldest goes first.
 */
#include "libdhp/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct libdhp_record {
	struct libdhp_record *next;	/* older */
	enum dhp_proto_note start;
	struct dhp_proto_unit unit;
	size_t n;
	uint64_t serials[];		/* ascending: registration order */
};

static bool same_unit(const struct dhp_proto_unit *a, const struct dhp_proto_unit *b)
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

/* Unlink and free the record after prev (or the first when prev is NULL). */
static void unlink_after(struct dhp *dhp, struct libdhp_record *prev, struct libdhp_record *rec)
{
	if (prev)
		prev->next = rec->next;
	else
		dhp->records = rec->next;
	dhp->n_records--;
	free(rec);
}

static void forget_unit(struct dhp *dhp, const struct dhp_proto_unit *unit)
{
	struct libdhp_record *prev = NULL, *rec = dhp->records;

	while (rec) {
		struct libdhp_record *next = rec->next;

		if (same_unit(&rec->unit, unit))
			unlink_after(dhp, prev, rec);
		else
			prev = rec;
		rec = next;
	}
}

int libdhp_record_set(struct dhp *dhp, enum dhp_proto_note start,
		      const struct dhp_proto_unit *unit, const uint64_t *serials, size_t n)
{
	struct libdhp_record *rec;

	forget_unit(dhp, unit);
	rec = malloc(sizeof(*rec) + n * sizeof(rec->serials[0]));
	if (!rec)
		return -ENOMEM;
	rec->start = start;
	rec->unit = *unit;
	rec->n = n;
	if (n)
		memcpy(rec->serials, serials, n * sizeof(serials[0]));
	rec->next = dhp->records;
	dhp->records = rec;
	dhp->n_records++;
	if (dhp->n_records > LIBDHP_RECORDS_MAX) {
		struct libdhp_record *prev = dhp->records;

		while (prev->next && prev->next->next)
			prev = prev->next;
		unlink_after(dhp, prev, prev->next);
	}
	return 0;
}

struct libdhp_record *libdhp_record_find(struct dhp *dhp, enum dhp_proto_note start,
					 const struct dhp_proto_unit *unit)
{
	for (struct libdhp_record *rec = dhp->records; rec; rec = rec->next)
		if (rec->start == start && same_unit(&rec->unit, unit))
			return rec;
	return NULL;
}

bool libdhp_in_sorted(const uint64_t *list, size_t n, uint64_t v)
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

bool libdhp_record_has(const struct libdhp_record *rec, uint64_t serial)
{
	return libdhp_in_sorted(rec->serials, rec->n, serial);
}

void libdhp_record_drop(struct dhp *dhp, struct libdhp_record *rec)
{
	struct libdhp_record *prev = NULL;

	for (struct libdhp_record *r = dhp->records; r; prev = r, r = r->next)
		if (r == rec) {
			unlink_after(dhp, prev, r);
			return;
		}
}

void libdhp_records_free(struct dhp *dhp)
{
	while (dhp->records)
		unlink_after(dhp, NULL, dhp->records);
}
