/* SPDX-License-Identifier: MIT */
/*
 * An HTTP request as the Redfish service sees it, through authentication
 * and every handler (src/redfish: the router and its resources), on a
 * simulated server: the handler dhpd puts in its HTTP server
 * (redfish_http_handler()) is called directly with a struct http_request
 * made from the input, as src/http would make it, and without a socket.
 *
 * The input, fields separated by "\n" (the body is the rest):
 *   method       "GET", "POST", ... (anything else: HTTP_METHOD_MAX)
 *   credentials  "" none, "basic" the administrator's, "wrong" a wrong
 *                password, "token" a session's X-Auth-Token, anything
 *                else the Authorization header as sent
 *   path         already percent-decoded, as src/http hands it on
 *   If-Match     ("" for absent)
 *   query        decoded, "name=value&name&..." as src/http splits it
 *   Last-Event-ID ("" for absent)
 *   body         JSON; what is not a JSON object is refused (400) through
 *                the handler's refuse, as src/http does
 * The answer must have a status, and a JSON body src/http's serializer
 * writes. Event streams (SSE) need a real connection: paths naming one
 * are skipped. DHP_FUZZ_VERBOSE=1 prints each request's status.
 *
 * The service lives across inputs (one engine, store and accounts in a
 * temporary directory, removed at exit), so an input may find what an
 * earlier one made; a crash is replayed with the inputs before it when it
 * needs them. The virtual clock runs until the engine is idle after each
 * request. Thin on purpose: the parsing of the request line, headers and
 * query belongs to src/http (libmicrohttpd), whose entry points need a
 * connection.
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "backend/sim/sim.h"
#include "core/core.h"
#include "model/topology.h"
#include "redfish/redfish.h"
#include "core/store.h"

#define TOPOLOGY "topologies/demo"
#define PASSWORD "fuzz-password"
#define PASSWORD_BASIC "YWRtaW46ZnV6ei1wYXNzd29yZA=="	/* admin:fuzz-password */

static struct {
	char dir[64];
	struct dhp_loop *loop;
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_backend *backend;
	struct dhp_core *core;
	struct auth *auth;
	struct redfish *rf;
	struct http_handler handler;
	char token[AUTH_TOKEN_LEN + 1];
	bool recovered;
} s;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	redfish_free(s.rf);
	dhp_core_free(s.core);
	dhp_backend_free(s.backend);
	dhp_store_close(s.store);
	dhp_server_free(s.server);
	auth_free(s.auth);
	dhp_loop_free(s.loop);
	if (s.dir[0])
		nftw(s.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void recovered(void *ctx, int rc, const struct dhp_error *err)
{
	(void)ctx;
	(void)err;
	FUZZ_CHECK(rc == 0);
	s.recovered = true;
}

static void settle(void)
{
	for (unsigned turns = 0; turns < 100000 && dhp_loop_pending(s.loop); turns++) {
		if (s.recovered && dhp_core_idle(s.core) && turns > 0)
			break;
		dhp_loop_run_once(s.loop);
	}
}

static void die(const char *what, const struct dhp_error *err)
{
	fprintf(stderr, "redfish harness: %s: %s\n", what, err->message);
	abort();
}

static void setup(void)
{
	struct auth_config ac = { .hash_iterations = 1, .lockout_threshold = 1000000 };
	struct redfish_config rc = { .max_sse_clients = 4 };
	struct dhp_core_config cc = { 0 };
	struct auth_principal who;
	struct dhp_error err = { 0 };
	char path[128];

	snprintf(s.dir, sizeof(s.dir), "%s/dhp-fuzz-redfish-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s.dir))
		abort();
	atexit(teardown);
	if (!(s.loop = dhp_loop_new(true)))
		abort();
	if (dhp_topology_load(TOPOLOGY, &s.server, &err) < 0)
		die("topology (run from the top of the tree)", &err);
	snprintf(path, sizeof(path), "%s/state.db", s.dir);
	if (dhp_store_open(path, &s.store, &err) < 0)
		die("store", &err);
	snprintf(path, sizeof(path), "%s/sim-hw", s.dir);
	if (dhp_sim_new(s.server, s.loop, path, &s.backend, &err) < 0)
		die("sim", &err);
	snprintf(path, sizeof(path), "%s/accounts.json", s.dir);
	ac.accounts_path = path;
	if (auth_new(&ac, &s.auth, &err) < 0 ||
	    auth_account_create(s.auth, "admin", PASSWORD, AUTH_ROLE_ADMINISTRATOR, &err) < 0 ||
	    auth_account_create(s.auth, "op", PASSWORD, AUTH_ROLE_OPERATOR, &err) < 0)
		die("accounts", &err);
	rc.auth = s.auth;
	rc.loop = s.loop;
	if (redfish_new(&rc, &s.rf, &err) < 0)
		die("redfish", &err);
	cc = (struct dhp_core_config){ .server = s.server, .store = s.store, .backend = s.backend,
				       .loop = s.loop, .listener = redfish_core_listener(s.rf) };
	if (dhp_core_new(&cc, &s.core, &err) < 0)
		die("engine", &err);
	redfish_set_core(s.rf, s.core);
	FUZZ_CHECK(dhp_core_recover(s.core, recovered, NULL) == 0);
	settle();
	FUZZ_CHECK(s.recovered);
	redfish_set_state(s.rf, REDFISH_READY);
	/* In redfish's clock: seconds of the loop's (rf_now_s). */
	if (auth_session_create(s.auth, "127.0.0.1", "admin", PASSWORD,
				dhp_loop_now(s.loop) / 1000, &who, s.token, &err) < 0)
		die("session", &err);
	s.handler = redfish_http_handler(s.rf);
}

/* The next field (up to "\n") as a C string in buf; "" past the end. */
static const char *field(const uint8_t **p, const uint8_t *end, char *buf, size_t size)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);

	n = n < size - 1 ? n : size - 1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p = nl ? nl + 1 : end;
	return buf;
}

/* A query into its parameters, in place, as libmicrohttpd splits one. */
static unsigned split_query(char *query, struct http_query_param *params, unsigned max)
{
	unsigned n = 0;

	for (char *p = query; *p && n < max;) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		params[n++] = (struct http_query_param){ .name = p, .value = eq ? eq + 1 : NULL };
		if (!amp)
			break;
		p = amp + 1;
	}
	return n;
}

static enum http_method method_of(const char *name)
{
	for (unsigned m = 0; m < HTTP_METHOD_MAX; m++)
		if (!strcmp(name, http_method_name(m)))
			return m;
	return HTTP_METHOD_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char method[16], cred[256], path[HTTP_PATH_MAX + 8], if_match[256], query[512],
		    last_id[64];
	static struct http_query_param params[HTTP_MAX_QUERY_PARAMS];
	const uint8_t *p = data, *end = data + size;
	struct http_request req = { .peer = "127.0.0.1" };
	struct http_response res = { 0 };
	json_t *body = NULL;
	json_error_t jerr;

	if (!s.loop)
		setup();
	req.method = method_of(field(&p, end, method, sizeof(method)));
	field(&p, end, cred, sizeof(cred));
	req.path = field(&p, end, path, sizeof(path));
	req.if_match = field(&p, end, if_match, sizeof(if_match))[0] ? if_match : NULL;
	field(&p, end, query, sizeof(query));
	req.n_query = split_query(query, params, HTTP_MAX_QUERY_PARAMS);
	req.query = params;
	req.last_event_id = field(&p, end, last_id, sizeof(last_id))[0] ? last_id : NULL;
	if (strlen(path) >= HTTP_PATH_MAX || strcasestr(path, "sse"))
		return 0;	/* src/http's 404; a stream needs a connection */
	if (!strcmp(cred, "basic") || !strcmp(cred, "wrong")) {
		/* redfish decodes the header itself (auth_basic_parse). */
		req.user = "admin";
		req.password = cred[0] == 'b' ? PASSWORD : "wrong";
		req.authorization = cred[0] == 'b' ? "Basic " PASSWORD_BASIC : "Basic YWRtaW46d3Jvbmc=";
	} else if (!strcmp(cred, "token")) {
		req.token = s.token;
	} else if (cred[0]) {
		req.authorization = cred;
	}
	if (p < end) {
		body = json_loadb((const char *)p, (size_t)(end - p), JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(body)) {
			struct http_refusal why = { HTTP_REFUSE_JSON, 400, "not a JSON object", NULL };

			json_decref(body);
			s.handler.refuse(s.handler.ctx, &why, &res);
			FUZZ_CHECK(res.status == 400);
			http_response_release(&res);
			return 0;
		}
	}
	req.body = body;
	s.handler.handle(s.handler.ctx, &req, &res);
	FUZZ_CHECK(res.status >= 100 && res.status < 600);
	if (getenv("DHP_FUZZ_VERBOSE"))		/* what a seed reaches */
		fprintf(stderr, "%s %s: %u\n", method, path, res.status);
	FUZZ_CHECK(!res.stream_open);
	if (res.body) {
		struct http_buf buf = { 0 };

		FUZZ_CHECK(http_json_append(&buf, res.body) == 0);
		free(buf.data);
	}
	http_response_release(&res);
	json_decref(body);
	settle();
	return 0;
}
