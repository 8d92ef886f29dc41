/* SPDX-License-Identifier: MIT */
/*
 * Redfish errors (docs/redfish.md, Base registry 1.22): a handler's
 * rf_error(), a dhp error (docs/errors.md) as an HTTP status and a Base
 * message, and what the HTTP server refused before any handler ran.
 */
#include "redfish/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BASE_PREFIX "Base.1.22."

void rf_ok(struct http_response *res, unsigned status, json_t *body)
{
	http_response_release(res);
	res->status = status ? status : 200;
	res->body = body;
}

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
	{ "PropertyValueFormatError", "Warning", "Correct the value for the property in the request body and resubmit the request if the operation failed." },
	{ "EventSubscriptionLimitExceeded", "Critical", "Reduce the number of other subscriptions before trying to establish the event subscription or increase the limit of simultaneous subscriptions, if supported." },
	{ "PropertyValueError", "Warning", "Correct the value for the property in the request body and resubmit the request if the operation failed." },
	{ "PropertyValueConflict", "Warning", NULL },
	{ "ActionParameterMissing", "Critical", "Supply the action with the required parameter in the request body when the request is resubmitted." },
	{ "ActionParameterUnknown", "Warning", "Correct the invalid action parameter and resubmit the request if the operation failed." },
	{ "ActionParameterValueError", "Warning", "Correct the value for the parameter in the request body and resubmit the request if the operation failed." },
	{ "ActionNotSupported", "Critical", "Check the Actions property in the resource for the supported actions." },
	{ "QueryParameterValueError", "Warning", "Correct the value for the query parameter in the request and resubmit the request if the operation failed." },
	{ "QueryParameterValueFormatError", "Warning", "Correct the value for the query parameter in the request and resubmit the request if the operation failed." },
	{ "QueryParameterOutOfRange", "Warning", "Reduce the value for the query parameter to a value that is within range, such as a start or count value that is within bounds of the number of resources in a collection or a page number that is within the range of valid pages." },
	{ "QueryNotSupported", "Warning", "Remove the query parameters and resubmit the request if the operation failed." },
	{ "QueryNotSupportedOnResource", "Warning", "Remove the query parameters and resubmit the request if the operation failed." },
	{ "QueryNotSupportedOnOperation", "Warning", "Remove the query parameters and resubmit the request if the operation failed." },
	{ "QueryCombinationInvalid", "Warning", "Remove one or more of the query parameters and resubmit the request if the operation failed." },
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

static void set_error(struct http_response *res, unsigned status, const char *id,
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
	rf_ok(res, status, json_pack("{s:{s:s, s:s, s:[o]}}", "error", "code", code,
				     "message", message, "@Message.ExtendedInfo", info));
}

void rf_error(struct http_response *res, unsigned status, const char *message_id,
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
	case -EAGAIN: case -EDQUOT:	/* storage-full: passes when space returns */
		*status = 503, *id = "ServiceTemporarilyUnavailable"; break;
	case -EUSERS:
		*status = 503, *id = "SessionLimitExceeded"; break;
	default:
		*status = 500, *id = "InternalError"; break;
	}
}

void rf_error_from(struct http_response *res, const struct dhp_error *err)
{
	unsigned status;
	const char *id;

	status_of(err->code, &status, &id);
	if (status == 503)
		http_header(res, "Retry-After", "5");
	set_error(res, status, id, err->resolution,
		  err->message[0] ? err->message : dhp_error_name(err->code));
}

/* The Base message of each refusal of the HTTP server (http.h). */
static const char *const refusal_ids[HTTP_REFUSE_MAX] = {
	[HTTP_REFUSE_QUERY] = "GeneralError",
	[HTTP_REFUSE_HEADERS] = "HeaderInvalid",
	[HTTP_REFUSE_BODY_SIZE] = "PayloadTooLarge",
	[HTTP_REFUSE_BODY_TYPE] = "MalformedJSON",
	[HTTP_REFUSE_PATH] = "ResourceNotFound",
	[HTTP_REFUSE_JSON] = "MalformedJSON",
	[HTTP_REFUSE_FRAMING] = "HeaderInvalid",
	[HTTP_REFUSE_HOST] = "HeaderInvalid",
	[HTTP_REFUSE_HOST_MISSING] = "HeaderMissing",
	[HTTP_REFUSE_URI] = "GeneralError",
	[HTTP_REFUSE_METHOD] = "GeneralError",
};

void rf_refuse(void *ctx, const struct http_refusal *why, struct http_response *res)
{
	const char *id = (unsigned)why->kind < HTTP_REFUSE_MAX ? refusal_ids[why->kind] : NULL;

	(void)ctx;
	set_error(res, why->status, id ? id : "GeneralError", why->hint, why->message);
}
