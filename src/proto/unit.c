/* SPDX-License-Identifier: MIT */
/* The unit object, shared by requests and events. */
#include "proto/internal.h"

#include <errno.h>
#include <string.h>

/* Linux's NR_CPUS tops out at 8192 on x86; leave room above it. */
#define CPU_MAX 65535

json_t *proto_unit_encode(const struct dhp_proto_unit *unit)
{
	json_t *obj = json_object();
	int r = obj ? 0 : -ENOMEM;

	if (!r)
		r = pj_set(obj, "kind", json_string(dhp_proto_unit_kind_name(unit->kind)));
	switch (unit->kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		if (!r)
			r = pj_set(obj, "cpu", json_integer(unit->cpu));
		break;
	case DHP_PROTO_UNIT_MEMORY:
		if (!r)
			r = pj_set(obj, "phys_addr", json_integer((json_int_t)unit->phys_addr));
		if (!r)
			r = pj_set(obj, "size", json_integer((json_int_t)unit->size));
		break;
	case DHP_PROTO_UNIT_IO_HOST_BRIDGE:
		if (!r && unit->slot[0])
			r = pj_set(obj, "slot", json_string(unit->slot));
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int proto_unit_decode(json_t *obj, struct dhp_proto_unit *ret_unit, struct dhp_error *err)
{
	struct dhp_proto_unit unit = { 0 };
	char kind[32];
	int64_t n;
	int r;

	r = pj_need(pj_str(obj, "unit", "kind", kind, sizeof(kind), false, err), "unit",
		    "kind", err);
	if (r < 0)
		return r;
	if (dhp_proto_unit_kind_parse(kind, &unit.kind) < 0)
		return dhp_error_set(err, -EINVAL, "unit: unknown kind \"%s\"", kind);

	switch (unit.kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		r = pj_need(pj_int(obj, "unit", "cpu", 0, CPU_MAX, &n, err), "unit", "cpu", err);
		if (r < 0)
			return r;
		unit.cpu = (uint32_t)n;
		break;
	case DHP_PROTO_UNIT_MEMORY:
		r = pj_need(pj_int(obj, "unit", "phys_addr", 0, INT64_MAX, &n, err), "unit",
			    "phys_addr", err);
		if (r < 0)
			return r;
		unit.phys_addr = (uint64_t)n;
		r = pj_need(pj_int(obj, "unit", "size", 1, INT64_MAX, &n, err), "unit",
			    "size", err);
		if (r < 0)
			return r;
		unit.size = (uint64_t)n;
		break;
	default:
		r = pj_str(obj, "unit", "slot", unit.slot, sizeof(unit.slot), false, err);
		if (r < 0)
			return r;
		/* The agent builds a sysfs path of it: only an address will do. */
		if (r && !dhp_proto_slot_valid(unit.slot))
			return dhp_error_set(err, -EINVAL,
					     "unit: slot \"%s\" is not a PCI address (DDDD:BB:DD.F)",
					     unit.slot);
		break;
	}
	*ret_unit = unit;
	return 0;
}
