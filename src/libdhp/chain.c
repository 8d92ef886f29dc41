/* SPDX-License-Identifier: MIT */
/*
 * Registrations and the chains of callbacks (docs/libdhp.md, Ordering).
 *
 * A notification goes to the registrations of its kind in registration
 * order. At a vetoable phase the first veto stops the chain; those that
 * approved before it are told the failure phase in reverse order, the
 * vetoer is not, and the agent is answered deny with the vetoer's reason.
 * Who saw a start is recorded (proto/records.h), so that a later failure note
 * reaches those only, in reverse order.
 *
 * Registrations live in a list in registration order. One unregistered
 * while a chain runs (from a callback) is marked dead, skipped, and freed
 * once no chain runs (depth 0): a chain never frees what it walks.
 */
#include "libdhp/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The phase of each note: the two enums share their order and words. */
static const uint32_t phase_of[DHP_PROTO_NOTE_MAX] = {
	[DHP_PROTO_NOTE_ADD_START] = DHP_PHASE_ADD_START,
	[DHP_PROTO_NOTE_ADD_COMPLETE] = DHP_PHASE_ADD_COMPLETE,
	[DHP_PROTO_NOTE_ADD_FAILURE] = DHP_PHASE_ADD_FAILURE,
	[DHP_PROTO_NOTE_REMOVE_QUERY] = DHP_PHASE_REMOVE_QUERY,
	[DHP_PROTO_NOTE_REMOVE_COMPLETE] = DHP_PHASE_REMOVE_COMPLETE,
	[DHP_PROTO_NOTE_REMOVE_FAILURE] = DHP_PHASE_REMOVE_FAILURE,
	[DHP_PROTO_NOTE_REPLACE_START] = DHP_PHASE_REPLACE_START,
	[DHP_PROTO_NOTE_REPLACE_COMPLETE] = DHP_PHASE_REPLACE_COMPLETE,
	[DHP_PROTO_NOTE_REPLACE_FAILURE] = DHP_PHASE_REPLACE_FAILURE,
};

enum step { STEP_START, STEP_COMPLETE, STEP_FAILURE };

/* Each family is start, complete, failure, in the notes' order. */
static enum step step_of(enum dhp_proto_note note)
{
	return (enum step)(note % 3);
}

/* Cut s to valid UTF-8 (bad bytes become '?'): the reason goes into JSON,
 * which cannot carry anything else, and a callback may write anything. */
static void utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
			   : (*p & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len > 0;

		for (size_t i = 1; ok && i < len; i++)
			ok = (p[i] & 0xc0) == 0x80;
		/* Overlong forms and surrogates are refused by the JSON side. */
		if (ok && len == 2 && *p < 0xc2)
			ok = false;
		if (ok && len == 3 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0)))
			ok = false;
		if (ok && len == 4 && ((*p == 0xf0 && p[1] < 0x90) || *p > 0xf4 ||
				       (*p == 0xf4 && p[1] >= 0x90)))
			ok = false;
		if (!ok) {
			*p++ = '?';
			continue;
		}
		p += len;
	}
}

int libdhp_call(struct dhp_registration *reg, const struct dhp_change *change,
		char *reason, size_t reason_size)
{
	int r;

	if (reg->dead || !(reg->kinds & change->kind))
		return 0;
	reason[0] = '\0';
	r = reg->fn(change, reason, reason_size, reg->userdata);
	reason[reason_size - 1] = '\0';
	return r < 0 ? r : 0;
}

/* Was reg there when the chain began (serial below limit), alive and of
 * the change's kind? */
static bool takes(const struct dhp_registration *reg, uint64_t limit, uint32_t kind)
{
	return reg->serial < limit && !reg->dead && (reg->kinds & kind);
}

static size_t count_registrations(const struct dhp *dhp)
{
	size_t n = 0;

	for (const struct dhp_registration *reg = dhp->first; reg; reg = reg->next)
		n++;
	return n;
}

static void deny(struct dhp_proto_reply *reply, int code, const char *reason)
{
	reply->result = DHP_PROTO_DENY;
	reply->code = code < 0 && code > -4096 ? code : -EPERM;
	if (reason[0])
		snprintf(reply->reason, sizeof(reply->reason), "%s", reason);
	else
		snprintf(reply->reason, sizeof(reply->reason), "%s",
			 strerrordesc_np(-reply->code) ? strerrordesc_np(-reply->code)
						       : "refused");
	utf8_clean(reply->reason);
}

static void run_start(struct dhp *dhp, enum dhp_proto_note note, const struct dhp_proto_unit *unit,
		      struct dhp_change *change, struct dhp_proto_reply *reply)
{
	bool vetoable = dhp_proto_note_vetoable(note);
	struct dhp_registration *vetoer = NULL;
	uint64_t limit = dhp->next_serial;
	char reason[DHP_REASON_MAX];
	uint64_t *saw;
	size_t n = 0;
	int code = 0;

	/* Without memory for the record the chain still runs; a later failure
	 * then goes to every registration (flagged unmatched). */
	saw = malloc((count_registrations(dhp) + 1) * sizeof(*saw));
	reply->result = vetoable ? DHP_PROTO_APPROVE : DHP_PROTO_OK;
	for (struct dhp_registration *reg = dhp->first; reg; reg = reg->next) {
		if (!takes(reg, limit, change->kind))
			continue;
		code = libdhp_call(reg, change, reason, sizeof(reason));
		if (code < 0 && vetoable) {
			vetoer = reg;
			break;
		}
		if (saw)
			saw[n++] = reg->serial;
	}
	if (vetoer) {
		struct dhp_change failure = *change;
		char ignored[DHP_REASON_MAX];

		failure.phase = phase_of[dhp_proto_note_start(note) + STEP_FAILURE];
		for (struct dhp_registration *reg = vetoer->prev; reg; reg = reg->prev)
			if (reg->serial < limit &&
			    (!saw || dhp_proto_serials_has(saw, n, reg->serial)))
				libdhp_call(reg, &failure, ignored, sizeof(ignored));
		deny(reply, code, reason);
		/* Told already: a failure note for it, should one come, goes
		 * to nobody. */
		n = 0;
	}
	if (saw || vetoer)
		dhp_proto_records_set(&dhp->records, dhp_proto_note_start(note), unit, saw, n);
	else
		/* No record of this start: an older one must not stand for it. */
		dhp_proto_records_end(&dhp->records, unit);
	free(saw);
}

static void run_complete(struct dhp *dhp, enum dhp_proto_note note,
			 const struct dhp_proto_unit *unit, const struct dhp_change *change)
{
	uint64_t limit = dhp->next_serial;
	char reason[DHP_REASON_MAX];

	/* Only a record of this family's start ends (one of another stays). */
	if (dhp_proto_records_find(&dhp->records, note, unit))
		dhp_proto_records_end(&dhp->records, unit);
	for (struct dhp_registration *reg = dhp->first; reg; reg = reg->next)
		if (takes(reg, limit, change->kind))
			libdhp_call(reg, change, reason, sizeof(reason));
}

static void run_failure(struct dhp *dhp, enum dhp_proto_note note,
			const struct dhp_proto_unit *unit, struct dhp_change *change)
{
	const struct dhp_proto_record *rec = dhp_proto_records_find(&dhp->records, note, unit);
	uint64_t limit = dhp->next_serial;
	char reason[DHP_REASON_MAX];

	if (!rec)
		change->flags |= DHP_CHANGE_UNMATCHED;
	for (struct dhp_registration *reg = dhp->last; reg; reg = reg->prev)
		if (takes(reg, limit, change->kind) &&
		    (!rec || dhp_proto_serials_has(rec->serials, rec->n, reg->serial)))
			libdhp_call(reg, change, reason, sizeof(reason));
	/* Callbacks cannot start a chain (dispatch is not reentrant), so the
	 * record is still there. */
	if (rec)
		dhp_proto_records_end(&dhp->records, unit);
}

void libdhp_chain_notify(struct dhp *dhp, enum dhp_proto_note note,
			 const struct dhp_proto_unit *unit, struct dhp_proto_reply *reply)
{
	struct dhp_change change;

	libdhp_change_init(dhp, phase_of[note], unit, 0, &change);
	reply->result = DHP_PROTO_OK;
	dhp->depth++;
	switch (step_of(note)) {
	case STEP_START:
		run_start(dhp, note, unit, &change, reply);
		break;
	case STEP_COMPLETE:
		run_complete(dhp, note, unit, &change);
		break;
	case STEP_FAILURE:
		run_failure(dhp, note, unit, &change);
		break;
	}
	dhp->depth--;
	libdhp_sweep(dhp);
}

void libdhp_chain_tell(struct dhp *dhp, const struct dhp_change *change)
{
	uint64_t limit = dhp->next_serial;
	char reason[DHP_REASON_MAX];

	dhp->depth++;
	for (struct dhp_registration *reg = dhp->first; reg; reg = reg->next)
		if (takes(reg, limit, change->kind))
			libdhp_call(reg, change, reason, sizeof(reason));
	dhp->depth--;
	libdhp_sweep(dhp);
}

static void unlink_registration(struct dhp *dhp, struct dhp_registration *reg)
{
	if (reg->prev)
		reg->prev->next = reg->next;
	else
		dhp->first = reg->next;
	if (reg->next)
		reg->next->prev = reg->prev;
	else
		dhp->last = reg->prev;
	free(reg);
}

void libdhp_sweep(struct dhp *dhp)
{
	struct dhp_registration *reg, *next;

	if (dhp->depth || !dhp->have_dead)
		return;
	for (reg = dhp->first; reg; reg = next) {
		next = reg->next;
		if (reg->dead)
			unlink_registration(dhp, reg);
	}
	dhp->have_dead = false;
}

void libdhp_free_registrations(struct dhp *dhp)
{
	while (dhp->first)
		unlink_registration(dhp, dhp->first);
}

int dhp_register(struct dhp *dhp, uint32_t kinds, uint32_t flags, dhp_change_fn fn,
		 void *userdata, struct dhp_registration **ret)
{
	struct dhp_registration *reg;

	if (!dhp || !fn || !ret || !kinds || (kinds & ~(uint32_t)DHP_KIND_ALL) ||
	    (flags & ~(uint32_t)DHP_REGISTER_ADD_EXISTING))
		return -EINVAL;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->dhp = dhp;
	reg->kinds = kinds;
	reg->fn = fn;
	reg->userdata = userdata;
	libdhp_lock(dhp);
	reg->serial = dhp->next_serial++;
	reg->prev = dhp->last;
	if (dhp->last)
		dhp->last->next = reg;
	else
		dhp->first = reg;
	dhp->last = reg;
	/* Written first: a replayed callback may read it (through userdata)
	 * to unregister itself. */
	*ret = reg;
	if (flags & DHP_REGISTER_ADD_EXISTING) {
		dhp->depth++;
		libdhp_replay(dhp, reg);
		dhp->depth--;
		if (reg->dead)
			*ret = NULL;
		libdhp_sweep(dhp);
	}
	libdhp_unlock(dhp);
	return 0;
}

void dhp_unregister(struct dhp_registration *reg)
{
	struct dhp *dhp;

	if (!reg)
		return;
	dhp = reg->dhp;
	libdhp_lock(dhp);
	reg->dead = true;
	dhp->have_dead = true;
	libdhp_sweep(dhp);
	libdhp_unlock(dhp);
}
