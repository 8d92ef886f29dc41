/* SPDX-License-Identifier: MIT */
/*
 * The agent protocol: messages between dhpd and dhp-agent (and later
 * libdhp), as typed structs, and their encoding as one line of JSON each.
 * docs/agent-protocol.md is the specification; this is its C face.
 *
 * Pure code: no I/O, no allocation that outlives a call. Every message fits
 * in a struct of fixed size (lists are capped), so decoding a peer's line
 * allocates nothing the caller must free, and a line longer than
 * DHP_PROTO_LINE_MAX is refused before it is parsed.
 *
 * Errors: 0 or a negative errno, detail in err (may be NULL):
 *   -EINVAL          malformed: not JSON, wrong types, missing keys, NUL
 *                    bytes, nesting deeper than DHP_PROTO_DEPTH_MAX, a
 *                    value out of range, an unknown type or op
 *   -EMSGSIZE        the line (or a list in it) is larger than the caps
 *   -EPROTONOSUPPORT a hello of a higher major version than ours
 */
#ifndef DHP_PROTO_PROTO_H
#define DHP_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The major version: bumped only by an incompatible change. Additions
 * (new keys, new ops, new capabilities) keep it, since peers ignore keys
 * they do not know and answer unknown ops with an error. */
#define DHP_PROTO_VERSION 1

/* A line, its terminating newline included, is at most this long. */
#define DHP_PROTO_LINE_MAX 4096
/* Objects and arrays nest at most this deep (a hello needs 4). */
#define DHP_PROTO_DEPTH_MAX 8

#define DHP_PROTO_TEXT_MAX 256		/* reason strings */
#define DHP_PROTO_NAME_MAX 128		/* agent, kernel, profile */
#define DHP_PROTO_CPULIST_MAX 512	/* "0-3,8-11": one of cpus.* */
#define DHP_PROTO_SLOT_MAX 16		/* "0000:00:1c.0" and its NUL */
#define DHP_PROTO_ZONE_MAX 16		/* "Movable", "Normal", "DMA32" */
#define DHP_PROTO_RUNS_MAX 128		/* memory block runs in a state */
#define DHP_PROTO_PCI_MAX 96		/* PCI functions in a state */

enum dhp_proto_type {
	DHP_PROTO_HELLO,	/* who the peer is and what it can do */
	DHP_PROTO_REQUEST,	/* dhpd -> agent, has an id */
	DHP_PROTO_REPLY,	/* agent -> dhpd, the request's id */
	DHP_PROTO_EVENT,	/* agent -> dhpd, spontaneous */
	DHP_PROTO_TYPE_MAX
};

enum dhp_proto_op {
	DHP_PROTO_OP_NOTIFY,	/* tell the OS (and its applications) a phase */
	DHP_PROTO_OP_ONLINE,	/* bring a unit online */
	DHP_PROTO_OP_OFFLINE,	/* take a unit offline */
	DHP_PROTO_OP_REPORT,	/* answer with the current state */
	DHP_PROTO_OP_PING,	/* answer ok */
	DHP_PROTO_OP_HELLO,	/* send the hello line again, then answer ok */
	DHP_PROTO_OP_MAX
};

/* The notifications of DESIGN.md §3, named as core/backend.h names them. */
enum dhp_proto_note {
	DHP_PROTO_NOTE_ADD_START,	/* vetoable */
	DHP_PROTO_NOTE_ADD_COMPLETE,
	DHP_PROTO_NOTE_ADD_FAILURE,
	DHP_PROTO_NOTE_REMOVE_QUERY,	/* vetoable */
	DHP_PROTO_NOTE_REMOVE_COMPLETE,
	DHP_PROTO_NOTE_REMOVE_FAILURE,
	DHP_PROTO_NOTE_REPLACE_START,
	DHP_PROTO_NOTE_REPLACE_COMPLETE,
	DHP_PROTO_NOTE_REPLACE_FAILURE,
	DHP_PROTO_NOTE_MAX
};

enum dhp_proto_result {
	DHP_PROTO_APPROVE,	/* a vetoable notification is accepted */
	DHP_PROTO_DENY,		/* ... or vetoed (reason says by whom) */
	DHP_PROTO_OK,
	DHP_PROTO_ERROR,	/* reason and errno say why */
	DHP_PROTO_RESULT_MAX
};

enum dhp_proto_unit_kind {
	DHP_PROTO_UNIT_PROCESSOR,
	DHP_PROTO_UNIT_MEMORY,
	DHP_PROTO_UNIT_IO_HOST_BRIDGE,
	DHP_PROTO_UNIT_KIND_MAX
};

enum dhp_proto_event_kind {
	DHP_PROTO_EVENT_ADD,		/* the kernel saw a unit (uevent) */
	DHP_PROTO_EVENT_REMOVE,
	DHP_PROTO_EVENT_ONLINE,
	DHP_PROTO_EVENT_OFFLINE,
	DHP_PROTO_EVENT_ERROR,		/* a line that could not be answered */
	DHP_PROTO_EVENT_KIND_MAX
};

enum dhp_proto_mem_state {
	DHP_PROTO_MEM_ONLINE,
	DHP_PROTO_MEM_OFFLINE,
	DHP_PROTO_MEM_GOING_OFFLINE,
	DHP_PROTO_MEM_STATE_MAX
};

/* Capabilities a hello announces, as flags; unknown names are ignored. */
enum dhp_proto_cap {
	DHP_PROTO_CAP_ONLINE_CPU = 1 << 0,
	DHP_PROTO_CAP_OFFLINE_CPU = 1 << 1,
	DHP_PROTO_CAP_ONLINE_MEMORY = 1 << 2,
	DHP_PROTO_CAP_OFFLINE_MEMORY = 1 << 3,
	DHP_PROTO_CAP_PCI_RESCAN = 1 << 4,
	DHP_PROTO_CAP_PCI_REMOVE = 1 << 5,
	DHP_PROTO_CAP_UEVENTS = 1 << 6,		/* relays kernel uevents */
	DHP_PROTO_CAP_VETO = 1 << 7,		/* applications may veto */
};
#define DHP_PROTO_CAP_COUNT 8

/* A unit as the guest sees it. */
struct dhp_proto_unit {
	enum dhp_proto_unit_kind kind;
	uint32_t cpu;				/* processor: logical cpu */
	uint64_t phys_addr, size;		/* memory: bytes, block aligned */
	char slot[DHP_PROTO_SLOT_MAX];		/* io-host-bridge: PCI address,
						 * "" = the whole bus */
};

/* count consecutive memory blocks from index that share every field. */
struct dhp_proto_mem_run {
	uint64_t index;
	uint32_t count;				/* >= 1 */
	enum dhp_proto_mem_state state;
	bool removable;				/* may be taken offline */
	char zone[DHP_PROTO_ZONE_MAX];		/* "" when offline */
};

struct dhp_proto_pci {
	char slot[DHP_PROTO_SLOT_MAX];
	uint16_t vendor, device;
	uint32_t class;
};

/* What the guest has: sent in a hello and in the reply to report. */
struct dhp_proto_state {
	char cpus_online[DHP_PROTO_CPULIST_MAX];	/* cpulists, "0-1,3" */
	char cpus_present[DHP_PROTO_CPULIST_MAX];
	char cpus_possible[DHP_PROTO_CPULIST_MAX];
	uint64_t block_size;				/* 0: no memory hotplug */
	size_t n_runs;
	struct dhp_proto_mem_run runs[DHP_PROTO_RUNS_MAX];
	size_t n_pci;
	struct dhp_proto_pci pci[DHP_PROTO_PCI_MAX];
	/* Set by the encoder when the lists did not fit in one line; ask
	 * report with a memory unit for the blocks of one module. */
	bool truncated;
};

struct dhp_proto_hello {
	uint32_t version;
	char agent[DHP_PROTO_NAME_MAX];		/* "dhp-agent 0.1" */
	char kernel[DHP_PROTO_NAME_MAX];	/* uname -r */
	char profile[DHP_PROTO_NAME_MAX];	/* "linux" */
	unsigned caps;				/* DHP_PROTO_CAP_* */
	bool has_state;				/* cpus, memory and pci given */
	struct dhp_proto_state state;
};

struct dhp_proto_request {
	uint64_t id;
	enum dhp_proto_op op;
	enum dhp_proto_note note;		/* op notify */
	bool has_unit;				/* required by notify, online,
						 * offline; optional in report */
	struct dhp_proto_unit unit;
};

struct dhp_proto_reply {
	uint64_t id;
	enum dhp_proto_result result;
	char reason[DHP_PROTO_TEXT_MAX];	/* "" when none */
	int code;				/* negative errno, 0 when none;
						 * positive on the wire */
	bool has_state;				/* the answer to report */
	struct dhp_proto_state state;
};

struct dhp_proto_event {
	enum dhp_proto_event_kind kind;
	bool has_unit;
	struct dhp_proto_unit unit;
	char reason[DHP_PROTO_TEXT_MAX];	/* error events */
	int code;				/* negative errno, as in reply */
};

struct dhp_proto_msg {
	enum dhp_proto_type type;
	union {
		struct dhp_proto_hello hello;
		struct dhp_proto_request request;
		struct dhp_proto_reply reply;
		struct dhp_proto_event event;
	};
};

/* Names on the wire; "?" outside the tables. _parse returns -EINVAL for an
 * unknown name. */
const char *dhp_proto_type_name(enum dhp_proto_type type);
int dhp_proto_type_parse(const char *name, enum dhp_proto_type *ret_value);
const char *dhp_proto_op_name(enum dhp_proto_op op);
int dhp_proto_op_parse(const char *name, enum dhp_proto_op *ret_value);
const char *dhp_proto_note_name(enum dhp_proto_note note);
int dhp_proto_note_parse(const char *name, enum dhp_proto_note *ret_value);
bool dhp_proto_note_vetoable(enum dhp_proto_note note);
const char *dhp_proto_result_name(enum dhp_proto_result result);
int dhp_proto_result_parse(const char *name, enum dhp_proto_result *ret_value);
const char *dhp_proto_unit_kind_name(enum dhp_proto_unit_kind kind);
int dhp_proto_unit_kind_parse(const char *name, enum dhp_proto_unit_kind *ret_value);
const char *dhp_proto_event_kind_name(enum dhp_proto_event_kind kind);
int dhp_proto_event_kind_parse(const char *name, enum dhp_proto_event_kind *ret_value);
const char *dhp_proto_mem_state_name(enum dhp_proto_mem_state state);
int dhp_proto_mem_state_parse(const char *name, enum dhp_proto_mem_state *ret_value);
/* The name of one capability flag (a single bit), "?" if unknown. */
const char *dhp_proto_cap_name(unsigned cap);
/* The flag of a capability name, 0 if unknown (to be ignored). */
unsigned dhp_proto_cap_parse(const char *name);

/* Is slot a PCI address "DDDD:BB:DD.F" (lowercase or uppercase hex)?
 * Decoding checks it, since the agent builds sysfs paths from it. */
bool dhp_proto_slot_valid(const char *slot);

/*
 * Decode one line (without its newline; a trailing "\r" is tolerated) into
 * *ret_msg, which is written only on success. Keys not in the
 * specification are ignored. A hello with a higher version than ours is
 * -EPROTONOSUPPORT.
 */
int dhp_proto_decode(const char *line, size_t len, struct dhp_proto_msg *ret_msg,
		     struct dhp_error *err);

/*
 * For answering a line that did not decode: the "id" of line if it is a
 * JSON object with a valid id. Returns false otherwise (then the answer is
 * an error event, since there is no request to reply to).
 */
bool dhp_proto_peek_id(const char *line, size_t len, uint64_t *ret_id);

/*
 * The type of a line that did not decode, if it is a JSON object with a
 * known "type". A peer answers nothing to a reply or an event, even a
 * malformed one: two peers must never answer each other's errors forever.
 */
bool dhp_proto_peek_type(const char *line, size_t len, enum dhp_proto_type *ret_type);

/*
 * Encode msg as one line, newline included, into buf (NUL terminated too,
 * so size needs one byte more than the line). *ret_len is the line's
 * length with its newline. A state too large for DHP_PROTO_LINE_MAX is cut
 * (PCI functions first, then memory runs, from the end) and marked
 * truncated; anything else too large is -EMSGSIZE. msg is not changed.
 */
int dhp_proto_encode(const struct dhp_proto_msg *msg, char *buf, size_t size,
		     size_t *ret_len, struct dhp_error *err);

#endif
