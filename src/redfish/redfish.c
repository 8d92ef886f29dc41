/* SPDX-License-Identifier: MIT */
/*
 * The service object: its context for handlers, who is asking, and its
 * two faces: the engine's listener (events go to the SSE hub, sse.c, and
 * to push subscriptions, subs.c) and the HTTP server's handler (routes.c,
 * and errors.c for refusals).
 */
#include "redfish/internal.h"

#include "common/strindex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPIRE_EVERY_S 60u	/* dropping idle sessions is housekeeping */
#define CACHE_SLOTS 256u	/* rf_cached(): direct-mapped by the key's hash */
#define CACHE_KEY_MAX 96u

struct cache_slot {
	char key[CACHE_KEY_MAX];	/* kind, NUL, key */
	json_t *value;			/* NULL when empty */
};

struct redfish {
	struct redfish_config config;
	struct dhp_core *core;
	struct auth *auth;
	unsigned max_sse_clients;
	struct dhp_loop *loop;
	enum redfish_state state;
	struct rf_sse *events;
	struct rf_subs *subs;
	uint64_t expired_at;		/* rf_now_s of the last auth_sessions_expire */
	struct rf_reservation *reservations;	/* resources/reservations.c */
	uint64_t last_reservation;
	struct cache_slot cache[CACHE_SLOTS];	/* rf_cached() */
};

/* Every answer carries them (DSP0266: OData-Version on every response;
 * nothing of the service may be cached). */
static const struct http_header every_answer[] = {
	{ "OData-Version", "4.0" },
	{ "Cache-Control", "no-store" },
};

int redfish_new(const struct redfish_config *config, struct redfish **ret_rf,
		struct dhp_error *err)
{
	struct redfish *rf = calloc(1, sizeof(*rf));
	int r;

	if (!rf)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	rf->config = *config;
	rf->auth = config->auth;
	rf->loop = config->loop;
	rf->max_sse_clients = config->max_sse_clients;
	rf->state = REDFISH_RECOVERING;
	r = rf_sse_new(rf, &rf->events);
	if (!r)
		r = rf_subs_new(rf, &rf->subs);
	if (r < 0) {
		rf_sse_free(rf->events);
		free(rf);
		return dhp_error_set(err, r, "out of memory");
	}
	*ret_rf = rf;
	return 0;
}

void redfish_free(struct redfish *rf)
{
	if (!rf)
		return;
	rf_sse_free(rf->events);
	rf_subs_free(rf->subs);
	rf_reservations_free(rf);
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		json_decref(rf->cache[i].value);
	free(rf);
}

struct rf_reservation **rf_get_reservations(struct redfish *rf)
{
	return &rf->reservations;
}

uint64_t rf_new_reservation_id(struct redfish *rf)
{
	return ++rf->last_reservation;
}

static void on_event(void *ctx, const struct dhp_event *ev)
{
	struct redfish *rf = ctx;

	rf_sse_publish(rf->events, ev);
	rf_subs_publish(rf->subs, ev);
}

struct dhp_core_listener redfish_core_listener(struct redfish *rf)
{
	return (struct dhp_core_listener){ .event = on_event, .op_end = NULL, .ctx = rf };
}

void redfish_set_core(struct redfish *rf, struct dhp_core *core)
{
	struct dhp_error err = { 0 };

	rf->core = core;
	/* Everything in the store now is committed: the engine has not run
	 * yet. From here on the listener says what is. */
	if (!core)
		return;
	rf_sse_set_published(rf->events, dhp_store_last_event(dhp_core_store(core)));
	if (rf_subs_load(rf->subs, &err) < 0)
		rf_log(rf, "event subscriptions could not be read from the store: %s",
		       err.message);
}

struct http_handler redfish_http_handler(struct redfish *rf)
{
	return (struct http_handler){
		.handle = rf_handle, .refuse = rf_refuse, .ctx = rf,
		.headers = every_answer,
		.n_headers = sizeof(every_answer) / sizeof(every_answer[0]),
	};
}

void redfish_set_state(struct redfish *rf, enum redfish_state state) { rf->state = state; }
enum redfish_state rf_state(const struct redfish *rf) { return rf->state; }
struct dhp_core *rf_core(struct redfish *rf) { return rf->core; }
struct auth *rf_auth(struct redfish *rf) { return rf->auth; }
unsigned rf_max_sse_clients(const struct redfish *rf) { return rf->max_sse_clients; }
struct dhp_loop *rf_loop(struct redfish *rf) { return rf->loop; }
struct rf_sse *rf_get_sse(struct redfish *rf) { return rf->events; }
struct rf_subs *rf_get_subs(struct redfish *rf) { return rf->subs; }
const struct redfish_config *rf_config(const struct redfish *rf) { return &rf->config; }

void rf_log(struct redfish *rf, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!rf->config.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rf->config.log(rf->config.log_ctx, line);
}

uint64_t rf_now_s(struct redfish *rf)
{
	return dhp_loop_now(rf->loop) / 1000;
}

/* On requests rather than on a timer: a timer that never ends would keep
 * a test's loop from ever running dry. */
static void expire_sessions(struct redfish *rf)
{
	uint64_t now = rf_now_s(rf);

	if (now - rf->expired_at < EXPIRE_EVERY_S)
		return;
	rf->expired_at = now;
	auth_sessions_expire(rf->auth, now);
}

int rf_authenticate(struct redfish *rf, const struct http_request *cred,
		    struct auth_principal *ret_who, struct dhp_error *err)
{
	char user[AUTH_USER_MAX], password[AUTH_PASSWORD_MAX + 1];
	int r;

	expire_sessions(rf);
	if (cred->token) {
		if (auth_session_check(rf->auth, cred->token, rf_now_s(rf), ret_who) < 0)
			return dhp_error_set(err, -EACCES, "the session token is not valid");
		return 0;
	}
	if (!cred->authorization || strncasecmp(cred->authorization, "Basic ", 6))
		return dhp_error_set(err, -EACCES, "no credentials");
	/* Decoded by auth, not libmicrohttpd: a NUL must not cut the password. */
	if (auth_basic_parse(cred->authorization, user, password))
		return dhp_error_set(err, -EACCES, "wrong user name or password");
	r = auth_check_password(rf->auth, cred->peer, user, password, rf_now_s(rf), ret_who, err);
	explicit_bzero(password, sizeof(password));
	if (r == -EAGAIN)
		return r;	/* err says for how long */
	return r < 0 ? dhp_error_set(err, -EACCES, "wrong user name or password") : 0;
}

/*
 * A GET of a partition was a sixth slower once its body had grown its OEM
 * actions and its OS's capabilities: jansson allocates every value, and
 * these parts, the same for every GET of a partition (or of a profile),
 * were made again each time. Made once and shared instead. A key that
 * does not fit, or a slot taken by another key, is made afresh (and the
 * slot then keeps the newer): the cache only saves work.
 */
json_t *rf_cached(struct redfish *rf, const char *kind, const char *key,
		  json_t *(*make)(const char *key))
{
	size_t nk = strlen(kind) + 1, nkey = strlen(key) + 1;
	struct cache_slot *slot;
	json_t *value;

	if (nk + nkey > CACHE_KEY_MAX)
		return make(key);
	slot = &rf->cache[dhp_fnv1a(dhp_fnv1a(DHP_FNV_OFFSET, kind, nk), key, nkey) % CACHE_SLOTS];
	if (slot->value && !memcmp(slot->key, kind, nk) && !memcmp(slot->key + nk, key, nkey))
		return json_incref(slot->value);
	value = make(key);
	if (!value)
		return NULL;
	json_decref(slot->value);
	memcpy(slot->key, kind, nk);
	memcpy(slot->key + nk, key, nkey);
	slot->value = json_incref(value);
	return value;
}
