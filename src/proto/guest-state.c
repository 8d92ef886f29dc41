/* SPDX-License-Identifier: MIT */
/* The guest's state (cpus, memory blocks, PCI functions), in a hello and in
 * the reply to report. */
#include "proto/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "0x1af4": PCI ids travel as the hex strings sysfs shows. */
static json_t *hex(uint32_t value, int digits)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%0*" PRIx32, digits, value);
	return json_string(buf);
}

static int hex_decode(json_t *obj, const char *key, int digits, uint32_t *ret,
		      struct dhp_error *err)
{
	char buf[16], *end;
	size_t len;
	int r;

	r = pj_need(pj_str(obj, "pci", key, buf, sizeof(buf), false, err), "pci", key, err);
	if (r < 0)
		return r;
	len = strlen(buf);
	if (len < 3 || len > (size_t)digits + 2 || buf[0] != '0' || buf[1] != 'x' ||
	    strspn(buf + 2, "0123456789abcdefABCDEF") != len - 2)
		return dhp_error_set(err, -EINVAL, "pci: \"%s\" must be 0x and %d hex digits",
				     key, digits);
	*ret = (uint32_t)strtoul(buf + 2, &end, 16);
	return 0;
}

static json_t *run_encode(const struct dhp_proto_mem_run *run)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	if (!r)
		r = pj_set(o, "index", json_integer((json_int_t)run->index));
	if (!r && run->count != 1)
		r = pj_set(o, "count", json_integer(run->count));
	if (!r)
		r = pj_set(o, "state", json_string(dhp_proto_mem_state_name(run->state)));
	if (!r)
		r = pj_set(o, "removable", json_boolean(run->removable));
	if (!r && run->zone[0])
		r = pj_set(o, "zone", json_string(run->zone));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *pci_encode(const struct dhp_proto_pci *pci)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	if (!r)
		r = pj_set(o, "slot", json_string(pci->slot));
	if (!r)
		r = pj_set(o, "vendor", hex(pci->vendor, 4));
	if (!r)
		r = pj_set(o, "device", hex(pci->device, 4));
	if (!r)
		r = pj_set(o, "class", hex(pci->class, 6));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int proto_state_encode(json_t *obj, const struct dhp_proto_state *state, size_t runs,
		       size_t pci, bool truncated)
{
	json_t *cpus = json_object(), *mem = json_object(), *blocks = json_array();
	json_t *list = json_array();
	int r = cpus && mem && blocks && list ? 0 : -ENOMEM;

	if (!r)
		r = pj_set(cpus, "online", json_string(state->cpus_online));
	if (!r)
		r = pj_set(cpus, "present", json_string(state->cpus_present));
	if (!r)
		r = pj_set(cpus, "possible", json_string(state->cpus_possible));
	if (!r)
		r = pj_set(mem, "block_size", json_integer((json_int_t)state->block_size));
	for (size_t i = 0; !r && i < runs; i++)
		r = json_array_append_new(blocks, run_encode(&state->runs[i])) ? -ENOMEM : 0;
	for (size_t i = 0; !r && i < pci; i++)
		r = json_array_append_new(list, pci_encode(&state->pci[i])) ? -ENOMEM : 0;
	if (!r) {
		r = pj_set(mem, "blocks", blocks);
		blocks = NULL;
	}
	if (!r) {
		r = pj_set(obj, "cpus", cpus);
		cpus = NULL;
	}
	if (!r) {
		r = pj_set(obj, "memory", mem);
		mem = NULL;
	}
	if (!r) {
		r = pj_set(obj, "pci", list);
		list = NULL;
	}
	if (!r && truncated)
		r = pj_set(obj, "truncated", json_true());
	json_decref(cpus);
	json_decref(mem);
	json_decref(blocks);
	json_decref(list);
	return r;
}

static int run_decode(json_t *o, struct dhp_proto_mem_run *run, struct dhp_error *err)
{
	char state[32];
	int64_t n = 1;
	int r;

	if (!json_is_object(o))
		return dhp_error_set(err, -EINVAL, "memory: a block must be an object");
	r = pj_need(pj_int(o, "block", "index", 0, INT64_MAX, &n, err), "block", "index", err);
	if (r < 0)
		return r;
	run->index = (uint64_t)n;
	n = 1;
	if ((r = pj_int(o, "block", "count", 1, UINT32_MAX, &n, err)) < 0)
		return r;
	run->count = (uint32_t)n;
	r = pj_need(pj_str(o, "block", "state", state, sizeof(state), false, err), "block",
		    "state", err);
	if (r < 0)
		return r;
	if (dhp_proto_mem_state_parse(state, &run->state) < 0)
		return dhp_error_set(err, -EINVAL, "block: unknown state \"%s\"", state);
	r = pj_need(pj_bool(o, "block", "removable", &run->removable, err), "block",
		    "removable", err);
	if (r < 0)
		return r;
	r = pj_str(o, "block", "zone", run->zone, sizeof(run->zone), false, err);
	return r < 0 ? r : 0;
}

static int pci_decode(json_t *o, struct dhp_proto_pci *pci, struct dhp_error *err)
{
	uint32_t v;
	int r;

	if (!json_is_object(o))
		return dhp_error_set(err, -EINVAL, "pci: an entry must be an object");
	r = pj_need(pj_str(o, "pci", "slot", pci->slot, sizeof(pci->slot), false, err), "pci",
		    "slot", err);
	if (r < 0)
		return r;
	if (!dhp_proto_slot_valid(pci->slot))
		return dhp_error_set(err, -EINVAL, "pci: \"%s\" is not a PCI address",
				     pci->slot);
	if ((r = hex_decode(o, "vendor", 4, &v, err)) < 0)
		return r;
	pci->vendor = (uint16_t)v;
	if ((r = hex_decode(o, "device", 4, &v, err)) < 0)
		return r;
	pci->device = (uint16_t)v;
	return hex_decode(o, "class", 6, &pci->class, err);
}

static int cpus_decode(json_t *obj, const char *where, struct dhp_proto_state *s,
		       struct dhp_error *err)
{
	json_t *cpus;
	int r = pj_obj(obj, where, "cpus", &cpus, err);

	if (r <= 0)
		return r;
	if ((r = pj_str(cpus, "cpus", "online", s->cpus_online, sizeof(s->cpus_online),
			false, err)) < 0)
		return r;
	if ((r = pj_str(cpus, "cpus", "present", s->cpus_present, sizeof(s->cpus_present),
			false, err)) < 0)
		return r;
	r = pj_str(cpus, "cpus", "possible", s->cpus_possible, sizeof(s->cpus_possible),
		   false, err);
	return r < 0 ? r : 1;
}

/* *present says whether the object had any of cpus, memory, pci. */
int proto_state_decode(json_t *obj, const char *where, struct dhp_proto_state *state,
		       bool *present, struct dhp_error *err)
{
	struct dhp_proto_state *s = state;
	json_t *mem = NULL, *blocks = NULL, *pci = NULL, *v;
	int64_t n;
	size_t i;
	int r, seen;

	memset(s, 0, sizeof(*s));
	if ((seen = cpus_decode(obj, where, s, err)) < 0)
		return seen;
	if ((r = pj_obj(obj, where, "memory", &mem, err)) < 0)
		return r;
	seen |= r;
	if (mem) {
		if ((r = pj_int(mem, "memory", "block_size", 0, INT64_MAX, &n, err)) < 0)
			return r;
		s->block_size = r ? (uint64_t)n : 0;
		if ((r = pj_arr(mem, "memory", "blocks", &blocks, err)) < 0)
			return r;
	}
	if (blocks && json_array_size(blocks) > DHP_PROTO_RUNS_MAX)
		return dhp_error_set(err, -EMSGSIZE, "memory: more than %d blocks entries",
				     DHP_PROTO_RUNS_MAX);
	json_array_foreach(blocks, i, v)
		if ((r = run_decode(v, &s->runs[s->n_runs++], err)) < 0)
			return r;
	if ((r = pj_arr(obj, where, "pci", &pci, err)) < 0)
		return r;
	seen |= r;
	if (pci && json_array_size(pci) > DHP_PROTO_PCI_MAX)
		return dhp_error_set(err, -EMSGSIZE, "pci: more than %d entries",
				     DHP_PROTO_PCI_MAX);
	json_array_foreach(pci, i, v)
		if ((r = pci_decode(v, &s->pci[s->n_pci++], err)) < 0)
			return r;
	if ((r = pj_bool(obj, where, "truncated", &s->truncated, err)) < 0)
		return r;
	*present = seen;
	return 0;
}
