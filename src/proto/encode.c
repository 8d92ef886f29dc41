/* SPDX-License-Identifier: MIT */
/* Encoding a message as one line (proto.h). */
#include "proto/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Our own bugs show here as -EINVAL rather than as "?" on the wire. */
static bool msg_valid(const struct dhp_proto_msg *msg)
{
	switch (msg->type) {
	case DHP_PROTO_HELLO:
		return msg->hello.version >= 1;
	case DHP_PROTO_REQUEST:
		return (unsigned)msg->request.op < DHP_PROTO_OP_MAX &&
		       (unsigned)msg->request.note < DHP_PROTO_NOTE_MAX &&
		       (!msg->request.has_unit ||
			(unsigned)msg->request.unit.kind < DHP_PROTO_UNIT_KIND_MAX);
	case DHP_PROTO_REPLY:
		return (unsigned)msg->reply.result < DHP_PROTO_RESULT_MAX;
	case DHP_PROTO_EVENT:
		return (unsigned)msg->event.kind < DHP_PROTO_EVENT_KIND_MAX &&
		       (!msg->event.has_unit ||
			(unsigned)msg->event.unit.kind < DHP_PROTO_UNIT_KIND_MAX);
	default:
		return false;
	}
}

static int why_encode(json_t *root, const char *reason, int code)
{
	int r = 0;

	if (reason[0])
		r = pj_set(root, "reason", pj_text(reason));
	/* Positive on the wire, as errno is. */
	if (!r && code)
		r = pj_set(root, "errno", json_integer(code < 0 ? -code : code));
	return r;
}

static int request_encode(json_t *root, const struct dhp_proto_request *req)
{
	int r = pj_set(root, "id", json_integer((json_int_t)req->id));

	if (!r)
		r = pj_set(root, "op", json_string(dhp_proto_op_name(req->op)));
	if (!r && req->op == DHP_PROTO_OP_NOTIFY)
		r = pj_set(root, "note", json_string(dhp_proto_note_name(req->note)));
	if (!r && req->has_unit)
		r = pj_set(root, "unit", proto_unit_encode(&req->unit));
	return r;
}

static int reply_encode(json_t *root, const struct dhp_proto_reply *rep, size_t runs,
			size_t pci, bool truncated)
{
	int r = pj_set(root, "id", json_integer((json_int_t)rep->id));

	if (!r)
		r = pj_set(root, "result", json_string(dhp_proto_result_name(rep->result)));
	if (!r)
		r = why_encode(root, rep->reason, rep->code);
	if (!r && rep->has_state)
		r = proto_state_encode(root, &rep->state, runs, pci, truncated);
	return r;
}

static int event_encode(json_t *root, const struct dhp_proto_event *ev)
{
	int r = pj_set(root, "event", json_string(dhp_proto_event_kind_name(ev->kind)));

	if (!r && ev->has_unit)
		r = pj_set(root, "unit", proto_unit_encode(&ev->unit));
	if (!r)
		r = why_encode(root, ev->reason, ev->code);
	return r;
}

/* The message as JSON, with only the first runs and pci of its state. */
static json_t *build(const struct dhp_proto_msg *msg, size_t runs, size_t pci,
		     bool truncated)
{
	json_t *root = json_object();
	int r = root ? 0 : -ENOMEM;

	/* "type" first, for people reading a trace. */
	if (!r)
		r = pj_set(root, "type", json_string(dhp_proto_type_name(msg->type)));
	if (!r) {
		switch (msg->type) {
		case DHP_PROTO_HELLO:
			r = proto_hello_encode(root, &msg->hello);
			if (!r && msg->hello.has_state)
				r = proto_state_encode(root, &msg->hello.state, runs, pci,
						       truncated);
			break;
		case DHP_PROTO_REQUEST:
			r = request_encode(root, &msg->request);
			break;
		case DHP_PROTO_REPLY:
			r = reply_encode(root, &msg->reply, runs, pci, truncated);
			break;
		default:
			r = event_encode(root, &msg->event);
			break;
		}
	}
	if (r) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static const struct dhp_proto_state *state_of(const struct dhp_proto_msg *msg)
{
	if (msg->type == DHP_PROTO_HELLO && msg->hello.has_state)
		return &msg->hello.state;
	if (msg->type == DHP_PROTO_REPLY && msg->reply.has_state)
		return &msg->reply.state;
	return NULL;
}

int dhp_proto_encode(const struct dhp_proto_msg *msg, char *buf, size_t size,
		     size_t *ret_len, struct dhp_error *err)
{
	const struct dhp_proto_state *s;
	struct dhp_error why;
	size_t runs = 0, pci = 0;
	bool truncated = false;
	json_t *root;
	int r;

	if (!msg || !buf || !ret_len || !msg_valid(msg))
		return dhp_error_set(err, -EINVAL, "not a valid message to encode");
	s = state_of(msg);
	if (s) {
		runs = s->n_runs < DHP_PROTO_RUNS_MAX ? s->n_runs : DHP_PROTO_RUNS_MAX;
		pci = s->n_pci < DHP_PROTO_PCI_MAX ? s->n_pci : DHP_PROTO_PCI_MAX;
		truncated = s->truncated || runs < s->n_runs || pci < s->n_pci;
	}
	/* A state that does not fit loses entries from the end, PCI first:
	 * memory is what dhpd acts on. The peer sees "truncated" and can
	 * ask report for one module's blocks. */
	for (;;) {
		dhp_error_clear(&why);
		root = build(msg, runs, pci, truncated);
		r = root ? pj_dump(root, buf, size, ret_len, &why)
			 : dhp_error_set(&why, -ENOMEM, "out of memory");
		json_decref(root);
		if (r != -EMSGSIZE || !s || (!runs && !pci))
			break;
		if (pci)
			pci--;
		else
			runs--;
		truncated = true;
	}
	if (r)
		return dhp_error_set(err, r, "%s", why.message);
	return 0;
}
