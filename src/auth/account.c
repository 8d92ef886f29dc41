/* SPDX-License-Identifier: MIT */
/*
 * The accounts: names, lookups and changes. Every change is written to the
 * accounts file first and adopted in memory only once the file holds it,
 * so a failed write changes nothing. No change may leave the service
 * without an enabled Administrator. Names are compared without regard to
 * case: "Admin" and "admin" are one account, so that nobody can make a
 * look-alike of another's name.
 */
#include "auth/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- names and lookups --------------------------------------------------- */

bool auth_user_valid(const char *user)
{
	size_t len = user ? strnlen(user, AUTH_USER_MAX) : 0;

	return len > 0 && len < AUTH_USER_MAX &&
	       strspn(user, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len &&
	       strchr("._-", user[0]) == NULL;
}

static int user_rule(const char *user, struct dhp_error *err)
{
	if (!auth_user_valid(user))
		return dhp_error_set(err, -EINVAL,
				     "bad user name \"%.*s\": 1 to %d of A-Z a-z 0-9 . _ -, starting with a letter or digit",
				     40, user ? user : "", AUTH_USER_MAX - 1);
	return 0;
}

struct auth_account *auth_account_lookup(const struct auth *auth, const char *user)
{
	for (size_t i = 0; user && i < auth->n_accounts; i++)
		if (!strcasecmp(auth->accounts[i].user, user))
			return &auth->accounts[i];
	return NULL;
}

static struct auth_account *lookup_or_fail(struct auth *auth, const char *user,
					   struct dhp_error *err)
{
	struct auth_account *a = auth_account_lookup(auth, user);

	if (!a)
		dhp_error_set(err, -ENOENT, "no account \"%.*s\"", 64, user ? user : "");
	return a;
}

static size_t enabled_admins(const struct auth *auth)
{
	size_t n = 0;

	for (size_t i = 0; i < auth->n_accounts; i++)
		n += auth->accounts[i].enabled && auth->accounts[i].role == AUTH_ROLE_ADMINISTRATOR;
	return n;
}

/* a is about to stop being an enabled Administrator. */
static int keep_an_admin(const struct auth *auth, const struct auth_account *a,
			 struct dhp_error *err)
{
	if (a->enabled && a->role == AUTH_ROLE_ADMINISTRATOR && enabled_admins(auth) == 1) {
		dhp_error_set(err, -EBUSY, "\"%s\" is the last enabled Administrator", a->user);
		dhp_error_resolve(err, "make another Administrator first");
		return -EBUSY;
	}
	return 0;
}

static int save(struct auth *auth, size_t skip, size_t n, struct dhp_error *err)
{
	return auth_file_save(auth->path, auth->accounts, n, skip, err);
}

/* --- accounts ------------------------------------------------------------ */

int auth_account_create(struct auth *auth, const char *user, const char *password,
			enum auth_role role, struct dhp_error *err)
{
	struct auth_account *a;
	int r = user_rule(user, err);

	if (!r)
		r = auth_password_rule(password, err);
	if (r)
		return r;
	if ((unsigned)role >= AUTH_ROLE_MAX)
		return dhp_error_set(err, -EINVAL, "bad role %d", (int)role);
	if (auth_account_lookup(auth, user))
		return dhp_error_set(err, -EEXIST, "an account \"%s\" exists already", user);
	if (auth->n_accounts >= AUTH_ACCOUNTS_MAX)
		return dhp_error_set(err, -EINVAL, "at most %u accounts", AUTH_ACCOUNTS_MAX);
	if (auth->n_accounts == auth->cap_accounts) {
		size_t cap = auth->cap_accounts ? 2 * auth->cap_accounts : 8;
		struct auth_account *v = realloc(auth->accounts, cap * sizeof(*v));

		if (!v)
			return dhp_error_set(err, -ENOMEM, "out of memory");
		auth->accounts = v;
		auth->cap_accounts = cap;
	}
	/* Built in the spare slot past the end: adopted by n_accounts++. */
	a = &auth->accounts[auth->n_accounts];
	memset(a, 0, sizeof(*a));
	snprintf(a->user, sizeof(a->user), "%s", user);
	a->role = role;
	a->enabled = true;
	a->iterations = auth->config.hash_iterations;
	r = auth_random(a->salt, sizeof(a->salt), err);
	if (!r)
		r = auth_hash_password(password, a->salt, a->iterations, a->hash, err);
	if (!r)
		r = save(auth, SIZE_MAX, auth->n_accounts + 1, err);
	if (r) {
		memset(a, 0, sizeof(*a));
		return r;
	}
	auth->n_accounts++;
	return 0;
}

int auth_account_delete(struct auth *auth, const char *user, struct dhp_error *err)
{
	struct auth_account *a = lookup_or_fail(auth, user, err);
	size_t i;
	int r;

	if (!a)
		return -ENOENT;
	r = keep_an_admin(auth, a, err);
	i = (size_t)(a - auth->accounts);
	if (!r)
		r = save(auth, i, auth->n_accounts, err);
	if (r)
		return r;
	auth_sessions_end_user(auth, a->user, NULL);
	auth_cache_drop_user(auth, a->user);
	auth_source_forgive_user(auth, a->user);
	memmove(a, a + 1, (auth->n_accounts - i - 1) * sizeof(*a));
	auth->n_accounts--;
	return 0;
}

/* Write the accounts with *a replaced by *changed; adopt it on success. */
static int change(struct auth *auth, struct auth_account *a, const struct auth_account *changed,
		  struct dhp_error *err)
{
	struct auth_account old = *a;
	int r;

	*a = *changed;
	r = save(auth, SIZE_MAX, auth->n_accounts, err);
	if (r)
		*a = old;
	memset(&old, 0, sizeof(old));
	return r;
}

int auth_account_set_password(struct auth *auth, const char *user, const char *password,
			      const char *keep_session, struct dhp_error *err)
{
	struct auth_account *a = lookup_or_fail(auth, user, err);
	struct auth_account next;
	int r;

	if (!a)
		return -ENOENT;
	r = auth_password_rule(password, err);
	if (r)
		return r;
	next = *a;
	next.iterations = auth->config.hash_iterations;
	r = auth_random(next.salt, sizeof(next.salt), err);
	if (!r)
		r = auth_hash_password(password, next.salt, next.iterations, next.hash, err);
	if (!r)
		r = change(auth, a, &next, err);
	memset(&next, 0, sizeof(next));
	if (r)
		return r;
	/* Whoever held the old password holds no session on it now (the one
	 * that made the change stays: it has just proved who it is). */
	auth_sessions_end_user(auth, a->user, keep_session);
	auth_cache_drop_user(auth, a->user);
	auth_source_forgive_user(auth, a->user);
	return 0;
}

int auth_account_set_role(struct auth *auth, const char *user, enum auth_role role,
			  struct dhp_error *err)
{
	struct auth_account *a = lookup_or_fail(auth, user, err);
	struct auth_account next;
	int r;

	if (!a)
		return -ENOENT;
	if ((unsigned)role >= AUTH_ROLE_MAX)
		return dhp_error_set(err, -EINVAL, "bad role %d", (int)role);
	if (a->role == role)
		return 0;
	r = keep_an_admin(auth, a, err);
	if (r)
		return r;
	next = *a;
	next.role = role;
	/* Sessions look their account up on every check: they follow. */
	return change(auth, a, &next, err);
}

int auth_account_set_enabled(struct auth *auth, const char *user, bool enabled,
			     struct dhp_error *err)
{
	struct auth_account *a = lookup_or_fail(auth, user, err);
	struct auth_account next;
	int r = 0;

	if (!a)
		return -ENOENT;
	if (a->enabled == enabled)
		return 0;
	if (!enabled)
		r = keep_an_admin(auth, a, err);
	if (r)
		return r;
	next = *a;
	next.enabled = enabled;
	r = change(auth, a, &next, err);
	if (!r && !enabled) {
		auth_sessions_end_user(auth, a->user, NULL);
		auth_cache_drop_user(auth, a->user);
	}
	return r;
}

size_t auth_account_count(const struct auth *auth)
{
	return auth->n_accounts;
}

static void fill_info(const struct auth *auth, const struct auth_account *a, uint64_t now,
		      struct auth_account_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->user, sizeof(ret->user), "%s", a->user);
	ret->role = a->role;
	ret->enabled = a->enabled;
	ret->locked = auth_source_blocks_user(auth, a->user, now);
}

int auth_account_get(const struct auth *auth, size_t i, uint64_t now,
		     struct auth_account_info *ret_info)
{
	if (i >= auth->n_accounts)
		return -ENOENT;
	fill_info(auth, &auth->accounts[i], now, ret_info);
	return 0;
}

int auth_account_find(const struct auth *auth, const char *user, uint64_t now,
		      struct auth_account_info *ret_info)
{
	const struct auth_account *a = auth_account_lookup(auth, user);

	if (!a)
		return -ENOENT;
	fill_info(auth, a, now, ret_info);
	return 0;
}
