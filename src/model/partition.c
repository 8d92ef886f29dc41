/* SPDX-License-Identifier: MIT */
#include "model/partition.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/names.h"

static const char *const state_names[DHP_PARTITION_STATE_MAX] = {
	[DHP_PARTITION_STOPPED] = "stopped",
	[DHP_PARTITION_STARTING] = "starting",
	[DHP_PARTITION_RUNNING] = "running",
	[DHP_PARTITION_STOPPING] = "stopping",
	[DHP_PARTITION_FAILED] = "failed",
};

int dhp_partition_name_check(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (len == 0 || len >= DHP_NAME_MAX || !isalnum((unsigned char)name[0]))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	return 0;
}

DHP_NAMES_DEFINE(dhp_partition_state, enum dhp_partition_state, state_names, DHP_PARTITION_STATE_MAX)
