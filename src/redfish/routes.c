/* SPDX-License-Identifier: MIT */
/*
 * Routing: which handler answers a method and path, and whether the
 * caller may call it. The HTTP server (http/http.h) has parsed and limited
 * the request; this file authenticates it, checks the route's privilege,
 * the service's state, the OData version and the query (query.c), calls
 * the handler, and gives a GET's answer its query's shape and its
 * headers: ETag (and If-None-Match), Allow, Link.
 */
#include "redfish/internal.h"
#include "redfish/resources/resources.h"	/* rf_if_match */

#include <stdio.h>
#include <string.h>

/*
 * Every resource file's route table. Adding a resource file is one line
 * here (its table is declared in rf.h). Keep the NULL last. The order does
 * not matter: a method and path match at most one route.
 */
const struct rf_route *const rf_route_tables[] = {
	rf_routes_root,
	rf_routes_systems,
	rf_routes_composition,
	rf_routes_chassis,
	rf_routes_tasks,
	rf_routes_events,
	rf_routes_sessions,
	rf_routes_accounts,
	rf_routes_console,
	rf_routes_oem,
	NULL,
};

struct match {
	const struct rf_route *route;
	unsigned allowed;			/* 1 << method, of every route of the path */
	char buf[HTTP_PATH_MAX];		/* the params, NUL-separated */
	const char *params[RF_MAX_PARAMS];
	unsigned n_params;
};

/* path against pattern, segment by segment; "{}" takes one non-empty
 * segment into m's params. */
static bool match_route(const char *pattern, const char *path, struct match *m)
{
	size_t used = 0;

	m->n_params = 0;
	while (*pattern && *path) {
		if (!strncmp(pattern, "{}", 2)) {
			size_t n = strcspn(path, "/");

			if (!n || m->n_params == RF_MAX_PARAMS || used + n + 1 > sizeof(m->buf))
				return false;
			memcpy(m->buf + used, path, n);
			m->buf[used + n] = '\0';
			m->params[m->n_params++] = m->buf + used;
			used += n + 1;
			pattern += 2;
			path += n;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return !*pattern && !*path;
}

/* HEAD is served by the GET route unless a table has a HEAD route. */
static void find_route(const char *path, enum http_method method, struct match *m)
{
	struct match tmp;

	m->route = NULL;
	m->allowed = 0;
	for (const struct rf_route *const *t = rf_route_tables; *t; t++)
		for (const struct rf_route *r = *t; r->pattern; r++) {
			if (!match_route(r->pattern, path, &tmp))
				continue;
			m->allowed |= 1u << r->method;
			if (r->method == method ||
			    (method == HTTP_HEAD && r->method == HTTP_GET && !m->route)) {
				memcpy(m->buf, tmp.buf, sizeof(m->buf));
				for (unsigned i = 0; i < tmp.n_params; i++)	/* into m's buf */
					m->params[i] = m->buf + (tmp.params[i] - tmp.buf);
				m->n_params = tmp.n_params;
				m->route = r;
			}
		}
	if (m->allowed & (1u << HTTP_GET))
		m->allowed |= 1u << HTTP_HEAD;
}

/* "GET, HEAD, ..." of the methods in allowed (1 << method). */
static const char *allow_list(unsigned allowed, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < HTTP_METHOD_MAX; i++) {
		if (!(allowed & (1u << i)) || pos >= len)
			continue;
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "",
					http_method_name((enum http_method)i));
	}
	return buf;
}

static void method_not_allowed(struct http_response *res, unsigned allowed)
{
	char allow[64];

	allow_list(allowed, allow, sizeof(allow));
	rf_error(res, 405, "OperationNotAllowed", NULL,
		 "the method is not allowed on this resource; allowed: %s", allow);
	http_header(res, "Allow", "%s", allow);
}

void rf_throttled(struct redfish *rf, const char *source, const struct dhp_error *err,
		  struct http_response *res)
{
	uint64_t wait = auth_retry_after(rf_auth(rf), source, rf_now_s(rf));

	rf_error(res, 429, "ServiceTemporarilyUnavailable", err->resolution, "%s", err->message);
	http_header(res, "Retry-After", "%llu", (unsigned long long)(wait ? wait : 1));
}

static bool refuse_unauthenticated(struct redfish *rf, const struct http_request *cred,
				   struct auth_principal *who, struct http_response *res)
{
	struct dhp_error err = { 0 };
	int r = rf_authenticate(rf, cred, who, &err);

	if (!r)
		return false;
	if (r == -EAGAIN) {
		rf_throttled(rf, cred->peer, &err, res);
		return true;
	}
	rf_error(res, 401, "NoValidSession", NULL, "authentication needed: %s", err.message);
	http_header(res, "WWW-Authenticate", "Basic realm=\"dhp\"");
	return true;
}

static bool refuse_by_state(struct redfish *rf, struct http_response *res)
{
	switch (rf_state(rf)) {
	case REDFISH_READY:
		return false;
	case REDFISH_RECOVERING:
		rf_error(res, 503, "ServiceTemporarilyUnavailable", NULL,
			 "dhpd is recovering its state; retry in a few seconds");
		http_header(res, "Retry-After", "5");
		return true;
	case REDFISH_STOPPING:
	default:
		rf_error(res, 503, "ServiceShuttingDown", NULL, "dhpd is stopping");
		return true;
	}
}

/* DSP0266: a request for another OData version than 4.0 is refused. */
static bool refuse_odata_version(const char *version, struct http_response *res)
{
	if (!version || !strcmp(version, "4.0"))
		return false;
	rf_error(res, 412, "PreconditionFailed", "Send OData-Version: 4.0, or no OData-Version.",
		 "OData-Version %.32s is not supported: dhp speaks OData 4.0", version);
	return true;
}

/* Single resources carry an ETag (docs/redfish.md); collections do not.
 * The ETag is the resource's whatever a query made of its representation
 * (docs/redfish.md, "Query parameters"): so computed before the query
 * shapes the answer. "" when none. */
static void etag_of(const struct http_response *res, char *etag, size_t len)
{
	const char *set = http_response_header(res, "ETag");

	etag[0] = '\0';
	if (set)
		snprintf(etag, len, "%s", set);
	else if (json_is_object(res->body) && !json_object_get(res->body, "Members"))
		http_etag(res->body, etag, len);
}

/* If-None-Match: 304 with no body when a tag matches (weak comparison:
 * dhp's tags are weak). */
static bool not_modified(const struct rf_request *req, const char *etag,
			 struct http_response *res)
{
	if (!req->if_none_match || !*etag || !rf_if_match(req->if_none_match, etag))
		return false;
	http_response_release(res);
	res->status = 304;
	return true;
}

/* Link: the JSON schema of the answer's @odata.type, DMTF's published
 * one ("#Chassis.v1_28_0.Chassis" is Chassis.v1_28_0.json; an unversioned
 * "#ChassisCollection.ChassisCollection" ChassisCollection.json). */
static void add_described_by(struct http_response *res)
{
	const char *type = json_string_value(json_object_get(res->body, "@odata.type"));
	const char *last;

	if (!type || type[0] != '#' || !(last = strrchr(type, '.')) || last == type + 1)
		return;
	http_header(res, "Link", "<https://redfish.dmtf.org/schemas/v1/%.*s.json>; rel=describedby",
		    (int)(last - type - 1), type + 1);
}

/* What every GET and HEAD answer carries or becomes: only, the ETag,
 * the query's shaping, If-None-Match, Allow and Link. */
static void answer_get(struct redfish *rf, const struct rf_query *q, const struct rf_request *req,
		       unsigned allowed, struct http_response *res)
{
	char etag[64], allow[64];

	if (res->status >= 300)
		return;
	if (q->filter && !res->stream_open) {
		res->n_headers = 0;
		rf_error(res, 501, "QueryNotSupported", NULL, "Querying is not supported by the "
			 "implementation: $filter is supported on the event stream only.");
		return;
	}
	rf_query_only(rf, q, req, res);
	etag_of(res, etag, sizeof(etag));
	rf_query_apply(rf, q, req, res);
	if (res->status >= 300)
		return;
	if (*etag && !http_response_header(res, "ETag"))
		http_header(res, "ETag", "%s", etag);
	if (not_modified(req, etag, res))
		return;
	if (!http_response_header(res, "Allow"))
		http_header(res, "Allow", "%s", allow_list(allowed, allow, sizeof(allow)));
	if (res->status == 200)
		add_described_by(res);
}

/* "/redfish/v1/" is "/redfish/v1" (Redfish allows both). */
static const char *strip_slash(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);

	if (n < 2 || path[n - 1] != '/' || n > len)
		return path;
	memcpy(buf, path, n - 1);
	buf[n - 1] = '\0';
	return buf;
}

void rf_get(struct redfish *rf, const struct rf_request *outer, const char *path,
	    struct http_response *res)
{
	struct rf_request req = {
		.method = HTTP_GET, .who = outer->who, .source = outer->source,
	};
	uint32_t have = outer->who ? outer->who->privileges : 0;
	char buf[HTTP_PATH_MAX];
	struct match m;

	if (strlen(path) >= sizeof(buf)) {
		rf_error(res, 404, "ResourceNotFound", NULL, "no resource at %.100s...", path);
		return;
	}
	req.path = strip_slash(path, buf, sizeof(buf));
	find_route(req.path, HTTP_GET, &m);
	if (!m.route) {
		rf_error(res, 404, "ResourceNotFound", NULL, "no resource at %s", req.path);
		return;
	}
	if ((have & m.route->privilege) != m.route->privilege) {
		rf_error(res, 403, "InsufficientPrivilege", NULL, "the role may not read %s",
			 req.path);
		return;
	}
	memcpy(req.params, m.params, sizeof(req.params));
	req.n_params = m.n_params;
	m.route->handler(rf, &req, res);
}

/* Everything of rf_handle() once the caller may call the route. */
static void call_route(struct redfish *rf, const struct http_request *http, struct match *m,
		       struct rf_request *req, struct http_response *res)
{
	bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	struct auth_principal who = { .privileges = 0 };
	struct dhp_error err = { 0 };
	struct rf_query q;

	if (refuse_odata_version(http->odata_version, res) ||
	    rf_query_parse(&q, req->method, http->query, http->n_query, res) < 0)
		return;
	/* A route open to all (the service root) expands what the caller's
	 * credentials, if any, may read. */
	if (!req->who && (q.expand != RF_EXPAND_NONE || q.only) &&
	    (http->token || http->authorization) && !rf_authenticate(rf, http, &who, &err))
		req->who = &who;
	req->filter = q.filter;
	/* Valid while the handler runs: a handler that keeps a param copies it. */
	memcpy(req->params, m->params, sizeof(req->params));
	req->n_params = m->n_params;
	m->route->handler(rf, req, res);
	if (!res->status)
		rf_error(res, 500, "InternalError", NULL, "the handler gave no answer");
	else if (get)
		answer_get(rf, &q, req, m->allowed, res);
	rf_query_release(&q);
}

void rf_handle(void *ctx, const struct http_request *http, struct http_response *res)
{
	struct redfish *rf = ctx;
	struct auth_principal who = { .privileges = 0 };
	struct rf_request req = {
		.method = http->method, .body = http->body, .if_match = http->if_match,
		.if_none_match = http->if_none_match, .last_event_id = http->last_event_id,
		.range = http->range, .source = http->peer,
	};
	char path[HTTP_PATH_MAX];
	struct match m;

	req.path = strip_slash(http->path, path, sizeof(path));
	find_route(req.path, req.method, &m);
	if (!m.route || m.route->privilege) {
		if (refuse_unauthenticated(rf, http, &who, res))
			return;
		req.who = &who;
	}
	if (!m.route) {
		if (m.allowed)
			method_not_allowed(res, m.allowed);
		else
			rf_error(res, 404, "ResourceNotFound", NULL, "no resource at %s",
				 req.path);
		return;
	}
	if ((who.privileges & m.route->privilege) != m.route->privilege) {
		rf_error(res, 403, "InsufficientPrivilege", NULL,
			 "the role %s may not do this", auth_role_name(who.role));
		return;
	}
	if (m.route->privilege && refuse_by_state(rf, res))
		return;
	call_route(rf, http, &m, &req, res);
}
