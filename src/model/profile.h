/* SPDX-License-Identifier: MIT */
/*
 * OS profiles: what a partition's operating system can do online.
 * One data table (profile.c) holds every profile; the seed's capability
 * table is its Windows rows, and `linux` is what dhp-agent does.
 */
#ifndef DHP_MODEL_PROFILE_H
#define DHP_MODEL_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/unit.h"

enum dhp_online_action {
	DHP_ONLINE_ADD,
	DHP_ONLINE_REMOVE,
	DHP_ONLINE_REPLACE,
	DHP_ONLINE_ACTION_MAX
};

/* One bit per (action, unit type). */
#define DHP_CAP(action, type) (1u << ((action) * DHP_UNIT_TYPE_MAX + (type)))

struct dhp_os_profile {
	const char *name;
	const char *description;
	uint32_t caps;
};

const char *dhp_online_action_name(enum dhp_online_action action);

/* NULL when no profile has that name. */
const struct dhp_os_profile *dhp_profile_find(const char *name);

/* All profiles, for listings; *ret_count is set to their number. */
const struct dhp_os_profile *dhp_profiles(unsigned *ret_count);

bool dhp_profile_can(const struct dhp_os_profile *profile,
		     enum dhp_online_action action, enum dhp_unit_type type);

#endif
