/* SPDX-License-Identifier: MIT */
/* Decoding a line into a message (proto.h). */
#include "proto/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Linux errno values are below 4096 (MAX_ERRNO). */
#define ERRNO_MAX 4095

static int id_decode(json_t *root, const char *where, uint64_t *ret_id,
		     struct dhp_error *err)
{
	int64_t id;
	int r;

	r = pj_need(pj_int(root, where, "id", 0, INT64_MAX, &id, err), where, "id", err);
	if (r < 0)
		return r;
	*ret_id = (uint64_t)id;
	return 0;
}

/* reason and errno, shared by replies and events. */
static int why_decode(json_t *root, const char *where, char *reason, size_t size,
		      int *ret_code, struct dhp_error *err)
{
	int64_t n = 0;
	int r;

	/* A reason is for people: a long one is cut, not refused. */
	if ((r = pj_str(root, where, "reason", reason, size, true, err)) < 0)
		return r;
	if ((r = pj_int(root, where, "errno", 0, ERRNO_MAX, &n, err)) < 0)
		return r;
	*ret_code = -(int)n;
	return 0;
}

static int request_decode(json_t *root, struct dhp_proto_request *req,
			  struct dhp_error *err)
{
	char where[48], word[32];
	json_t *unit = NULL;
	int r;

	if ((r = id_decode(root, "request", &req->id, err)) < 0)
		return r;
	snprintf(where, sizeof(where), "request %llu", (unsigned long long)req->id);
	r = pj_need(pj_str(root, where, "op", word, sizeof(word), false, err), where, "op",
		    err);
	if (r < 0)
		return r;
	if (dhp_proto_op_parse(word, &req->op) < 0)
		return dhp_error_set(err, -EINVAL, "%s: unknown op \"%s\"", where, word);
	if (req->op == DHP_PROTO_OP_NOTIFY) {
		r = pj_need(pj_str(root, where, "note", word, sizeof(word), false, err), where,
			    "note", err);
		if (r < 0)
			return r;
		if (dhp_proto_note_parse(word, &req->note) < 0)
			return dhp_error_set(err, -EINVAL, "%s: unknown note \"%s\"", where,
					     word);
	}
	if ((r = pj_obj(root, where, "unit", &unit, err)) < 0)
		return r;
	switch (req->op) {
	case DHP_PROTO_OP_NOTIFY:
	case DHP_PROTO_OP_ONLINE:
	case DHP_PROTO_OP_OFFLINE:
		if (!unit)
			return pj_need(0, where, "unit", err);
		break;
	default:
		break;
	}
	req->has_unit = unit != NULL;
	return unit ? proto_unit_decode(unit, &req->unit, err) : 0;
}

static int reply_decode(json_t *root, struct dhp_proto_reply *rep, struct dhp_error *err)
{
	char where[48], word[32];
	int r;

	if ((r = id_decode(root, "reply", &rep->id, err)) < 0)
		return r;
	snprintf(where, sizeof(where), "reply %llu", (unsigned long long)rep->id);
	r = pj_need(pj_str(root, where, "result", word, sizeof(word), false, err), where,
		    "result", err);
	if (r < 0)
		return r;
	if (dhp_proto_result_parse(word, &rep->result) < 0)
		return dhp_error_set(err, -EINVAL, "%s: unknown result \"%s\"", where, word);
	if ((r = why_decode(root, where, rep->reason, sizeof(rep->reason), &rep->code,
			    err)) < 0)
		return r;
	/* An error without an errno still has to read as a failure. */
	if (rep->result == DHP_PROTO_ERROR && !rep->code)
		rep->code = -EIO;
	return proto_state_decode(root, where, &rep->state, &rep->has_state, err);
}

static int event_decode(json_t *root, struct dhp_proto_event *ev, struct dhp_error *err)
{
	json_t *unit = NULL;
	char word[32];
	int r;

	r = pj_need(pj_str(root, "event", "event", word, sizeof(word), false, err), "event",
		    "event", err);
	if (r < 0)
		return r;
	if (dhp_proto_event_kind_parse(word, &ev->kind) < 0)
		return dhp_error_set(err, -EINVAL, "event: unknown event \"%s\"", word);
	if ((r = why_decode(root, "event", ev->reason, sizeof(ev->reason), &ev->code,
			    err)) < 0)
		return r;
	if ((r = pj_obj(root, "event", "unit", &unit, err)) < 0)
		return r;
	ev->has_unit = unit != NULL;
	return unit ? proto_unit_decode(unit, &ev->unit, err) : 0;
}

static int root_decode(json_t *root, struct dhp_proto_msg *msg, struct dhp_error *err)
{
	char type[32];
	int r;

	r = pj_need(pj_str(root, "message", "type", type, sizeof(type), false, err),
		    "message", "type", err);
	if (r == -EMSGSIZE)
		return dhp_error_set(err, -EINVAL, "unknown type");
	if (r < 0)
		return r;
	if (dhp_proto_type_parse(type, &msg->type) < 0)
		return dhp_error_set(err, -EINVAL, "unknown type \"%s\"", type);
	switch (msg->type) {
	case DHP_PROTO_HELLO:
		return proto_hello_decode(root, &msg->hello, err);
	case DHP_PROTO_REQUEST:
		return request_decode(root, &msg->request, err);
	case DHP_PROTO_REPLY:
		return reply_decode(root, &msg->reply, err);
	default:
		return event_decode(root, &msg->event, err);
	}
}

int dhp_proto_decode(const char *line, size_t len, struct dhp_proto_msg *ret_msg,
		     struct dhp_error *err)
{
	struct dhp_proto_msg *msg;
	json_t *root;
	int r;

	if (!line || !ret_msg)
		return dhp_error_set(err, -EINVAL, "no line to decode");
	if ((r = pj_load(line, len, &root, err)) < 0)
		return r;
	/* Built aside so that *ret_msg is untouched on failure; on the heap
	 * since a message with a full state is some 10 KiB. */
	msg = calloc(1, sizeof(*msg));
	r = msg ? root_decode(root, msg, err) : dhp_error_set(err, -ENOMEM, "out of memory");
	json_decref(root);
	if (!r)
		*ret_msg = *msg;
	free(msg);
	return r;
}

bool dhp_proto_peek_id(const char *line, size_t len, uint64_t *ret_id)
{
	json_t *root;
	int64_t id;
	bool found;

	if (!line || pj_load(line, len, &root, NULL) < 0)
		return false;
	found = pj_int(root, "message", "id", 0, INT64_MAX, &id, NULL) == 1;
	json_decref(root);
	if (found)
		*ret_id = (uint64_t)id;
	return found;
}

bool dhp_proto_peek_type(const char *line, size_t len, enum dhp_proto_type *ret_type)
{
	enum dhp_proto_type type;
	char word[32];
	json_t *root;
	bool found;

	if (!line || pj_load(line, len, &root, NULL) < 0)
		return false;
	found = pj_str(root, "message", "type", word, sizeof(word), false, NULL) == 1 &&
		dhp_proto_type_parse(word, &type) == 0;
	json_decref(root);
	if (found)
		*ret_type = type;
	return found;
}
