/* SPDX-License-Identifier: MIT */
/*
 * Relaying dhpd's notifications to the applications of the partition
 * (DESIGN.md §4; docs/agent-protocol.md, Applications). A note goes to
 * every registered application at once and the agent waits for all their
 * replies, cfg.app_timeout_ms at most: silence and a closed connection
 * count as approving, so a slow or dead application never holds an
 * operation beyond that. On a veto, those that approved are sent the
 * failure note, in reverse registration order, one at a time; a failure
 * note from dhpd later goes only to those that saw the start.
 */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_reg(const void *x, const void *y)
{
	const struct agent_app *p = *(struct agent_app *const *)x;
	const struct agent_app *q = *(struct agent_app *const *)y;

	return p->reg_seq < q->reg_seq ? -1 : p->reg_seq > q->reg_seq;
}

/* The registered applications in registration order; caller frees. NULL
 * when memory ran out: then nobody is asked, and the answer is approval
 * (the agent does not veto on its own). */
static struct agent_app **snapshot(const struct agent *a, size_t *ret_n)
{
	struct agent_app **list = malloc((a->apps.n + 1) * sizeof(*list));
	size_t n = 0;

	if (!list) {
		agent_log("cannot relay a notification: %s", strerror(ENOMEM));
		return NULL;
	}
	for (size_t i = 0; i < a->apps.n; i++)
		if (a->apps.list[i]->fd >= 0 && a->apps.list[i]->reg_seq)
			list[n++] = a->apps.list[i];
	qsort(list, n, sizeof(*list), cmp_reg);
	*ret_n = n;
	return list;
}

/* Send the note to app with its own id, which is then awaited. */
static void ask(struct agent *a, struct agent_app *app, const struct dhp_proto_request *req,
		struct dhp_proto_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->type = DHP_PROTO_REQUEST;
	msg->request = *req;
	msg->request.id = ++app->next_id;
	app->answered = false;
	app->await_id = 0;
	app->reason[0] = '\0';
	if (apps_send(a, app, msg) == 0)
		app->await_id = msg->request.id;
}

/* Serve the applications until none of apps[0..n) is awaited, the
 * deadline passes or the agent is stopping. */
static void wait_replies(struct agent *a, struct agent_app **apps, size_t n, int64_t deadline)
{
	for (;;) {
		struct timespec ts;
		struct pollfd *p;
		int64_t left = deadline - agent_now_ms();
		size_t count = apps_poll_count(a);
		bool pending = false;

		for (size_t i = 0; i < n; i++)
			pending |= apps[i]->fd >= 0 && apps[i]->await_id;
		if (!pending || left <= 0 || agent_stopping())
			return;
		p = calloc(count, sizeof(*p));
		if (!p)
			return;
		apps_poll_fill(a, p);
		ts = (struct timespec){ left / 1000, (long)(left % 1000) * 1000000L };
		/* SIGTERM ends the wait at once (EINTR), with the stop flag set. */
		if (ppoll(p, count, &ts, agent_wait_mask()) > 0)
			apps_poll_handle(a, p);
		free(p);
	}
}

/* What app's answer counts as; an answer that is not one of the note's
 * (or none) is logged by name and counts as approving: a notice cannot be
 * refused, and only a deny vetoes. */
static bool denied(struct agent *a, struct agent_app *app, const struct dhp_proto_request *req)
{
	const char *note = dhp_proto_note_name(req->note);
	bool vetoable = dhp_proto_note_vetoable(req->note);

	if (!app->answered) {
		if (app->fd < 0)
			agent_log("application \"%s\" left before answering %s", app->name, note);
		else
			agent_log("application \"%s\" did not answer %s within %u ms", app->name,
				  note, a->cfg.app_timeout_ms);
		app->await_id = 0;	/* a late reply is dropped */
		return false;
	}
	if (vetoable && app->result == DHP_PROTO_DENY)
		return true;
	if (app->result != (vetoable ? DHP_PROTO_APPROVE : DHP_PROTO_OK))
		agent_log("application \"%s\" answered %s to %s%s%s", app->name,
			  dhp_proto_result_name(app->result), note, app->reason[0] ? ": " : "",
			  app->reason);
	return false;
}

/* Tell apps[0..n), in that order, one at a time: each is sent the note
 * when the one before answered. Past the deadline the rest are sent it
 * without waiting: each must still hear that its start was undone. */
static void relay_in_turn(struct agent *a, struct agent_app **apps, size_t n,
			  const struct dhp_proto_request *req, int64_t deadline,
			  struct dhp_proto_msg *msg)
{
	for (size_t i = 0; i < n; i++) {
		if (apps[i]->fd < 0)
			continue;
		ask(a, apps[i], req, msg);
		wait_replies(a, &apps[i], 1, deadline);
		denied(a, apps[i], req);
	}
}

/* "vetoed by NAME: REASON; and by NAME2: REASON2", cut at the cap. */
static void veto_reason(struct agent_app **apps, const bool *deny, size_t n, char *buf,
			size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < size - 1; i++) {
		if (!deny[i])
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s %s%s%s",
					off ? "; and by" : "vetoed by", apps[i]->name,
					apps[i]->reason[0] ? ": " : "", apps[i]->reason);
	}
	agent_utf8_trim(buf);
}

static enum dhp_proto_note failure_of(enum dhp_proto_note start)
{
	return start == DHP_PROTO_NOTE_ADD_START ? DHP_PROTO_NOTE_ADD_FAILURE
	     : start == DHP_PROTO_NOTE_REMOVE_QUERY ? DHP_PROTO_NOTE_REMOVE_FAILURE
						    : DHP_PROTO_NOTE_REPLACE_FAILURE;
}

/* Everyone is asked; on a veto, the approvers undo in reverse. */
static void relay_to_all(struct agent *a, struct agent_app **apps, size_t n,
			 const struct dhp_proto_request *req, struct dhp_proto_reply *reply,
			 int64_t deadline, struct dhp_proto_msg *msg)
{
	enum dhp_proto_note start = dhp_proto_note_start(req->note);
	struct dhp_proto_request undo = *req;
	bool *deny = calloc(n + 1, sizeof(*deny));
	uint64_t *serials = calloc(n + 1, sizeof(*serials));
	struct agent_app **approvers = calloc(n + 1, sizeof(*approvers));
	size_t n_deny = 0, k = 0;

	if (!deny || !serials || !approvers) {
		agent_log("cannot relay a notification: %s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ask(a, apps[i], req, msg);
	wait_replies(a, apps, n, deadline);
	for (size_t i = 0; i < n; i++) {
		deny[i] = denied(a, apps[i], req);
		n_deny += deny[i];
		serials[i] = apps[i]->serial;
	}
	if (n_deny) {
		reply->result = DHP_PROTO_DENY;
		veto_reason(apps, deny, n, reply->reason, sizeof(reply->reason));
		agent_log("%s of %s: %s", dhp_proto_note_name(req->note),
			  dhp_proto_unit_kind_name(req->unit.kind), reply->reason);
		/* The approvers, last registered first. */
		for (size_t i = n; i-- > 0;)
			if (!deny[i])
				approvers[k++] = apps[i];
		undo.note = failure_of(req->note);
		relay_in_turn(a, approvers, k, &undo, deadline, msg);
		/* Undone already: a failure note from dhpd goes to nobody. */
		dhp_proto_records_set(&a->apps.records, start, &req->unit, NULL, 0);
	} else if (req->note == start) {
		/* Without memory the unit has no record: a failure note
		 * then goes to every application. */
		dhp_proto_records_set(&a->apps.records, start, &req->unit, serials, n);
	} else {
		dhp_proto_records_end(&a->apps.records, &req->unit);	/* a complete note */
	}
out:
	free(deny);
	free(serials);
	free(approvers);
}

static bool is_failure(enum dhp_proto_note note)
{
	return note == DHP_PROTO_NOTE_ADD_FAILURE || note == DHP_PROTO_NOTE_REMOVE_FAILURE ||
	       note == DHP_PROTO_NOTE_REPLACE_FAILURE;
}

/* A failure from dhpd: to those that saw the start (all without a record),
 * last registered first, one at a time. */
static void relay_failure(struct agent *a, struct agent_app **apps, size_t n,
			  const struct dhp_proto_request *req, int64_t deadline,
			  struct dhp_proto_msg *msg)
{
	const struct dhp_proto_record *rec;
	size_t k = 0;

	rec = dhp_proto_records_find(&a->apps.records, req->note, &req->unit);
	if (rec) {
		for (size_t j = rec->n; j-- > 0;) {
			struct agent_app *app = apps_find(a, rec->serials[j]);

			if (app && k < n)
				apps[k++] = app;
		}
	} else {
		for (size_t i = 0; i < n / 2; i++) {
			struct agent_app *t = apps[i];

			apps[i] = apps[n - 1 - i];
			apps[n - 1 - i] = t;
		}
		k = n;
	}
	dhp_proto_records_end(&a->apps.records, &req->unit);
	relay_in_turn(a, apps, k, req, deadline, msg);
}

void agent_apps_notify(struct agent *a, const struct dhp_proto_request *req,
		       struct dhp_proto_reply *reply)
{
	int64_t deadline = agent_now_ms() + a->cfg.app_timeout_ms;
	struct dhp_proto_msg *msg = NULL;
	struct agent_app **apps = NULL;
	size_t n = 0;

	agent_debug(a, "notification %s of %s", dhp_proto_note_name(req->note),
		    dhp_proto_unit_kind_name(req->unit.kind));
	reply->result = dhp_proto_note_vetoable(req->note) ? DHP_PROTO_APPROVE : DHP_PROTO_OK;
	if (a->apps.listen_fd < 0)
		return;
	apps = snapshot(a, &n);
	msg = calloc(1, sizeof(*msg));
	if (!apps || !msg) {
		if (!msg)
			agent_log("cannot relay a notification: %s", strerror(ENOMEM));
		goto out;
	}
	if (is_failure(req->note))
		relay_failure(a, apps, n, req, deadline, msg);
	else
		relay_to_all(a, apps, n, req, reply, deadline, msg);
out:
	free(msg);
	free(apps);
}
