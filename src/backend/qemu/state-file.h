/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend's small persistent state, STATE_DIR/qemu/state: what
 * QEMU itself cannot tell after a restart of dhpd. A memory-mapped file,
 * like the sim backend's hardware file: it survives a crash of dhpd (not
 * a power loss, and nothing running does either).
 *
 * Per unit: its (simulated) power, the partition it is wired to, whether
 * the guest uses it, and where it sits in that partition's QEMU (the vCPU
 * slot of a processor, the root port of an I/O host bridge, the guest
 * physical address of a memory module). Per partition: its QEMU process
 * and the state of each vCPU slot (free, used, parked), with the logical
 * CPU number the guest gave it.
 */
#ifndef DHP_BACKEND_QEMU_STATE_FILE_H
#define DHP_BACKEND_QEMU_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* vCPU slots of one QEMU: q35 without x2APIC (TCG has none in QEMU 7.2). */
#define QS_SLOTS_MAX 255
/* Running partitions the file has room for. */
#define QS_PARTITIONS_MAX 256

enum qs_slot_state {
	QS_SLOT_FREE,		/* never used, or its vCPU was really unplugged */
	QS_SLOT_USED,		/* a processor of the partition */
	QS_SLOT_PARKED,		/* offline and fenced: never onlined, never reused */
};

struct qs_unit {
	uint32_t partition;	/* wired to; 0: none */
	uint8_t powered;
	uint8_t online;		/* the guest uses it */
	uint8_t boot;		/* boot memory (-m) or boot processor (vCPU 0) */
	uint8_t pad;
	int16_t slot;		/* processor: its vCPU slot, -1 */
	int16_t port;		/* I/O host bridge: its root port, -1 */
	/* The guest's names of the unit, set while it is wired and kept after
	 * it leaves: the notices that follow a detach or a move
	 * (remove-complete, replace-complete) name it as the guest knew it. */
	int32_t guest_cpu;	/* processor: the guest's number, -1 unknown */
	uint64_t phys_addr;	/* memory: the DIMM's guest address (0: boot) */
};

struct qs_partition {
	uint32_t id;		/* 0: a free record */
	uint8_t running;	/* QEMU started and not stopped (it may have died) */
	uint8_t pad[3];
	int32_t pid;
	uint32_t maxcpus;
	uint64_t start_time;	/* of pid, from /proc: tells a reused pid */
	uint8_t slot_state[QS_SLOTS_MAX + 1];	/* enum qs_slot_state */
	int16_t guest_cpu[QS_SLOTS_MAX + 1];	/* the guest's number, -1 unknown */
	int32_t slot_unit[QS_SLOTS_MAX + 1];	/* unit index (parked: last), -1 */
};

struct qs {
	void *map;
	size_t map_len;
	struct qs_unit *units;
	size_t n_units;
	struct qs_partition *partitions;
	size_t n_partitions;
};

/* Open (create) the file at path for n_units units; -ESTALE when it was
 * made for another topology (digest). */
int qs_open(struct qs *s, const char *path, size_t n_units, uint64_t digest,
	    struct dhp_error *err);
void qs_close(struct qs *s);

/* The record of partition id; with create, a fresh one if there is none
 * (NULL when the file is full). */
struct qs_partition *qs_partition(struct qs *s, uint32_t id, bool create);
/* Forget a partition: its record and every unit's wiring to it. */
void qs_partition_clear(struct qs *s, uint32_t id);

/* A unit leaves its partition (detached, not in use, nowhere in QEMU). */
void qs_unit_unwire(struct qs_unit *u);

/* How many slots of p are in state st. */
unsigned qs_slots_in(const struct qs_partition *p, enum qs_slot_state st);

#endif
