/* SPDX-License-Identifier: MIT */
/*
 * The JSON pieces every Redfish resource of dhp is made of, and the
 * answers the handlers share (a body, not found, an accepted operation).
 */
#include "redfish/resources/resources.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Longer than any URI dhp makes: names and unit ids are short. */
#define RF_URI_MAX 256

json_t *rf_link(const char *fmt, ...)
{
	char uri[RF_URI_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(uri, sizeof(uri), fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "@odata.id", uri);
}

json_t *rf_resource(const char *type, const char *id, const char *name, const char *fmt, ...)
{
	char uri[RF_URI_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(uri, sizeof(uri), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s, s:s, s:s}", "@odata.type", type, "@odata.id", uri,
			 "Id", id, "Name", name);
}

json_t *rf_collection(const char *type, const char *name, const char *fmt, ...)
{
	char uri[RF_URI_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(uri, sizeof(uri), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s, s:s, s:[], s:i}", "@odata.type", type, "@odata.id", uri,
			 "Name", name, "Members", "Members@odata.count", 0);
}

void rf_members_add(json_t *obj, const char *key, json_t *link)
{
	char count_key[64];
	json_t *members = json_object_get(obj, key);

	/* A link lost to memory shortage must not be counted. */
	if (!members || json_array_append_new(members, link) < 0)
		return;
	snprintf(count_key, sizeof(count_key), "%s@odata.count", key);
	json_object_set_new(obj, count_key, json_integer((json_int_t)json_array_size(members)));
}

json_t *rf_status(const char *state, const char *health)
{
	return json_pack("{s:s, s:s}", "State", state, "Health", health);
}

const char *rf_health(enum dhp_health health)
{
	switch (health) {
	case DHP_HEALTH_OK:
		return "OK";
	case DHP_HEALTH_DEGRADED:
		return "Warning";
	default:
		return "Critical";
	}
}

static int health_rank(const char *h)
{
	return !strcmp(h, "Critical") ? 2 : !strcmp(h, "Warning") ? 1 : 0;
}

const char *rf_health_worst(const char *a, const char *b)
{
	return health_rank(b) > health_rank(a) ? b : a;
}

void rf_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
}

json_t *rf_chassis_link(struct dhp_server *server)
{
	return rf_link(RF_CHASSIS "/%s", server->name);
}

json_t *rf_zone_link(struct dhp_server *server)
{
	return rf_link(RF_ZONES "/%s", server->name);
}

json_t *rf_collection_caps(struct dhp_server *server)
{
	return json_pack("{s:s, s:[{s:o, s:s, s:{s:o, s:[o]}}]}",
			 "@odata.type", RF_T_COLLCAPS,
			 "Capabilities",
			 "CapabilitiesObject", rf_link(RF_SYSTEMS_CAPS),
			 "UseCase", "ComputerSystemComposition",
			 "Links", "TargetCollection", rf_link(RF_SYSTEMS),
			 "RelatedItem", rf_zone_link(server));
}

void rf_send(struct http_response *res, unsigned status, json_t *body)
{
	if (!body) {
		rf_error(res, 500, "InternalError", "Retry the request.",
			 "The request failed due to an internal service error (out of memory).");
		return;
	}
	rf_ok(res, status, body);
}

void rf_not_found(struct http_response *res, const char *type, const char *name)
{
	rf_error(res, 404, "ResourceNotFound", "Check the URI: list the collection first.",
		 "The requested resource of type %s named '%s' was not found.", type, name);
}

void rf_not_allowed(struct http_response *res, const char *allow)
{
	http_header(res, "Allow", "%s", allow);
	rf_error(res, 405, "OperationNotAllowed", NULL,
		 "The HTTP method is not allowed on this resource.");
}

/* One entity tag of a list: trimmed, compared whole (weak tags included:
 * dhp's ETags are only ever compared for equality). */
static bool tag_equal(const char *p, size_t len, const char *etag)
{
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	return (len == 1 && *p == '*') || (len == strlen(etag) && !memcmp(p, etag, len));
}

bool rf_if_match(const char *header, const char *etag)
{
	const char *p = header;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (tag_equal(p, len, etag))
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

void rf_accepted(struct redfish *rf, struct http_response *res, uint64_t op_id)
{
	struct dhp_op op;

	if (rf_find_op(rf, op_id, &op) < 0) {
		rf_error(res, 500, "InternalError", NULL,
			 "Operation %llu was accepted but cannot be read back.",
			 (unsigned long long)op_id);
		return;
	}
	http_header(res, "Location", RF_MONITORS "/%llu", (unsigned long long)op_id);
	rf_send(res, 202, rf_task_json(rf, &op));
}

void rf_submit(struct redfish *rf, struct http_response *res, const struct dhp_request *req)
{
	struct dhp_error err = { 0 };
	uint64_t id;

	if (dhp_core_submit(rf_core(rf), req, &id, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	rf_accepted(rf, res, id);
}
