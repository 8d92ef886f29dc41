/* SPDX-License-Identifier: MIT */
/*
 * The service object and what every handler uses: responses, Redfish
 * errors (docs/redfish.md, Base registry 1.22), and who is asking. It is
 * also the engine's listener: events go to the SSE hub (sse.c). ETags are
 * json-etag.c.
 */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BASE_PREFIX "Base.1.22."
#define EXPIRE_EVERY_S 60u	/* dropping idle sessions is housekeeping */

struct api {
	struct dhp_core *core;
	struct auth *auth;
	struct api_limits limits;
	struct dhp_loop *loop;
	enum api_state state;
	struct api_events *events;
	uint64_t expired_at;		/* api_now_s of the last auth_sessions_expire */
};

void api_limits_default(struct api_limits *limits)
{
	*limits = (struct api_limits){
		.max_body = 64 * 1024,
		.max_json_depth = 32,
		.max_header = 16 * 1024,
		.max_connections = 4096,
		.max_sessions = 64,
		.max_sse_clients = 1024,
	};
}

int api_new(struct dhp_core *core, struct auth *auth, const struct api_limits *limits,
	    struct dhp_loop *loop, struct api **ret_api, struct dhp_error *err)
{
	struct api *api = calloc(1, sizeof(*api));
	int r;

	if (!api)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	api->auth = auth;
	api->loop = loop;
	if (limits)
		api->limits = *limits;
	else
		api_limits_default(&api->limits);
	api->state = API_RECOVERING;
	r = api_events_new(api, &api->events);
	if (r < 0) {
		free(api);
		return dhp_error_set(err, r, "out of memory");
	}
	api_set_core(api, core);
	*ret_api = api;
	return 0;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_events_free(api->events);
	free(api);
}

static void on_event(void *ctx, const struct dhp_event *ev)
{
	struct api *api = ctx;

	api_events_publish(api->events, ev);
}

struct dhp_core_listener api_core_listener(struct api *api)
{
	return (struct dhp_core_listener){ .event = on_event, .op_end = NULL, .ctx = api };
}

void api_set_core(struct api *api, struct dhp_core *core)
{
	api->core = core;
	/* Everything in the store now is committed: the engine has not run
	 * yet. From here on the listener says what is. */
	if (core)
		api_events_set_published(api->events, dhp_store_last_event(dhp_core_store(core)));
}

void api_set_state(struct api *api, enum api_state state) { api->state = state; }
enum api_state api_get_state(const struct api *api) { return api->state; }
struct dhp_core *api_core(struct api *api) { return api->core; }
struct auth *api_auth(struct api *api) { return api->auth; }
const struct api_limits *api_get_limits(struct api *api) { return &api->limits; }
struct dhp_loop *api_loop(struct api *api) { return api->loop; }
struct api_events *api_get_events(struct api *api) { return api->events; }

uint64_t api_now_s(struct api *api)
{
	return dhp_loop_now(api->loop) / 1000;
}

/* On requests rather than on a timer: a timer that never ends would keep
 * a test's loop from ever running dry. */
static void expire_sessions(struct api *api)
{
	uint64_t now = api_now_s(api);

	if (now - api->expired_at < EXPIRE_EVERY_S)
		return;
	api->expired_at = now;
	auth_sessions_expire(api->auth, now);
}

int api_authenticate(struct api *api, const struct api_credentials *cred,
		     struct auth_principal *ret_who, struct dhp_error *err)
{
	expire_sessions(api);
	if (cred->token) {
		if (auth_session_check(api->auth, cred->token, api_now_s(api), ret_who) < 0)
			return dhp_error_set(err, -EACCES, "the session token is not valid");
		return 0;
	}
	if (cred->user && cred->password) {
		int r = auth_check_password(api->auth, cred->user, cred->password,
					    api_now_s(api), ret_who, err);

		return r < 0 ? dhp_error_set(err, -EACCES, "wrong user name or password") : 0;
	}
	return dhp_error_set(err, -EACCES, "no credentials");
}

/* ---- responses ---- */

void api_header(struct api_response *res, const char *name, const char *fmt, ...)
{
	struct api_header *h;
	va_list ap;

	if (res->n_headers >= API_MAX_HEADERS)
		return;
	h = &res->headers[res->n_headers++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
}

const char *api_response_header(const struct api_response *res, const char *name)
{
	for (unsigned i = 0; i < res->n_headers; i++)
		if (!strcasecmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

void api_response_release(struct api_response *res)
{
	json_decref(res->body);
	res->body = NULL;
	free(res->raw_owned);
	res->raw_owned = NULL;
	res->raw_len = 0;
}

void api_ok(struct api_response *res, unsigned status, json_t *body)
{
	api_response_release(res);
	res->status = status ? status : 200;
	res->body = body;
}

/* ---- errors ---- */

/* The Base messages dhp uses: severity and the registry's resolution. */
static const struct base_message {
	const char *id;
	const char *severity;
	const char *resolution;
} base_messages[] = {
	{ "MalformedJSON", "Critical", "Ensure that the request body is valid JSON and resubmit the request." },
	{ "PropertyUnknown", "Warning", "Remove the unknown property from the request body and resubmit the request if the operation failed." },
	{ "PropertyNotWritable", "Warning", "Remove the property from the request body and resubmit the request if the operation failed." },
	{ "PropertyMissing", "Warning", "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed." },
	{ "PropertyValueTypeError", "Warning", "Correct the value for the property in the request body and resubmit the request if the operation failed." },
	{ "PropertyValueNotInList", "Warning", "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed." },
	{ "PropertyValueError", "Warning", "Correct the value for the property in the request body and resubmit the request if the operation failed." },
	{ "PropertyValueConflict", "Warning", NULL },
	{ "ActionParameterMissing", "Critical", "Supply the action with the required parameter in the request body when the request is resubmitted." },
	{ "ActionParameterUnknown", "Warning", "Correct the invalid action parameter and resubmit the request if the operation failed." },
	{ "ActionParameterValueError", "Warning", "Correct the value for the parameter in the request body and resubmit the request if the operation failed." },
	{ "ActionNotSupported", "Critical", "Check the Actions property in the resource for the supported actions." },
	{ "QueryParameterValueError", "Warning", "Correct the value for the query parameter in the request and resubmit the request if the operation failed." },
	{ "HeaderInvalid", "Critical", "Resubmit the request with a valid request header." },
	{ "NoValidSession", "Critical", "Establish a session before attempting any operations." },
	{ "InsufficientPrivilege", "Critical", "Either abandon the operation or change the associated access rights and resubmit the request if the operation failed." },
	{ "ResourceNotFound", "Critical", "Provide a valid resource identifier and resubmit the request." },
	{ "OperationNotAllowed", "Critical", NULL },
	{ "ResourceInUse", "Warning", "Remove the condition and resubmit the request if the operation failed." },
	{ "ResourceAlreadyExists", "Critical", "Do not repeat the create operation as the resource was already created." },
	{ "PreconditionFailed", "Critical", "Try the operation again using the appropriate ETag." },
	{ "PayloadTooLarge", "Critical", "Check that the supplied payload is correct and supported by this service." },
	{ "ServiceTemporarilyUnavailable", "Critical", "Wait for the indicated retry duration and retry the operation." },
	{ "ServiceShuttingDown", "Critical", "When the service becomes available, resubmit the request if the operation failed." },
	{ "SessionLimitExceeded", "Critical", "Reduce the number of other sessions before trying to establish the session." },
	{ "InternalError", "Critical", "Resubmit the request.  If the problem persists, consider resetting the service." },
	{ "GeneralError", "Critical", NULL },
};

static const struct base_message *base_message(const char *id)
{
	for (size_t i = 0; i < sizeof(base_messages) / sizeof(base_messages[0]); i++)
		if (!strcmp(base_messages[i].id, id))
			return &base_messages[i];
	return NULL;
}

static void set_error(struct api_response *res, unsigned status, const char *id,
		      const char *resolution, const char *message)
{
	const struct base_message *m = base_message(id);
	char code[96];
	json_t *info;

	snprintf(code, sizeof(code), BASE_PREFIX "%s", id);
	if (!resolution || !*resolution)
		resolution = m ? m->resolution : NULL;
	info = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@odata.type", "#Message.v1_3_0.Message",
			 "MessageId", code, "Message", message,
			 "Severity", m ? m->severity : "Critical",
			 "MessageSeverity", m ? m->severity : "Critical");
	if (info && resolution)
		json_object_set_new(info, "Resolution", json_string(resolution));
	api_ok(res, status, json_pack("{s:{s:s, s:s, s:[o]}}", "error", "code", code,
				      "message", message, "@Message.ExtendedInfo", info));
}

void api_error(struct api_response *res, unsigned status, const char *message_id,
	       const char *resolution, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	set_error(res, status, message_id, resolution, message);
}

/* docs/redfish.md: dhp's codes (docs/errors.md) as HTTP status + Base id. */
static void status_of(int code, unsigned *status, const char **id)
{
	switch (code) {
	case -EINVAL: case -ENAMETOOLONG: case -E2BIG:
		*status = 400, *id = "PropertyValueError"; break;
	case -EOPNOTSUPP: case -EROFS:
		*status = 400, *id = "ActionNotSupported"; break;
	case -ERANGE: case -ENOSPC: case -ENOTCONN:
		*status = 400, *id = "PropertyValueConflict"; break;
	case -EACCES:
		*status = 401, *id = "NoValidSession"; break;
	case -ENOENT:
		*status = 404, *id = "ResourceNotFound"; break;
	case -EBUSY: case -EPERM:
		*status = 409, *id = "ResourceInUse"; break;
	case -EEXIST:
		*status = 409, *id = "ResourceAlreadyExists"; break;
	case -EAGAIN:
		*status = 503, *id = "ServiceTemporarilyUnavailable"; break;
	case -EUSERS:
		*status = 503, *id = "SessionLimitExceeded"; break;
	default:
		*status = 500, *id = "InternalError"; break;
	}
}

void api_error_from(struct api_response *res, const struct dhp_error *err)
{
	unsigned status;
	const char *id;

	status_of(err->code, &status, &id);
	if (status == 503)
		api_header(res, "Retry-After", "5");
	set_error(res, status, id, err->resolution,
		  err->message[0] ? err->message : dhp_error_name(err->code));
}
