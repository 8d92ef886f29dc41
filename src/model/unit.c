/* SPDX-License-Identifier: MIT */
#include "model/unit.h"

#include <errno.h>
#include <string.h>

static const char *const unit_type_names[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "processor",
	[DHP_UNIT_MEMORY] = "memory",
	[DHP_UNIT_IO_HOST_BRIDGE] = "io-host-bridge",
};

static const char *const health_names[DHP_HEALTH_MAX] = {
	[DHP_HEALTH_OK] = "ok",
	[DHP_HEALTH_DEGRADED] = "degraded",
	[DHP_HEALTH_FAILED] = "failed",
};

const char *dhp_unit_type_name(enum dhp_unit_type type)
{
	return (unsigned)type < DHP_UNIT_TYPE_MAX ? unit_type_names[type] : "?";
}

int dhp_unit_type_parse(const char *name, enum dhp_unit_type *ret_type)
{
	for (unsigned i = 0; i < DHP_UNIT_TYPE_MAX; i++)
		if (name && !strcmp(name, unit_type_names[i])) {
			*ret_type = (enum dhp_unit_type)i;
			return 0;
		}
	return -EINVAL;
}

const char *dhp_health_name(enum dhp_health health)
{
	return (unsigned)health < DHP_HEALTH_MAX ? health_names[health] : "?";
}

int dhp_health_parse(const char *name, enum dhp_health *ret_health)
{
	for (unsigned i = 0; i < DHP_HEALTH_MAX; i++)
		if (name && !strcmp(name, health_names[i])) {
			*ret_health = (enum dhp_health)i;
			return 0;
		}
	return -EINVAL;
}

bool dhp_unit_identical(const struct dhp_unit *a, const struct dhp_unit *b)
{
	return a->type == b->type && a->size_bytes == b->size_bytes &&
	       !strcmp(a->model, b->model) &&
	       !strcmp(a->devices ? a->devices : "", b->devices ? b->devices : "");
}

bool dhp_unit_is_free(const struct dhp_unit *unit)
{
	return unit->partition == DHP_NO_PARTITION &&
	       unit->staged_partition == DHP_NO_PARTITION && !unit->busy_op;
}
