/* SPDX-License-Identifier: MIT */
/*
 * The simulated hardware's state: a fixed-layout array in a memory-mapped
 * file (or anonymous memory). Every write lands in the page cache at once,
 * so a SIGKILLed manager finds the hardware as it left it.
 */
#ifndef DHP_BACKEND_SIM_HW_H
#define DHP_BACKEND_SIM_HW_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct sim_hw_unit {
	uint32_t partition;	/* attached to; 0 none */
	uint8_t powered;
	uint8_t online;		/* in use by the partition's OS */
	uint8_t pad[2];
};

struct sim_hw_partition {
	uint32_t id;		/* 0: free slot */
	uint8_t running;
	uint8_t os_ready;
	uint8_t pad[2];
};

struct sim_hw {
	void *map;
	size_t map_len;
	struct sim_hw_unit *units;
	size_t n_units;
	struct sim_hw_partition *partitions;
	size_t n_slots;
};

/* path NULL: anonymous memory. digest identifies the topology. */
int sim_hw_open(struct sim_hw *hw, const char *path, size_t n_units, size_t n_slots,
		uint64_t digest, struct dhp_error *err);
void sim_hw_close(struct sim_hw *hw);

/* The slot of partition id; with create, a free slot is taken.
 * NULL when absent (or no slot is free). */
struct sim_hw_partition *sim_hw_partition(struct sim_hw *hw, uint32_t id, int create);

#endif
