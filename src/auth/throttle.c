/* SPDX-License-Identifier: MIT */
/*
 * Failed logins, counted per source address rather than per account, the
 * way OpenSSH's PerSourcePenalties does: lockout_threshold failures from
 * one address block that address (every user name, right password or
 * not) for lockout_duration_s, and each further block lasts twice as long,
 * up to 16 times. A blocked address is answered before any hashing, so
 * guessing costs dhpd nothing while it lasts.
 *
 * Why not lock the account: anyone who knows the name "admin" could keep
 * it locked from anywhere. An address can only block itself. The price is
 * that clients behind one address (NAT) share a record.
 */
#include "auth/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *addr_of(const char *source)
{
	return source ? source : "";
}

static struct auth_source *find(const struct auth *auth, const char *source)
{
	const char *addr = addr_of(source);

	for (size_t i = 0; i < auth->n_sources; i++)
		if (!strncmp(auth->sources[i].addr, addr, AUTH_SOURCE_MAX))
			return &auth->sources[i];
	return NULL;
}

static uint64_t penalty(const struct auth *auth, unsigned strikes)
{
	unsigned shift = strikes < AUTH_PENALTY_SHIFT_MAX ? strikes : AUTH_PENALTY_SHIFT_MAX;

	return (uint64_t)auth->config.lockout_duration_s << shift;
}

/* A record nobody has failed from for the longest block is forgotten. */
static bool stale(const struct auth *auth, const struct auth_source *s, uint64_t now)
{
	return now >= s->blocked_until &&
	       now - s->last_failure >= penalty(auth, AUTH_PENALTY_SHIFT_MAX);
}

/* source's record, made (or the stalest one reused) if it has none. */
static struct auth_source *get(struct auth *auth, const char *source, uint64_t now)
{
	struct auth_source *s = find(auth, source), *oldest = NULL;

	if (s)
		return s;
	if (auth->n_sources < AUTH_SOURCES_MAX) {
		s = &auth->sources[auth->n_sources++];
	} else {
		/* Full: an unblocked record first, then the block nearest its end. */
		for (size_t i = 0; i < auth->n_sources; i++) {
			struct auth_source *c = &auth->sources[i];
			bool c_free = now >= c->blocked_until;

			if (!oldest || (c_free && now < oldest->blocked_until) ||
			    (c_free == (now >= oldest->blocked_until) &&
			     (c_free ? c->last_failure < oldest->last_failure
				     : c->blocked_until < oldest->blocked_until)))
				oldest = c;
		}
		s = oldest;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->addr, sizeof(s->addr), "%s", addr_of(source));
	return s;
}

uint64_t auth_retry_after(const struct auth *auth, const char *source, uint64_t now)
{
	const struct auth_source *s = find(auth, source);

	return s && now < s->blocked_until ? s->blocked_until - now : 0;
}

int auth_source_check(const struct auth *auth, const char *source, uint64_t now,
		      struct dhp_error *err)
{
	const struct auth_source *s = find(auth, source);

	if (!s || now >= s->blocked_until)
		return 0;
	/* Not the account's state: the same answer whatever the user name. */
	dhp_error_set(err, -EAGAIN, "too many failed logins from this address; retry in %llu seconds",
		      (unsigned long long)(s->blocked_until - now));
	dhp_error_resolve(err, "wait, then log in with the right user name and password");
	return -EAGAIN;
}

void auth_source_failed(struct auth *auth, const char *source, const char *user, uint64_t now)
{
	struct auth_source *s = get(auth, source, now);

	if (stale(auth, s, now))
		s->strikes = 0;
	/* Failures spread out more than a block apart do not add up. */
	if (now - s->last_failure >= auth->config.lockout_duration_s)
		s->failures = 0;
	s->last_failure = now;
	snprintf(s->last_user, sizeof(s->last_user), "%.*s", AUTH_USER_MAX - 1, user ? user : "");
	if (++s->failures < auth->config.lockout_threshold)
		return;
	s->failures = 0;
	s->blocked_until = now + penalty(auth, s->strikes);
	s->strikes++;
}

bool auth_source_blocks_user(const struct auth *auth, const char *user, uint64_t now)
{
	for (size_t i = 0; user && i < auth->n_sources; i++)
		if (now < auth->sources[i].blocked_until &&
		    !strcasecmp(auth->sources[i].last_user, user))
			return true;
	return false;
}

void auth_source_forgive_user(struct auth *auth, const char *user)
{
	for (size_t i = 0; i < auth->n_sources; i++) {
		struct auth_source *s = &auth->sources[i];

		if (!strcasecmp(s->last_user, user)) {
			s->blocked_until = 0;
			s->failures = 0;
			s->strikes = 0;
		}
	}
}
