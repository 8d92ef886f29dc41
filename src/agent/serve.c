/* SPDX-License-Identifier: MIT */
/* Answering dhpd: one line in, one reply (or error event) out. Bad input
 * of any kind is answered and the agent goes on; it never exits on it. */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int agent_send_hello(struct agent *a)
{
	struct dhp_proto_msg *msg = calloc(1, sizeof(*msg));
	int r;

	if (!msg)
		return -ENOMEM;
	msg->type = DHP_PROTO_HELLO;
	r = agent_hello(a, &msg->hello);
	if (r < 0)
		agent_log("cannot read the state of the guest: %s", strerror(-r));
	/* A hello with part of the state beats none: dhpd needs the version. */
	r = channel_send(a, msg);
	free(msg);
	return r;
}

static void serve_request(struct agent *a, const struct dhp_proto_request *req,
			  struct dhp_proto_reply *reply)
{
	int r;

	reply->result = DHP_PROTO_OK;
	switch (req->op) {
	case DHP_PROTO_OP_NOTIFY:
		agent_apps_notify(a, req, reply);
		break;
	case DHP_PROTO_OP_ONLINE:
		agent_online(a, &req->unit, reply);
		break;
	case DHP_PROTO_OP_OFFLINE:
		agent_offline(a, &req->unit, reply);
		break;
	case DHP_PROTO_OP_REPORT:
		r = agent_state(a, req->has_unit ? &req->unit : NULL, &reply->state);
		if (r < 0) {
			reply->result = DHP_PROTO_ERROR;
			reply->code = r;
			snprintf(reply->reason, sizeof(reply->reason),
				 "cannot read the state of the guest: %s", strerror(-r));
		}
		reply->has_state = r == 0;
		break;
	case DHP_PROTO_OP_HELLO:
		/* The hello first: when dhpd sees this reply it has it. */
		agent_send_hello(a);
		break;
	default:
		break;		/* ping */
	}
	if (reply->result == DHP_PROTO_ERROR)
		agent_log("%s of %s failed: %s", dhp_proto_op_name(req->op),
			  req->has_unit ? dhp_proto_unit_kind_name(req->unit.kind) : "the guest",
			  reply->reason);
}

bool agent_refusal(const struct agent *a, const char *line, size_t len, int rc,
		   const struct dhp_error *why, struct dhp_proto_msg *out)
{
	enum dhp_proto_type type;
	uint64_t id;

	memset(out, 0, sizeof(*out));
	if (rc == -EMSGSIZE) {
		agent_debug(a, "refused a line longer than %d bytes", DHP_PROTO_LINE_MAX);
		out->type = DHP_PROTO_EVENT;
		out->event.kind = DHP_PROTO_EVENT_ERROR;
		out->event.code = rc;
		snprintf(out->event.reason, sizeof(out->event.reason),
			 "line longer than %d bytes", DHP_PROTO_LINE_MAX);
		return true;
	}
	/* Nothing to a reply or an event (see dhp_proto_peek_type). */
	if (dhp_proto_peek_type(line, len, &type) &&
	    (type == DHP_PROTO_REPLY || type == DHP_PROTO_EVENT)) {
		agent_log("ignored a malformed %s: %s", dhp_proto_type_name(type), why->message);
		return false;
	}
	agent_debug(a, "refused a line: %s", why->message);
	if (!dhp_proto_peek_id(line, len, &id)) {
		out->type = DHP_PROTO_EVENT;
		out->event.kind = DHP_PROTO_EVENT_ERROR;
		out->event.code = why->code;
		snprintf(out->event.reason, sizeof(out->event.reason), "%s", why->message);
		return true;
	}
	out->type = DHP_PROTO_REPLY;
	out->reply.id = id;
	out->reply.result = DHP_PROTO_ERROR;
	out->reply.code = why->code;
	snprintf(out->reply.reason, sizeof(out->reply.reason), "%s", why->message);
	return true;
}

int agent_serve_line(void *ctx, const char *line, size_t len, int rc)
{
	struct dhp_proto_msg *in = NULL, *out = NULL;
	struct agent *a = ctx;
	struct dhp_error err = { 0 };

	/* Two messages of some 10 KiB each: on the heap, not the stack. */
	in = calloc(1, sizeof(*in));
	out = calloc(1, sizeof(*out));
	if (!in || !out)
		goto out;
	if (rc < 0 || dhp_proto_decode(line, len, in, &err) < 0) {
		if (agent_refusal(a, line, len, rc, &err, out))
			channel_send(a, out);
		goto out;
	}
	switch (in->type) {
	case DHP_PROTO_REQUEST:
		out->type = DHP_PROTO_REPLY;
		out->reply.id = in->request.id;
		serve_request(a, &in->request, &out->reply);
		channel_send(a, out);
		break;
	case DHP_PROTO_HELLO:
		/* dhpd's hello: its version was checked by decoding. */
		agent_debug(a, "peer \"%s\" speaks version %u", in->hello.agent,
			    in->hello.version);
		break;
	default:
		/* Replies and events are never answered, or two peers could
		 * answer each other's errors forever. */
		agent_debug(a, "ignored a line of type %s", dhp_proto_type_name(in->type));
		break;
	}
out:
	free(in);
	free(out);
	/* Keep reading unless the channel broke. */
	return a->chan_broken ? -EPIPE : 0;
}
