/* SPDX-License-Identifier: MIT */
/*
 * A session for a run that makes many requests. With Basic auth, dhpd
 * checks the password on every request, and a password check is a
 * deliberately slow hash (PBKDF2): a listing that reads each unit, or an
 * operation followed by polling, would spend most of its time, and the
 * server's, hashing. So from a run's second request on, we log in once,
 * send the session token instead, and log out when done. A run of one
 * request (most changes, `login` itself) never makes a session.
 *
 * Nothing here is required: if the server will not make a session (too
 * many, say), requests go on with Basic auth; if the session ends under
 * us, the request is retried once with Basic auth.
 */
#include <stdio.h>
#include <string.h>

#include "http-internal.h"

#define SESSIONS "/redfish/v1/SessionService/Sessions"

/* A token goes back in a header: nothing there but visible ASCII. */
static bool token_ok(const char *token)
{
	for (const char *c = token; *c; c++)
		if (*c <= ' ' || *c > '~')
			return false;
	return true;
}

void http_session_maybe_open(struct http *http)
{
	struct ctl_error err = { 0 };
	struct http_reply reply;
	json_t *body;
	int r;

	if (!http->basic || http->session_tried || ++http->basic_calls < 2)
		return;
	http->session_tried = true;
	body = json_pack("{ss ss}", "UserName", http->cfg->user, "Password",
			 http->cfg->password ? http->cfg->password : "");
	if (!body)
		return;
	http->anonymous = true;		/* the password goes in the body only */
	r = http_call(http, "POST", SESSIONS, body, NULL, &reply, &err);
	http->anonymous = false;
	json_decref(body);
	if (r == 0 && reply.token[0] && token_ok(reply.token)) {
		snprintf(http->token_header, sizeof(http->token_header), "X-Auth-Token: %s",
			 reply.token);
		snprintf(http->session, sizeof(http->session), "%s",
			 reply.location[0] ? reply.location : jstr(reply.json, "@odata.id", ""));
		http->in_session = true;
	}
	http_reply_release(&reply);
}

bool http_session_lost(struct http *http, long status)
{
	if (!http->in_session || status != 401)
		return false;
	/* Expired or deleted meanwhile: go on as we began, with Basic auth. */
	http->in_session = false;
	http->token_header[0] = '\0';
	http->session[0] = '\0';
	return true;
}

void http_session_close(struct http *http)
{
	struct ctl_error err = { 0 };
	struct http_reply reply;

	if (!http->in_session || !http->session[0])
		return;
	http->closing = true;	/* even after Ctrl-C: a second one still kills */
	/* Best effort: an unclosed session only lasts until its idle timeout. */
	http_call(http, "DELETE", http->session, NULL, NULL, &reply, &err);
	http_reply_release(&reply);
	http->in_session = false;
}
