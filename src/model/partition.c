/* SPDX-License-Identifier: MIT */
#include "model/partition.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static const char *const state_names[DHP_PARTITION_STATE_MAX] = {
	[DHP_PARTITION_STOPPED] = "stopped",
	[DHP_PARTITION_STARTING] = "starting",
	[DHP_PARTITION_RUNNING] = "running",
	[DHP_PARTITION_STOPPING] = "stopping",
	[DHP_PARTITION_FAILED] = "failed",
};

const char *dhp_partition_state_name(enum dhp_partition_state state)
{
	return (unsigned)state < DHP_PARTITION_STATE_MAX ? state_names[state] : "?";
}

int dhp_partition_state_parse(const char *name, enum dhp_partition_state *ret_state)
{
	for (unsigned i = 0; i < DHP_PARTITION_STATE_MAX; i++)
		if (name && !strcmp(name, state_names[i])) {
			*ret_state = (enum dhp_partition_state)i;
			return 0;
		}
	return -EINVAL;
}

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
