/* SPDX-License-Identifier: MIT */
/*
 * Roles and privileges, and the service's life: loading the
 * accounts file (or making an empty one) and freeing it all.
 */
#include "auth/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"

/* --- roles and privileges ------------------------------------------------ */

static const char *const role_names[AUTH_ROLE_MAX] = {
	[AUTH_ROLE_ADMINISTRATOR] = "Administrator",
	[AUTH_ROLE_OPERATOR] = "Operator",
	[AUTH_ROLE_READONLY] = "ReadOnly",
};

DHP_NAMES_DEFINE(auth_role, enum auth_role, role_names, AUTH_ROLE_MAX)

static const uint32_t role_privileges[AUTH_ROLE_MAX] = {
	[AUTH_ROLE_ADMINISTRATOR] = AUTH_PRIV_LOGIN | AUTH_PRIV_CONFIGURE_MANAGER |
				    AUTH_PRIV_CONFIGURE_USERS | AUTH_PRIV_CONFIGURE_COMPONENTS |
				    AUTH_PRIV_CONFIGURE_SELF,
	[AUTH_ROLE_OPERATOR] = AUTH_PRIV_LOGIN | AUTH_PRIV_CONFIGURE_COMPONENTS |
			       AUTH_PRIV_CONFIGURE_SELF,
	[AUTH_ROLE_READONLY] = AUTH_PRIV_LOGIN | AUTH_PRIV_CONFIGURE_SELF,
};

uint32_t auth_role_privileges(enum auth_role role)
{
	return (unsigned)role < AUTH_ROLE_MAX ? role_privileges[role] : 0;
}

/* In the order Redfish's Privileges schema lists them. */
static const struct {
	uint32_t bit;
	const char *name;
} privilege_names[] = {
	{ AUTH_PRIV_LOGIN, "Login" },
	{ AUTH_PRIV_CONFIGURE_MANAGER, "ConfigureManager" },
	{ AUTH_PRIV_CONFIGURE_USERS, "ConfigureUsers" },
	{ AUTH_PRIV_CONFIGURE_COMPONENTS, "ConfigureComponents" },
	{ AUTH_PRIV_CONFIGURE_SELF, "ConfigureSelf" },
};

unsigned auth_privilege_names(uint32_t mask, const char **names, unsigned max)
{
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(privilege_names) / sizeof(privilege_names[0]); i++)
		if ((mask & privilege_names[i].bit) && n < max)
			names[n++] = privilege_names[i].name;
	return n;
}

/* --- the service --------------------------------------------------------- */

static void fill_defaults(struct auth_config *c)
{
	if (!c->max_sessions)
		c->max_sessions = 64;
	if (!c->max_sessions_per_user)
		c->max_sessions_per_user = 16;
	if (!c->session_timeout_s)
		c->session_timeout_s = 1800;
	if (!c->lockout_threshold)
		c->lockout_threshold = 5;
	if (!c->lockout_duration_s)
		c->lockout_duration_s = 60;
	if (!c->hash_iterations)
		c->hash_iterations = 100000;
}

int auth_new(const struct auth_config *config, struct auth **ret_auth, struct dhp_error *err)
{
	struct auth *auth;
	int r;

	if (!config || !config->accounts_path || !*config->accounts_path || !ret_auth)
		return dhp_error_set(err, -EINVAL, "auth: no accounts file given");
	if (config->hash_iterations > AUTH_ITERATIONS_MAX)
		return dhp_error_set(err, -EINVAL, "auth: at most %u hash iterations",
				     AUTH_ITERATIONS_MAX);
	auth = calloc(1, sizeof(*auth));
	if (!auth)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	auth->config = *config;
	fill_defaults(&auth->config);
	auth->path = strdup(config->accounts_path);
	if (!auth->path) {
		r = dhp_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	auth->config.accounts_path = auth->path;
	auth->sources = calloc(AUTH_SOURCES_MAX, sizeof(*auth->sources));
	if (!auth->sources) {
		r = dhp_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	r = auth_random(auth->dummy_salt, sizeof(auth->dummy_salt), err);
	if (!r)
		r = auth_random(auth->dummy_hash, sizeof(auth->dummy_hash), err);
	if (!r)
		r = auth_random(auth->cache_key, sizeof(auth->cache_key), err);
	if (r)
		goto fail;
	r = auth_file_load(auth->path, &auth->accounts, &auth->n_accounts, err);
	if (r == -ENOENT)
		r = auth_file_save(auth->path, NULL, 0, SIZE_MAX, err);	/* new, empty */
	if (r)
		goto fail;
	auth->cap_accounts = auth->n_accounts;
	*ret_auth = auth;
	return 0;
fail:
	auth_free(auth);
	return r;
}

void auth_free(struct auth *auth)
{
	if (!auth)
		return;
	/* Nothing secret should linger in freed memory. */
	if (auth->accounts)
		memset(auth->accounts, 0, auth->cap_accounts * sizeof(*auth->accounts));
	if (auth->sessions)
		memset(auth->sessions, 0, auth->cap_sessions * sizeof(*auth->sessions));
	explicit_bzero(auth->cache, sizeof(auth->cache));
	explicit_bzero(auth->cache_key, sizeof(auth->cache_key));
	free(auth->accounts);
	free(auth->sessions);
	free(auth->sources);
	free(auth->path);
	free(auth);
}

void auth_get_config(const struct auth *auth, struct auth_config *ret_config)
{
	*ret_config = auth->config;
}
