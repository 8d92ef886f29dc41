/* SPDX-License-Identifier: MIT */
/*
 * Sessions, in memory only. A token is 32 random bytes shown as 64 hex
 * digits; only its SHA-256 is kept and a presented token is compared with
 * each session's in constant time. A session expires when idle for the
 * session timeout; it follows its account (role changes apply at once;
 * deleting or disabling the account, or a new password, ends it).
 *
 * Two limits: max_sessions_per_user, so that one account (a ReadOnly one,
 * say) cannot fill the table; and max_sessions, at which a new login is
 * refused, except an Administrator's: that ends the least recently used
 * session of another role, so an administrator can always get in.
 */
#include "auth/internal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void drop(struct auth *auth, size_t i)
{
	struct auth_session *s = auth->sessions;

	memmove(&s[i], &s[i + 1], (auth->n_sessions - i - 1) * sizeof(*s));
	auth->n_sessions--;
	memset(&s[auth->n_sessions], 0, sizeof(*s));
}

static bool idle(const struct auth *auth, const struct auth_session *s, uint64_t now)
{
	return now >= s->last_used && now - s->last_used >= auth->config.session_timeout_s;
}

unsigned auth_sessions_expire(struct auth *auth, uint64_t now)
{
	unsigned n = 0;

	for (size_t i = auth->n_sessions; i-- > 0;)
		if (idle(auth, &auth->sessions[i], now)) {
			drop(auth, i);
			n++;
		}
	return n;
}

void auth_sessions_end_user(struct auth *auth, const char *user, const char *keep)
{
	for (size_t i = auth->n_sessions; i-- > 0;)
		if (!strcmp(auth->sessions[i].user, user) &&
		    !(keep && !strcmp(auth->sessions[i].id, keep)))
			drop(auth, i);
}

static struct auth_session *find_id(const struct auth *auth, const char *id)
{
	for (size_t i = 0; id && i < auth->n_sessions; i++)
		if (!strcmp(auth->sessions[i].id, id))
			return &auth->sessions[i];
	return NULL;
}

static int hash_token(const char *token, uint8_t *out)
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, token, AUTH_TOKEN_LEN, out) < 0 ? -EIO : 0;
}

static unsigned sessions_of(const struct auth *auth, const char *user)
{
	unsigned n = 0;

	for (size_t i = 0; i < auth->n_sessions; i++)
		n += !strcmp(auth->sessions[i].user, user);
	return n;
}

/* The least recently used session whose account is not an Administrator
 * (or is gone), to make room for an Administrator; -EUSERS if none. */
static int make_room_for_admin(struct auth *auth)
{
	size_t victim = SIZE_MAX;

	for (size_t i = 0; i < auth->n_sessions; i++) {
		const struct auth_account *a = auth_account_lookup(auth, auth->sessions[i].user);

		if (a && a->role == AUTH_ROLE_ADMINISTRATOR)
			continue;
		if (victim == SIZE_MAX ||
		    auth->sessions[i].last_used < auth->sessions[victim].last_used)
			victim = i;
	}
	if (victim == SIZE_MAX)
		return -EUSERS;
	drop(auth, victim);
	return 0;
}

/* A fresh slot past the end of the table for who, with a new id; -EUSERS
 * when a limit says no. */
static int new_slot(struct auth *auth, const struct auth_principal *who,
		    struct auth_session **ret_slot, struct dhp_error *err)
{
	struct auth_session *s;
	uint8_t raw[4];
	int r;

	if (sessions_of(auth, who->user) >= auth->config.max_sessions_per_user) {
		dhp_error_set(err, -EUSERS, "\"%s\" has %u sessions already, the most dhp allows one user",
			      who->user, auth->config.max_sessions_per_user);
		dhp_error_resolve(err, "log out of one of them (DELETE its session), or wait for idle ones to expire");
		return -EUSERS;
	}
	if (auth->n_sessions >= auth->config.max_sessions &&
	    (who->role != AUTH_ROLE_ADMINISTRATOR || make_room_for_admin(auth))) {
		dhp_error_set(err, -EUSERS, "there are %u sessions already, the most dhp allows",
			      auth->config.max_sessions);
		dhp_error_resolve(err, "log out of a session, or wait for idle ones to expire");
		return -EUSERS;
	}
	if (auth->n_sessions == auth->cap_sessions) {
		size_t cap = auth->cap_sessions ? 2 * auth->cap_sessions : 8;

		if (cap > auth->config.max_sessions)
			cap = auth->config.max_sessions;
		s = realloc(auth->sessions, cap * sizeof(*s));
		if (!s)
			return dhp_error_set(err, -ENOMEM, "out of memory");
		auth->sessions = s;
		auth->cap_sessions = cap;
	}
	s = &auth->sessions[auth->n_sessions];
	memset(s, 0, sizeof(*s));
	do {
		r = auth_random(raw, sizeof(raw), err);
		if (r)
			return r;
		auth_hex(raw, sizeof(raw), s->id);
	} while (find_id(auth, s->id));	/* looks at the live ones only */
	*ret_slot = s;
	return 0;
}

int auth_session_create(struct auth *auth, const char *source, const char *user,
			const char *password, uint64_t now, struct auth_principal *ret_who,
			char *token, struct dhp_error *err)
{
	struct auth_principal who;
	uint8_t raw[AUTH_TOKEN_BYTES];
	char text[AUTH_TOKEN_LEN + 1];
	struct auth_session *s = NULL;
	int r;

	if (!token)
		return dhp_error_set(err, -EINVAL, "no room for the token");
	auth_sessions_expire(auth, now);
	r = auth_check_password(auth, source, user, password, now, &who, err);
	if (r)
		return r;
	r = new_slot(auth, &who, &s, err);
	if (r)
		return r;
	r = auth_random(raw, sizeof(raw), err);
	if (!r) {
		auth_hex(raw, sizeof(raw), text);
		r = hash_token(text, s->token_hash);
		if (r)
			dhp_error_set(err, r, "hashing the session token failed");
	}
	memset(raw, 0, sizeof(raw));
	if (r) {
		memset(text, 0, sizeof(text));
		return r;
	}
	snprintf(s->user, sizeof(s->user), "%s", who.user);
	s->created = s->last_used = now;
	auth->n_sessions++;
	snprintf(who.session_id, sizeof(who.session_id), "%s", s->id);
	memcpy(token, text, sizeof(text));
	memset(text, 0, sizeof(text));
	if (ret_who)
		*ret_who = who;
	return 0;
}

int auth_session_check(struct auth *auth, const char *token, uint64_t now,
		       struct auth_principal *ret_who)
{
	uint8_t hash[AUTH_HASH_LEN];
	const struct auth_account *a;
	struct auth_session *s;
	size_t found = SIZE_MAX;

	if (!token || strnlen(token, AUTH_TOKEN_LEN + 1) != AUTH_TOKEN_LEN || hash_token(token, hash))
		return -EACCES;
	/* Every session is compared, all the way: no early exit. */
	for (size_t i = 0; i < auth->n_sessions; i++)
		if (auth_equal(hash, auth->sessions[i].token_hash, sizeof(hash)))
			found = i;
	if (found == SIZE_MAX)
		return -EACCES;
	s = &auth->sessions[found];
	a = auth_account_lookup(auth, s->user);
	if (idle(auth, s, now) || !a || !a->enabled) {
		drop(auth, found);
		return -EACCES;
	}
	if (now > s->last_used)
		s->last_used = now;
	if (ret_who) {
		memset(ret_who, 0, sizeof(*ret_who));
		snprintf(ret_who->user, sizeof(ret_who->user), "%s", a->user);
		ret_who->role = a->role;
		ret_who->privileges = auth_role_privileges(a->role);
		snprintf(ret_who->session_id, sizeof(ret_who->session_id), "%s", s->id);
	}
	return 0;
}

int auth_session_delete(struct auth *auth, const char *session_id)
{
	struct auth_session *s = find_id(auth, session_id);

	if (!s)
		return -ENOENT;
	drop(auth, (size_t)(s - auth->sessions));
	return 0;
}

int auth_session_get(const struct auth *auth, size_t i, struct auth_session_info *ret_info)
{
	const struct auth_session *s;

	if (i >= auth->n_sessions)
		return -ENOENT;
	s = &auth->sessions[i];
	memset(ret_info, 0, sizeof(*ret_info));
	snprintf(ret_info->id, sizeof(ret_info->id), "%s", s->id);
	snprintf(ret_info->user, sizeof(ret_info->user), "%s", s->user);
	ret_info->created = s->created;
	return 0;
}

size_t auth_session_count(const struct auth *auth)
{
	return auth->n_sessions;
}
