/* SPDX-License-Identifier: MIT */
/*
 * The SessionService and its sessions (docs/auth.md): logging in
 * (POST .../Sessions or .../Sessions/Members, the routes of the API
 * without authentication), looking at sessions and logging out (a DELETE
 * with If-Match is checked against the session's ETag).
 *
 * Who sees what: ConfigureManager sees and ends every session; anyone else
 * sees and ends only their own (the collection lists only those; another's
 * session answers 403).
 */
#include <stdio.h>
#include <string.h>

#include "redfish/resources/resources.h"

#define SESSION_SERVICE	"/redfish/v1/SessionService"
#define SESSIONS	SESSION_SERVICE "/Sessions"

#define T_SESSION_SERVICE "#SessionService.v1_2_0.SessionService"
#define T_SESSIONS	"#SessionCollection.SessionCollection"
#define T_SESSION	"#Session.v1_8_0.Session"

/* A body, or 500 when building it ran out of memory. */
static void send(struct http_response *res, unsigned status, json_t *body)
{
	if (!body)
		rf_error(res, 500, "InternalError", NULL, "out of memory");
	else
		rf_ok(res, status, body);
}

static bool may_see(const struct auth_principal *who, const char *user)
{
	return (who->privileges & AUTH_PRIV_CONFIGURE_MANAGER) || !strcmp(who->user, user);
}

static int find(struct auth *auth, const char *id, struct auth_session_info *ret_info)
{
	struct auth_session_info s;

	for (size_t i = 0; !auth_session_get(auth, i, &s); i++)
		if (!strcmp(s.id, id)) {
			*ret_info = s;
			return 0;
		}
	return -ENOENT;
}

/* Never the password, nor the token: X-Auth-Token is their only place. */
static json_t *session_json(const struct auth_session_info *s)
{
	return json_pack("{s:s, s:s+, s:s, s:s, s:s, s:s}", "@odata.type", T_SESSION,
			 "@odata.id", SESSIONS "/", s->id, "Id", s->id, "Name", "User Session",
			 "UserName", s->user, "SessionType", "Redfish");
}

static void service_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct auth_config c;

	(void)req;
	auth_get_config(rf_auth(rf), &c);
	send(res, 200, json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:{s:s}, s:{s:s, s:s}}",
				 "@odata.type", T_SESSION_SERVICE, "@odata.id", SESSION_SERVICE,
				 "Id", "SessionService", "Name", "Session Service",
				 "ServiceEnabled", 1, "SessionTimeout", (json_int_t)c.session_timeout_s,
				 "Sessions", "@odata.id", SESSIONS,
				 "Status", "State", "Enabled", "Health", "OK"));
}

static void list(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	json_t *body, *members = json_array();
	struct auth_session_info s;

	for (size_t i = 0; members && !auth_session_get(rf_auth(rf), i, &s); i++)
		if (may_see(req->who, s.user))
			json_array_append_new(members, json_pack("{s:s+}", "@odata.id",
								 SESSIONS "/", s.id));
	body = json_pack("{s:s, s:s, s:s, s:I, s:o}", "@odata.type", T_SESSIONS,
			 "@odata.id", SESSIONS, "Name", "Sessions",
			 "Members@odata.count", (json_int_t)json_array_size(members),
			 "Members", members);
	send(res, 200, body);
}

/* The session of the request's {id}, if the caller may see it. */
static bool lookup(struct redfish *rf, const struct rf_request *req, struct http_response *res,
		   struct auth_session_info *ret_info)
{
	const char *id = req->params[0];

	if (find(rf_auth(rf), id, ret_info)) {
		rf_error(res, 404, "ResourceNotFound", NULL,
			 "The requested resource of type Session named '%.40s' was not found.", id);
		return false;
	}
	if (!may_see(req->who, ret_info->user)) {
		rf_error(res, 403, "InsufficientPrivilege",
			 "Only an account with ConfigureManager may see or end another's session.",
			 "The session '%s' belongs to another user.", id);
		return false;
	}
	return true;
}

static void get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct auth_session_info s;

	if (lookup(rf, req, res, &s))
		send(res, 200, session_json(&s));
}

static void delete(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct auth_session_info s;

	if (!lookup(rf, req, res, &s) || rf_precondition(res, req->if_match, session_json(&s)) < 0)
		return;
	auth_session_delete(rf_auth(rf), s.id);
	rf_ok(res, 204, NULL);
}

/* {"UserName": string, "Password": string} and nothing else. */
static bool check_login(const json_t *body, struct http_response *res)
{
	static const char *const names[] = { "UserName", "Password" };
	const char *key;
	json_t *val;

	if (!json_is_object(body)) {
		rf_error(res, 400, "MalformedJSON", NULL,
			 "The request body must be a JSON object with UserName and Password.");
		return false;
	}
	json_object_foreach((json_t *)body, key, val) {
		if (strcmp(key, names[0]) && strcmp(key, names[1])) {
			rf_error(res, 400, "PropertyUnknown", NULL,
				 "The property %.40s is not in the list of valid properties for the resource.",
				 key);
			return false;
		}
		if (!json_is_string(val)) {
			rf_error(res, 400, "PropertyValueTypeError", NULL,
				 "The value for the property %s is not a type that the property can accept.",
				 key);
			return false;
		}
	}
	for (size_t i = 0; i < 2; i++)
		if (!json_object_get(body, names[i])) {
			rf_error(res, 400, "PropertyMissing", NULL,
				 "The property %s is a required property and must be included in the request.",
				 names[i]);
			return false;
		}
	return true;
}

static void create(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	const json_t *body = req->body;
	struct auth_session_info s = { .created = 0 };
	struct dhp_error err = { 0 };
	struct auth_principal who;
	char token[AUTH_TOKEN_LEN + 1];
	json_t *answer;
	int r;

	if (!check_login(body, res))
		return;
	r = auth_session_create(rf_auth(rf), req->source,
				json_string_value(json_object_get(body, "UserName")),
				json_string_value(json_object_get(body, "Password")),
				rf_now_s(rf), &who, token, &err);
	if (r == -EAGAIN) {
		rf_throttled(rf, req->source, &err, res);
		return;
	}
	if (r == -EACCES) {
		rf_error(res, 401, "NoValidSession", err.resolution, "%s", err.message);
		return;
	}
	if (r) {
		rf_error_from(res, &err);
		return;
	}
	snprintf(s.id, sizeof(s.id), "%s", who.session_id);
	snprintf(s.user, sizeof(s.user), "%s", who.user);
	answer = session_json(&s);
	if (answer) {
		http_header(res, "X-Auth-Token", "%s", token);
		http_header(res, "Location", SESSIONS "/%s", s.id);
	} else {
		auth_session_delete(rf_auth(rf), s.id);	/* nobody has its token */
	}
	memset(token, 0, sizeof(token));
	send(res, 201, answer);
}

const struct rf_route rf_routes_sessions[] = {
	{ HTTP_GET, SESSION_SERVICE, service_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, SESSIONS, list, AUTH_PRIV_LOGIN },
	{ HTTP_POST, SESSIONS, create, 0 },
	/* A POST to a collection's Members is one to the collection (DSP0266). */
	{ HTTP_POST, SESSIONS "/Members", create, 0 },
	{ HTTP_GET, SESSIONS "/{}", get, AUTH_PRIV_LOGIN },
	{ HTTP_DELETE, SESSIONS "/{}", delete, AUTH_PRIV_CONFIGURE_SELF },
	{ 0, NULL, NULL, 0 },
};
