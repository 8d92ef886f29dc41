/* SPDX-License-Identifier: MIT */
/*
 * Events: an append-only, numbered record of what happened. The store
 * assigns the numbers; they never repeat, so a client resumes from the
 * last one it saw.
 */
#ifndef DHP_MODEL_EVENT_H
#define DHP_MODEL_EVENT_H

#include <stdint.h>

#include "model/partition.h"
#include "model/unit.h"

enum dhp_event_kind {
	DHP_EVENT_OP_STATE,		/* an operation changed state */
	DHP_EVENT_OP_PHASE,		/* a phase began, ended, was undone */
	DHP_EVENT_NOTIFY,		/* the partition's OS was told */
	DHP_EVENT_PARTITION,		/* a partition changed state */
	DHP_EVENT_UNIT,			/* a unit changed power or health */
	DHP_EVENT_RECOVERY,		/* start-up recovery decided something */
	DHP_EVENT_KIND_MAX
};

#define DHP_EVENT_TEXT_MAX 200

struct dhp_event {
	uint64_t seq;			/* set by the store */
	uint64_t time_ms;		/* wall clock */
	enum dhp_event_kind kind;
	uint64_t op;			/* 0 when not about an operation */
	uint32_t partition;		/* 0 when not about a partition */
	char unit[DHP_UNIT_ID_MAX];	/* "" when not about a unit */
	char text[DHP_EVENT_TEXT_MAX];	/* "phase attach: done", ... */
};

const char *dhp_event_kind_name(enum dhp_event_kind kind);
int dhp_event_kind_parse(const char *name, enum dhp_event_kind *ret_kind);

#endif
