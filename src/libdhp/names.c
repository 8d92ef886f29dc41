/* SPDX-License-Identifier: MIT */
/* The names of the public enums: one table each (STYLE.md 6). */
#include "libdhp/internal.h"

#include "common/names.h"

static const char *const phase_names[DHP_PHASE_MAX] = {
	[DHP_PHASE_ADD_START] = "add-start",
	[DHP_PHASE_ADD_COMPLETE] = "add-complete",
	[DHP_PHASE_ADD_FAILURE] = "add-failure",
	[DHP_PHASE_REMOVE_QUERY] = "remove-query",
	[DHP_PHASE_REMOVE_COMPLETE] = "remove-complete",
	[DHP_PHASE_REMOVE_FAILURE] = "remove-failure",
	[DHP_PHASE_REPLACE_START] = "replace-start",
	[DHP_PHASE_REPLACE_COMPLETE] = "replace-complete",
	[DHP_PHASE_REPLACE_FAILURE] = "replace-failure",
};

static const char *const transport_names[DHP_TRANSPORT_MAX] = {
	[DHP_TRANSPORT_NONE] = "none",
	[DHP_TRANSPORT_AGENT] = "agent",
	[DHP_TRANSPORT_UEVENT] = "uevent",
};

const char *dhp_phase_name(uint32_t phase)
{
	return dhp_name_of(phase_names, DHP_PHASE_MAX, phase);
}

int dhp_phase_vetoable(uint32_t phase)
{
	return phase == DHP_PHASE_ADD_START || phase == DHP_PHASE_REMOVE_QUERY;
}

const char *dhp_kind_name(uint32_t kind)
{
	switch (kind) {
	case DHP_KIND_PROCESSOR:
		return "processor";
	case DHP_KIND_MEMORY:
		return "memory";
	case DHP_KIND_IO:
		return "io";
	default:
		return "?";
	}
}

const char *dhp_transport_name(uint32_t transport)
{
	return dhp_name_of(transport_names, DHP_TRANSPORT_MAX, transport);
}
