/* SPDX-License-Identifier: MIT */
#ifndef DHP_MODEL_PARTITION_H
#define DHP_MODEL_PARTITION_H

#include <stdint.h>

#include "common/uuid.h"
#include "model/profile.h"

enum dhp_partition_state {
	DHP_PARTITION_STOPPED,
	DHP_PARTITION_STARTING,
	DHP_PARTITION_RUNNING,
	DHP_PARTITION_STOPPING,
	DHP_PARTITION_FAILED,
	DHP_PARTITION_STATE_MAX
};

#define DHP_NAME_MAX 64

struct dhp_partition {
	uint32_t id;				/* >= 1, never reused */
	char name[DHP_NAME_MAX];
	/* Made when the partition is created and kept by the store: a name
	 * is used again after a delete, the UUID never (Redfish's UUID, the
	 * guest's SMBIOS system UUID). */
	char uuid[DHP_UUID_LEN];
	const struct dhp_os_profile *profile;
	enum dhp_partition_state state;
	uint64_t busy_op;			/* runtime: operation in progress */
	bool os_ready;				/* runtime: its OS takes part online */
};

const char *dhp_partition_state_name(enum dhp_partition_state state);
int dhp_partition_state_parse(const char *name, enum dhp_partition_state *ret_state);

/* A partition name: 1..63 of [A-Za-z0-9._-], starting with a letter or
 * digit. Returns 0 or -EINVAL. */
int dhp_partition_name_check(const char *name);

#endif
