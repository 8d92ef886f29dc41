/* SPDX-License-Identifier: MIT */
/*
 * Partition units: the smallest assignable pieces of a server.
 * See docs/glossary.md for the words and DESIGN.md §1.
 */
#ifndef DHP_MODEL_UNIT_H
#define DHP_MODEL_UNIT_H

#include <stdbool.h>
#include <stdint.h>

enum dhp_unit_type {
	DHP_UNIT_PROCESSOR,
	DHP_UNIT_MEMORY,
	DHP_UNIT_IO_HOST_BRIDGE,
	DHP_UNIT_TYPE_MAX
};

enum dhp_health {
	DHP_HEALTH_OK,
	DHP_HEALTH_DEGRADED,
	DHP_HEALTH_FAILED,
	DHP_HEALTH_MAX
};

#define DHP_UNIT_ID_MAX 24
/* Partition ids start at 1; 0 means "no partition". */
#define DHP_NO_PARTITION 0u

struct dhp_unit {
	/* Fixed by the topology file. */
	char id[DHP_UNIT_ID_MAX];	/* "s1-cpu3", "s0-mem2", "s2-iohb0" */
	enum dhp_unit_type type;
	uint16_t socket;
	uint16_t index;			/* within its socket and type */
	const char *model;		/* owned by the server's string pool */
	uint64_t size_bytes;		/* memory modules; 0 otherwise */
	const char *devices;		/* io-host-bridge: "virtio-net,virtio-blk" */
	int32_t host_cpu;		/* processor mapped to a host CPU, or -1 */
	/* What the topology says of the hardware, for people and inventory
	 * tools (Redfish's SerialNumber, PartNumber); NULL when it says
	 * nothing. Owned by the server's string pool; not part of the
	 * digest, so adding them keeps a state directory. */
	const char *serial;		/* unique in the server */
	const char *part_number;

	/* Persisted state: the store holds it, the engine changes it. */
	bool powered;
	enum dhp_health health;
	uint32_t partition;		/* owner, DHP_NO_PARTITION when free */
	bool boot;			/* the boot memory of its running partition */
	uint32_t staged_partition;	/* joins this partition at its next restart */
	bool staged_remove;		/* leaves its partition at its next restart */
	/* In the spare pool (issue 11): held back from composition and
	 * resizes, taken first by hot replaces. Set by the operator. */
	bool spare;

	/* Runtime only. */
	uint64_t busy_op;		/* operation holding the unit, 0 if none */
	/* Held by a composition reservation (docs/redfish.md, "Compose"):
	 * refused to every request but one naming it, until reserved_until
	 * (the engine's loop clock, ms). Not persisted: a restart drops it. */
	uint64_t reserved_by;		/* reservation id, 0 if none */
	uint64_t reserved_until;
};

const char *dhp_unit_type_name(enum dhp_unit_type type);
/* -EINVAL when name is unknown. */
int dhp_unit_type_parse(const char *name, enum dhp_unit_type *ret_type);
const char *dhp_health_name(enum dhp_health health);
int dhp_health_parse(const char *name, enum dhp_health *ret_health);

/* Fit for hot replace: same type, model and capacity. */
bool dhp_unit_identical(const struct dhp_unit *a, const struct dhp_unit *b);

/* Free: no owner, not staged for anyone, not held by an operation. */
bool dhp_unit_is_free(const struct dhp_unit *unit);

/* Held at now_ms by a reservation other than mine (0: none of mine). */
bool dhp_unit_held(const struct dhp_unit *unit, uint64_t now_ms, uint64_t mine);

#endif
