/* SPDX-License-Identifier: MIT */
/*
 * Who saw a start note, per unit: the records that let a failure note go
 * to those that saw the start it undoes, and only to them
 * (docs/agent-protocol.md, Applications, "Failures later"; docs/libdhp.md,
 * Ordering and failures). dhp-agent keeps them per application, libdhp per
 * registration inside one process; both name who saw a note by a serial.
 *
 * A record says: the start note `start` (add-start, remove-query or
 * replace-start) about `unit` was seen by serials[0..n). dhp runs one
 * operation at a time per partition, so a unit has at most one record: a
 * new start replaces it, and the user ends it when the complete or failure
 * note comes. A record with no serials means "the failure was told
 * already" (after a veto). Records are capped, since a peer that restarted
 * between a start and its end never ends some: past the cap the oldest is
 * forgotten, and a failure for its unit then finds no record, which the
 * users take as "tell everyone" (the safe side).
 *
 * Unlike the rest of src/proto this module allocates: each record is one
 * heap block owned by its list, freed when the record is replaced, ended,
 * forgotten for the cap, or by dhp_proto_records_release(). Callers free
 * nothing themselves. Pure code otherwise: no I/O, no logging.
 */
#ifndef DHP_PROTO_RECORDS_H
#define DHP_PROTO_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

struct dhp_proto_record {
	struct dhp_proto_record *next;	/* older */
	enum dhp_proto_note start;	/* as given to set */
	struct dhp_proto_unit unit;	/* the key: dhp_proto_unit_same() */
	size_t n;
	uint64_t serials[];		/* as given to set, in its order */
};

/* A list of records, embedded in its user's struct. Read-only outside
 * records.c. */
struct dhp_proto_records {
	struct dhp_proto_record *first;	/* newest first */
	size_t n;			/* records kept, at most max */
	size_t max;
};

/*
 * Start an empty list that keeps at most max records (max >= 1). A zeroed
 * struct is an empty list too, which release accepts; set needs init.
 */
void dhp_proto_records_init(struct dhp_proto_records *recs, size_t max);

/* Free every record; recs is an empty list afterwards (with its cap). */
void dhp_proto_records_release(struct dhp_proto_records *recs);

/*
 * Remember that serials[0..n) saw the start note start about unit,
 * replacing the unit's record if it has one (of any start). unit and
 * serials are copied (they may even point into the record replaced);
 * serials may be NULL when n is 0. The new record is the newest; when
 * that makes more than max, the oldest is forgotten.
 *
 * Returns 0, or -ENOMEM: then the unit has no record at all (not even the
 * one it had), so that a later failure goes to everyone.
 */
int dhp_proto_records_set(struct dhp_proto_records *recs, enum dhp_proto_note start,
			  const struct dhp_proto_unit *unit, const uint64_t *serials, size_t n);

/*
 * The unit's record, if it is of the start of note's family: note may be
 * any note (add-failure finds the record of an add-start, see
 * dhp_proto_note_start()). NULL when the unit has no record, and when its
 * record is of another family's start: that one does not say who saw this
 * note's start, so it counts as none. Borrowed: valid until the next set,
 * end or release on recs.
 */
const struct dhp_proto_record *dhp_proto_records_find(const struct dhp_proto_records *recs,
						      enum dhp_proto_note note,
						      const struct dhp_proto_unit *unit);

/*
 * Forget the unit's record, of whatever start (a complete or failure note
 * ends it). Nothing happens when there is none. unit may point into the
 * record being freed.
 */
void dhp_proto_records_end(struct dhp_proto_records *recs, const struct dhp_proto_unit *unit);

/*
 * Are a and b the same unit, as records key them? The same kind, and
 * processor: the same cpu; memory: the same phys_addr and size;
 * io-host-bridge: the same slot, letters in either case (a PCI address
 * may be written in uppercase hex, dhp_proto_slot_valid()).
 */
bool dhp_proto_unit_same(const struct dhp_proto_unit *a, const struct dhp_proto_unit *b);

/*
 * The start note of note's family: add-start for add-start, add-complete
 * and add-failure; remove-query for the remove notes; replace-start for
 * the replace notes (and for anything outside the enum).
 */
enum dhp_proto_note dhp_proto_note_start(enum dhp_proto_note note);

/*
 * Is v in list[0..n)? list must be ascending (a binary search): serials
 * given in registration order are, when serials increase with it.
 */
bool dhp_proto_serials_has(const uint64_t *list, size_t n, uint64_t v);

#endif
