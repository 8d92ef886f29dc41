/* SPDX-License-Identifier: MIT */
/*
 * Routing: which handler answers a method and path, and whether the
 * caller may call it. The HTTP server (http/http.h) has parsed and limited
 * the request; this file authenticates it, checks the route's privilege
 * and the service's state, calls the handler and adds the ETag.
 */
#include "redfish/internal.h"

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

static void method_not_allowed(struct http_response *res, unsigned allowed)
{
	char allow[64] = "";
	size_t pos = 0;

	for (unsigned i = 0; i < HTTP_METHOD_MAX; i++) {
		if (!(allowed & (1u << i)) || pos >= sizeof(allow))
			continue;
		pos += (size_t)snprintf(allow + pos, sizeof(allow) - pos, "%s%s",
					pos ? ", " : "", http_method_name((enum http_method)i));
	}
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

/* Single resources carry an ETag (docs/redfish.md); collections do not. */
static void add_etag(const struct rf_request *req, struct http_response *res)
{
	char etag[64];

	if ((req->method != HTTP_GET && req->method != HTTP_HEAD) || res->status != 200 ||
	    !json_is_object(res->body) || json_object_get(res->body, "Members") ||
	    http_response_header(res, "ETag"))
		return;
	http_etag(res->body, etag, sizeof(etag));
	http_header(res, "ETag", "%s", etag);
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

void rf_handle(void *ctx, const struct http_request *http, struct http_response *res)
{
	struct redfish *rf = ctx;
	struct auth_principal who = { .privileges = 0 };
	struct rf_request req = {
		.method = http->method, .body = http->body, .if_match = http->if_match,
		.last_event_id = http->last_event_id, .range = http->range,
		.filter = http->filter, .source = http->peer,
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
	/* Valid while the handler runs: a handler that keeps a param copies it. */
	memcpy(req.params, m.params, sizeof(req.params));
	req.n_params = m.n_params;
	m.route->handler(rf, &req, res);
	if (!res->status) {
		rf_error(res, 500, "InternalError", NULL, "the handler gave no answer");
		return;
	}
	add_etag(&req, res);
}
