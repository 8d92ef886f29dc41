/* SPDX-License-Identifier: MIT */
#include "model/unit.h"

#include <errno.h>
#include <string.h>

#include "common/names.h"

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

bool dhp_unit_held(const struct dhp_unit *unit, uint64_t now_ms, uint64_t mine)
{
	return unit->reserved_by && unit->reserved_by != mine && now_ms < unit->reserved_until;
}

DHP_NAMES_DEFINE(dhp_unit_type, enum dhp_unit_type, unit_type_names, DHP_UNIT_TYPE_MAX)

DHP_NAMES_DEFINE(dhp_health, enum dhp_health, health_names, DHP_HEALTH_MAX)
