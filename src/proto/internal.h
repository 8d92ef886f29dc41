/* SPDX-License-Identifier: MIT */
/*
 * Inside src/proto: typed access to jansson values with the protocol's
 * error messages, and the codec of the parts that several messages share.
 *
 * Why jansson, linked statically into dhp-agent: DESIGN.md §7 prefers a
 * well-kept library to hand-written code, dhpd already uses it, Debian's
 * libjansson-dev ships libjansson.a, and its parser already gets right what
 * a small hand-written one tends to get wrong on a peer's input (UTF-8
 * validation, surrogate pairs, \u0000, integer overflow, duplicate keys).
 * The caps (line length, nesting) are ours, applied before and after it.
 */
#ifndef DHP_PROTO_INTERNAL_H
#define DHP_PROTO_INTERNAL_H

#include <jansson.h>

#include "proto/proto.h"

/* Parse a line into a JSON object: caps, NUL bytes and nesting checked.
 * Caller frees *ret_root with json_decref. */
int pj_load(const char *line, size_t len, json_t **ret_root, struct dhp_error *err);

/*
 * Typed look-ups of obj[key]. Each returns 1 when the key is there and
 * right (and sets *ret), 0 when it is absent or null (a peer may send null
 * for "none"), or -EINVAL / -EMSGSIZE with err set when it is of the wrong
 * type, out of range or too long. where names the object in messages.
 */
int pj_int(json_t *obj, const char *where, const char *key, int64_t min, int64_t max,
	   int64_t *ret, struct dhp_error *err);
int pj_bool(json_t *obj, const char *where, const char *key, bool *ret,
	    struct dhp_error *err);
/* A string into buf; too long is -EMSGSIZE unless cut, when it is cut. */
int pj_str(json_t *obj, const char *where, const char *key, char *buf, size_t size,
	   bool cut, struct dhp_error *err);
/* An object or an array (*ret borrowed from obj). */
int pj_obj(json_t *obj, const char *where, const char *key, json_t **ret,
	   struct dhp_error *err);
int pj_arr(json_t *obj, const char *where, const char *key, json_t **ret,
	   struct dhp_error *err);
/* A look-up's result r for a key that must be there: absent is -EINVAL. */
int pj_need(int r, const char *where, const char *key, struct dhp_error *err);

/* Setting members of an object being built; -ENOMEM on failure. */
int pj_set(json_t *obj, const char *key, json_t *value);
/* A string for people (a reason, a name) that a fixed-size buffer may have
 * cut inside a UTF-8 character, or that came from the kernel or an
 * application as bytes: invalid UTF-8 becomes '?', so that the message is
 * still sent. NULL only when out of memory. */
json_t *pj_text(const char *s);

/* Write root as one compact line with its newline into buf. */
int pj_dump(json_t *root, char *buf, size_t size, size_t *ret_len,
	    struct dhp_error *err);

/* The shared parts. */
json_t *proto_unit_encode(const struct dhp_proto_unit *unit);
int proto_unit_decode(json_t *obj, struct dhp_proto_unit *ret_unit, struct dhp_error *err);
/* Add cpus, memory and pci of state to obj, the first runs and pci
 * entries only; truncated says whether some were left out. */
int proto_state_encode(json_t *obj, const struct dhp_proto_state *state, size_t runs,
		       size_t pci, bool truncated);
/* state and hello are filled in place (they are large), also on failure. */
int proto_state_decode(json_t *obj, const char *where, struct dhp_proto_state *state,
		       bool *present, struct dhp_error *err);
int proto_hello_encode(json_t *obj, const struct dhp_proto_hello *hello);
int proto_hello_decode(json_t *root, struct dhp_proto_hello *hello,
		       struct dhp_error *err);

#endif
