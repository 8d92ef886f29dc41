/* SPDX-License-Identifier: MIT */
#include "model/profile.h"

#include <string.h>

#define ADD(t)     DHP_CAP(DHP_ONLINE_ADD, DHP_UNIT_##t)
#define REMOVE(t)  DHP_CAP(DHP_ONLINE_REMOVE, DHP_UNIT_##t)
#define REPLACE(t) DHP_CAP(DHP_ONLINE_REPLACE, DHP_UNIT_##t)

/*
 * The seed's table (Windows Server dynamic hardware partitioning support):
 *
 *                       2003 SP1   2008 x86   2008 x64 / Itanium
 *   hot add processor      -          -             yes
 *   hot add memory        yes        yes            yes
 *   hot add I/O bridge     -          -             yes
 *   hot replace processor  -          -             yes
 *   hot replace memory     -          -             yes
 *   hot remove (any)       -          -              -
 *
 * linux: the cloud kernel with dhp-agent hot adds and removes all three
 * types and hot replaces processors and memory modules (an I/O host bridge
 * has no state to move, so it is replaced by remove + add).
 */
static const struct dhp_os_profile profiles[] = {
	{
		.name = "linux",
		.description = "Linux with dhp-agent",
		.caps = ADD(PROCESSOR) | ADD(MEMORY) | ADD(IO_HOST_BRIDGE) |
			REMOVE(PROCESSOR) | REMOVE(MEMORY) | REMOVE(IO_HOST_BRIDGE) |
			REPLACE(PROCESSOR) | REPLACE(MEMORY),
	},
	{
		.name = "windows-server-2003-sp1",
		.description = "Windows Server 2003 SP1",
		.caps = ADD(MEMORY),
	},
	{
		.name = "windows-server-2008-x86",
		.description = "Windows Server 2008 for x86",
		.caps = ADD(MEMORY),
	},
	{
		.name = "windows-server-2008-x64",
		.description = "Windows Server 2008 for x64 and Itanium",
		.caps = ADD(PROCESSOR) | ADD(MEMORY) | ADD(IO_HOST_BRIDGE) |
			REPLACE(PROCESSOR) | REPLACE(MEMORY),
	},
};

static const char *const action_names[DHP_ONLINE_ACTION_MAX] = {
	[DHP_ONLINE_ADD] = "hot add",
	[DHP_ONLINE_REMOVE] = "hot remove",
	[DHP_ONLINE_REPLACE] = "hot replace",
};

const char *dhp_online_action_name(enum dhp_online_action action)
{
	return (unsigned)action < DHP_ONLINE_ACTION_MAX ? action_names[action] : "?";
}

const struct dhp_os_profile *dhp_profile_find(const char *name)
{
	for (unsigned i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (name && !strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

const struct dhp_os_profile *dhp_profiles(unsigned *ret_count)
{
	*ret_count = sizeof(profiles) / sizeof(profiles[0]);
	return profiles;
}

bool dhp_profile_can(const struct dhp_os_profile *profile,
		     enum dhp_online_action action, enum dhp_unit_type type)
{
	return profile && (unsigned)action < DHP_ONLINE_ACTION_MAX &&
	       (unsigned)type < DHP_UNIT_TYPE_MAX &&
	       (profile->caps & DHP_CAP(action, type));
}
