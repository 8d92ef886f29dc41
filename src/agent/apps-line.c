/* SPDX-License-Identifier: MIT */
/*
 * What an application's line means (docs/agent-protocol.md, Applications):
 * its hello registers it, a ping is answered, a reply answers the
 * notification it was sent (or is dropped as late), anything else is
 * refused as dhpd's bad input is. An application that sends more than
 * AGENT_APP_BAD_MAX bad lines in a row is disconnected.
 */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void agent_utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char lead;

	/* Back over continuation bytes (10xxxxxx) to the last lead byte. */
	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : 4;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

static void error_event(struct agent *a, struct agent_app *app, struct dhp_proto_msg *out,
			int code, const char *reason)
{
	memset(out, 0, sizeof(*out));
	out->type = DHP_PROTO_EVENT;
	out->event.kind = DHP_PROTO_EVENT_ERROR;
	out->event.code = code;
	snprintf(out->event.reason, sizeof(out->event.reason), "%s", reason);
	apps_send(a, app, out);
}

static void on_hello(struct agent *a, struct agent_app *app, const struct dhp_proto_hello *h)
{
	/* Its version was checked by decoding (a higher one is refused). */
	if (app->reg_seq) {
		agent_debug(a, "application \"%s\" said hello again", app->name);
		return;
	}
	if (h->agent[0]) {
		snprintf(app->name, sizeof(app->name), "%s", h->agent);
		agent_utf8_trim(app->name);
	}
	app->reg_seq = ++a->apps.next_serial;
	agent_debug(a, "application \"%s\" registered", app->name);
}

/* Applications may ping; everything else is for dhpd to ask. Returns
 * whether the request was refused (a bad line). */
static bool on_request(struct agent *a, struct agent_app *app,
		       const struct dhp_proto_request *req, struct dhp_proto_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->type = DHP_PROTO_REPLY;
	out->reply.id = req->id;
	out->reply.result = DHP_PROTO_OK;
	if (req->op != DHP_PROTO_OP_PING) {
		out->reply.result = DHP_PROTO_ERROR;
		out->reply.code = -EOPNOTSUPP;
		snprintf(out->reply.reason, sizeof(out->reply.reason),
			 "op \"%s\" is not for applications: they may only ping",
			 dhp_proto_op_name(req->op));
	}
	apps_send(a, app, out);
	return req->op != DHP_PROTO_OP_PING;
}

static void on_reply(struct agent *a, struct agent_app *app, const struct dhp_proto_reply *rep)
{
	if (!app->await_id || rep->id != app->await_id) {
		/* Late (its wait ended) or never asked: dropped. */
		agent_debug(a, "dropped a reply of \"%s\" to %llu: not awaited", app->name,
			    (unsigned long long)rep->id);
		return;
	}
	app->await_id = 0;
	app->answered = true;
	app->result = rep->result;
	snprintf(app->reason, sizeof(app->reason), "%s", rep->reason);
	agent_utf8_trim(app->reason);
}

int apps_line(struct agent *a, struct agent_app *app, const char *line, size_t len, int rc)
{
	struct dhp_proto_msg *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	struct dhp_error err = { 0 };
	char why[96];
	bool bad = false;

	if (!in || !out)
		goto out;
	if (rc < 0 || dhp_proto_decode(line, len, in, &err) < 0) {
		bad = true;
		if (app->bad_lines + 1 > AGENT_APP_BAD_MAX) {
			agent_log("application \"%s\" sent more than %d bad lines in a row: dropped",
				  app->name, AGENT_APP_BAD_MAX);
			snprintf(why, sizeof(why),
				 "more than %d bad lines in a row: closing the connection",
				 AGENT_APP_BAD_MAX);
			error_event(a, app, out, -EPROTO, why);
			apps_drop(a, app, "too many bad lines");
			goto out;
		}
		if (agent_refusal(a, line, len, rc, &err, out))
			apps_send(a, app, out);
		if (err.code == -EPROTONOSUPPORT)
			apps_drop(a, app, err.message);
		goto out;
	}
	switch (in->type) {
	case DHP_PROTO_HELLO:
		on_hello(a, app, &in->hello);
		break;
	case DHP_PROTO_REQUEST:
		bad = on_request(a, app, &in->request, out);
		break;
	case DHP_PROTO_REPLY:
		on_reply(a, app, &in->reply);
		break;
	default:
		break;	/* events: nothing to do with them, nothing to answer */
	}
out:
	app->bad_lines = bad ? app->bad_lines + 1 : 0;
	free(in);
	free(out);
	return app->fd < 0 ? -EPIPE : 0;
}
