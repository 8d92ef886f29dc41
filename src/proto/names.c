/* SPDX-License-Identifier: MIT */
/* The protocol's names on the wire: one table per enum. */
#include "proto/proto.h"

#include <ctype.h>
#include <string.h>

#include "common/names.h"

static const char *const type_names[DHP_PROTO_TYPE_MAX] = {
	[DHP_PROTO_HELLO] = "hello",
	[DHP_PROTO_REQUEST] = "request",
	[DHP_PROTO_REPLY] = "reply",
	[DHP_PROTO_EVENT] = "event",
};

static const char *const op_names[DHP_PROTO_OP_MAX] = {
	[DHP_PROTO_OP_NOTIFY] = "notify",
	[DHP_PROTO_OP_ONLINE] = "online",
	[DHP_PROTO_OP_OFFLINE] = "offline",
	[DHP_PROTO_OP_REPORT] = "report",
	[DHP_PROTO_OP_PING] = "ping",
	[DHP_PROTO_OP_HELLO] = "hello",
};

/* The same words as core/backend.c: dhpd passes them through unchanged. */
static const char *const note_names[DHP_PROTO_NOTE_MAX] = {
	[DHP_PROTO_NOTE_ADD_START] = "add-start",
	[DHP_PROTO_NOTE_ADD_COMPLETE] = "add-complete",
	[DHP_PROTO_NOTE_ADD_FAILURE] = "add-failure",
	[DHP_PROTO_NOTE_REMOVE_QUERY] = "remove-query",
	[DHP_PROTO_NOTE_REMOVE_COMPLETE] = "remove-complete",
	[DHP_PROTO_NOTE_REMOVE_FAILURE] = "remove-failure",
	[DHP_PROTO_NOTE_REPLACE_START] = "replace-start",
	[DHP_PROTO_NOTE_REPLACE_COMPLETE] = "replace-complete",
	[DHP_PROTO_NOTE_REPLACE_FAILURE] = "replace-failure",
};

static const char *const result_names[DHP_PROTO_RESULT_MAX] = {
	[DHP_PROTO_APPROVE] = "approve",
	[DHP_PROTO_DENY] = "deny",
	[DHP_PROTO_OK] = "ok",
	[DHP_PROTO_ERROR] = "error",
};

/* The same words as model/unit.c. */
static const char *const unit_kind_names[DHP_PROTO_UNIT_KIND_MAX] = {
	[DHP_PROTO_UNIT_PROCESSOR] = "processor",
	[DHP_PROTO_UNIT_MEMORY] = "memory",
	[DHP_PROTO_UNIT_IO_HOST_BRIDGE] = "io-host-bridge",
};

/* The kernel's uevent actions, plus our own error. */
static const char *const event_kind_names[DHP_PROTO_EVENT_KIND_MAX] = {
	[DHP_PROTO_EVENT_ADD] = "add",
	[DHP_PROTO_EVENT_REMOVE] = "remove",
	[DHP_PROTO_EVENT_ONLINE] = "online",
	[DHP_PROTO_EVENT_OFFLINE] = "offline",
	[DHP_PROTO_EVENT_ERROR] = "error",
};

/* The words of /sys/devices/system/memory/memoryN/state. */
static const char *const mem_state_names[DHP_PROTO_MEM_STATE_MAX] = {
	[DHP_PROTO_MEM_ONLINE] = "online",
	[DHP_PROTO_MEM_OFFLINE] = "offline",
	[DHP_PROTO_MEM_GOING_OFFLINE] = "going-offline",
};

/* Indexed by bit number. */
static const char *const cap_names[DHP_PROTO_CAP_COUNT] = {
	"online-cpu", "offline-cpu", "online-memory", "offline-memory",
	"pci-rescan", "pci-remove", "uevents", "veto",
};

DHP_NAMES_DEFINE(dhp_proto_type, enum dhp_proto_type, type_names, DHP_PROTO_TYPE_MAX)
DHP_NAMES_DEFINE(dhp_proto_op, enum dhp_proto_op, op_names, DHP_PROTO_OP_MAX)
DHP_NAMES_DEFINE(dhp_proto_note, enum dhp_proto_note, note_names, DHP_PROTO_NOTE_MAX)
DHP_NAMES_DEFINE(dhp_proto_result, enum dhp_proto_result, result_names, DHP_PROTO_RESULT_MAX)
DHP_NAMES_DEFINE(dhp_proto_unit_kind, enum dhp_proto_unit_kind, unit_kind_names,
		 DHP_PROTO_UNIT_KIND_MAX)
DHP_NAMES_DEFINE(dhp_proto_event_kind, enum dhp_proto_event_kind, event_kind_names,
		 DHP_PROTO_EVENT_KIND_MAX)
DHP_NAMES_DEFINE(dhp_proto_mem_state, enum dhp_proto_mem_state, mem_state_names,
		 DHP_PROTO_MEM_STATE_MAX)

bool dhp_proto_note_vetoable(enum dhp_proto_note note)
{
	return note == DHP_PROTO_NOTE_ADD_START || note == DHP_PROTO_NOTE_REMOVE_QUERY;
}

const char *dhp_proto_cap_name(unsigned cap)
{
	for (unsigned i = 0; i < DHP_PROTO_CAP_COUNT; i++)
		if (cap == 1u << i)
			return cap_names[i];
	return "?";
}

unsigned dhp_proto_cap_parse(const char *name)
{
	int i = dhp_name_index(cap_names, DHP_PROTO_CAP_COUNT, name);

	return i < 0 ? 0 : 1u << i;
}

/* Exactly "DDDD:BB:DD.F" in hex: nothing else may reach a sysfs path. */
bool dhp_proto_slot_valid(const char *slot)
{
	static const char form[] = "xxxx:xx:xx.x";

	if (!slot || strlen(slot) != sizeof(form) - 1)
		return false;
	for (size_t i = 0; form[i]; i++) {
		if (form[i] == 'x' ? !isxdigit((unsigned char)slot[i]) : slot[i] != form[i])
			return false;
	}
	return true;
}
