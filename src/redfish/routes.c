/* SPDX-License-Identifier: MIT */
/*
 * Routing: which handler answers a method and path, and whether the
 * caller may call it. The HTTP layer (http.c) has parsed and limited the
 * request; this file authenticates it, checks the route's privilege and
 * the service's state, calls the handler and adds the ETag.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

/*
 * Every resource file's route table. Adding a resource file is one line
 * here (its table is declared in api.h). Keep the NULL last. The order does
 * not matter: a method and path match at most one route.
 */
const struct api_route *const api_route_tables[] = {
	api_routes_root,
	api_routes_systems,
	api_routes_composition,
	api_routes_chassis,
	api_routes_tasks,
	api_routes_events,
	api_routes_sessions,
	api_routes_accounts,
	api_routes_console,
	NULL,
};

static const char *const method_names[API_METHOD_MAX] = {
	[API_GET] = "GET", [API_HEAD] = "HEAD", [API_POST] = "POST",
	[API_PATCH] = "PATCH", [API_PUT] = "PUT", [API_DELETE] = "DELETE",
};

int api_method_parse(const char *name, enum api_method *ret_method)
{
	for (unsigned i = 0; i < API_METHOD_MAX; i++)
		if (!strcmp(method_names[i], name)) {
			*ret_method = (enum api_method)i;
			return 0;
		}
	return -EINVAL;
}

struct match {
	const struct api_route *route;
	unsigned allowed;			/* 1 << method, of every route of the path */
	char buf[API_PATH_MAX];			/* the params, NUL-separated */
	const char *params[API_MAX_PARAMS];
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

			if (!n || m->n_params == API_MAX_PARAMS || used + n + 1 > sizeof(m->buf))
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
static void find_route(const char *path, enum api_method method, struct match *m)
{
	struct match tmp;

	m->route = NULL;
	m->allowed = 0;
	for (const struct api_route *const *t = api_route_tables; *t; t++)
		for (const struct api_route *r = *t; r->pattern; r++) {
			if (!match_route(r->pattern, path, &tmp))
				continue;
			m->allowed |= 1u << r->method;
			if (r->method == method ||
			    (method == API_HEAD && r->method == API_GET && !m->route)) {
				memcpy(m->buf, tmp.buf, sizeof(m->buf));
				for (unsigned i = 0; i < tmp.n_params; i++)	/* into m's buf */
					m->params[i] = m->buf + (tmp.params[i] - tmp.buf);
				m->n_params = tmp.n_params;
				m->route = r;
			}
		}
	if (m->allowed & (1u << API_GET))
		m->allowed |= 1u << API_HEAD;
}

static void method_not_allowed(struct api_response *res, unsigned allowed)
{
	char allow[64] = "";
	size_t pos = 0;

	for (unsigned i = 0; i < API_METHOD_MAX; i++) {
		if (!(allowed & (1u << i)) || pos >= sizeof(allow))
			continue;
		pos += (size_t)snprintf(allow + pos, sizeof(allow) - pos, "%s%s",
					pos ? ", " : "", method_names[i]);
	}
	api_error(res, 405, "OperationNotAllowed", NULL,
		  "the method is not allowed on this resource; allowed: %s", allow);
	api_header(res, "Allow", "%s", allow);
}

static bool refuse_unauthenticated(struct api *api, const struct api_credentials *cred,
				   struct auth_principal *who, struct api_response *res)
{
	struct dhp_error err = { 0 };

	if (!api_authenticate(api, cred, who, &err))
		return false;
	api_error(res, 401, "NoValidSession", NULL, "authentication needed: %s", err.message);
	api_header(res, "WWW-Authenticate", "Basic realm=\"dhp\"");
	return true;
}

static bool refuse_by_state(struct api *api, struct api_response *res)
{
	switch (api_get_state(api)) {
	case API_READY:
		return false;
	case API_RECOVERING:
		api_error(res, 503, "ServiceTemporarilyUnavailable", NULL,
			  "dhpd is recovering its state; retry in a few seconds");
		api_header(res, "Retry-After", "5");
		return true;
	case API_STOPPING:
	default:
		api_error(res, 503, "ServiceShuttingDown", NULL, "dhpd is stopping");
		return true;
	}
}

/* Single resources carry an ETag (docs/redfish.md); collections do not. */
static void add_etag(const struct api_request *req, struct api_response *res)
{
	char etag[64];

	if ((req->method != API_GET && req->method != API_HEAD) || res->status != 200 ||
	    !json_is_object(res->body) || json_object_get(res->body, "Members") ||
	    api_response_header(res, "ETag"))
		return;
	api_etag(res->body, etag, sizeof(etag));
	api_header(res, "ETag", "%s", etag);
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

void api_handle(struct api *api, struct api_request *req, const struct api_credentials *cred,
		struct api_response *res)
{
	struct auth_principal who = { .privileges = 0 };
	char path[API_PATH_MAX];
	struct match m;

	req->path = strip_slash(req->path, path, sizeof(path));
	find_route(req->path, req->method, &m);
	if (!m.route || m.route->privilege) {
		if (refuse_unauthenticated(api, cred, &who, res))
			return;
		req->who = &who;
	}
	if (!m.route) {
		if (m.allowed)
			method_not_allowed(res, m.allowed);
		else
			api_error(res, 404, "ResourceNotFound", NULL, "no resource at %s",
				  req->path);
		return;
	}
	if ((who.privileges & m.route->privilege) != m.route->privilege) {
		api_error(res, 403, "InsufficientPrivilege", NULL,
			  "the role %s may not do this", auth_role_name(who.role));
		return;
	}
	if (m.route->privilege && refuse_by_state(api, res))
		return;
	/* Valid while the handler runs: a handler that keeps a param copies it. */
	memcpy(req->params, m.params, sizeof(req->params));
	req->n_params = m.n_params;
	m.route->handler(api, req, res);
	req->who = NULL;
	if (!res->status) {
		api_error(res, 500, "InternalError", NULL, "the handler gave no answer");
		return;
	}
	add_etag(req, res);
}
