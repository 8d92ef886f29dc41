/* SPDX-License-Identifier: MIT */
/*
 * Accounts, roles, sessions: who may do what on the Redfish API.
 *
 * Accounts live in a JSON file in the state directory (mode 0600),
 * rewritten atomically (write + fsync + rename) on every change, with
 * passwords stored as PBKDF2-HMAC-SHA256 hashes with a random salt. Sessions
 * live in memory only (a restart logs everyone out) and expire when idle.
 * Repeated failed logins lock an account for a while.
 *
 * Times are passed in (seconds of a monotonic clock) so tests control them.
 * docs/auth.md describes the file, the roles and the rules.
 */
#ifndef DHP_AUTH_AUTH_H
#define DHP_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Redfish privileges (Privileges.v1 PrivilegeType). */
#define AUTH_PRIV_LOGIN			(1u << 0)
#define AUTH_PRIV_CONFIGURE_COMPONENTS	(1u << 1)	/* composition: partitions, units */
#define AUTH_PRIV_CONFIGURE_MANAGER	(1u << 2)	/* service settings */
#define AUTH_PRIV_CONFIGURE_USERS	(1u << 3)	/* accounts */
#define AUTH_PRIV_CONFIGURE_SELF	(1u << 4)	/* one's own password, sessions */

enum auth_role {
	AUTH_ROLE_ADMINISTRATOR,	/* every privilege */
	AUTH_ROLE_OPERATOR,		/* Login, ConfigureComponents, ConfigureSelf */
	AUTH_ROLE_READONLY,		/* Login, ConfigureSelf */
	AUTH_ROLE_MAX
};

const char *auth_role_name(enum auth_role role);	/* "Administrator", ... */
int auth_role_parse(const char *name, enum auth_role *ret_role);
uint32_t auth_role_privileges(enum auth_role role);
/* Redfish names of the privileges in mask, for the Roles resources:
 * fills names[] (up to max) and returns how many. */
unsigned auth_privilege_names(uint32_t mask, const char **names, unsigned max);

#define AUTH_USER_MAX 64
#define AUTH_TOKEN_LEN 64	/* hex characters of a session token */
#define AUTH_SESSION_ID_MAX 24
#define AUTH_PASSWORD_MIN 8	/* bytes */
#define AUTH_PASSWORD_MAX 127
#define AUTH_SOURCE_MAX 64	/* bytes of a source address's text, with the NUL */

/* Who is making a request. */
struct auth_principal {
	char user[AUTH_USER_MAX];
	enum auth_role role;
	uint32_t privileges;
	char session_id[AUTH_SESSION_ID_MAX];	/* "" with Basic auth */
};

struct auth_config {
	const char *accounts_path;	/* the JSON file; created if missing */
	unsigned max_sessions;		/* 0: 64 */
	unsigned max_sessions_per_user;	/* 0: 16 */
	uint32_t session_timeout_s;	/* idle timeout; 0: 1800 */
	/* Failures from one source address before it is refused for a
	 * while (docs/auth.md, "Failed logins"); 0: 5 and 60 s. */
	unsigned lockout_threshold;
	uint32_t lockout_duration_s;
	unsigned hash_iterations;	/* PBKDF2; 0: 100000 (tests may lower it) */
};

struct auth;

/* Load (or create empty) the accounts file. Free with auth_free(). */
int auth_new(const struct auth_config *config, struct auth **ret_auth, struct dhp_error *err);
void auth_free(struct auth *auth);

/* The configuration in effect, defaults filled in (accounts_path is
 * auth's own copy, valid until auth_free). */
void auth_get_config(const struct auth *auth, struct auth_config *ret_config);

/*
 * Accounts. Names: 1..63 of [A-Za-z0-9._-], starting with a letter or a
 * digit (names are URI segments: no "." or ".."); passwords: 8..127 bytes.
 * -EINVAL bad input, -EEXIST, -ENOENT, -EIO when the file cannot be written
 * (nothing changes then), -EBUSY when the change would leave no enabled
 * Administrator (deleting, demoting or disabling the last one). Names are
 * compared without regard to case ("Admin" is "admin"). Deleting or
 * disabling an account ends its sessions; setting a password ends them too,
 * except keep_session (the session that made the change; NULL: none), and
 * lifts the blocks of the sources that failed on the account.
 */
int auth_account_create(struct auth *auth, const char *user, const char *password,
			enum auth_role role, struct dhp_error *err);
int auth_account_delete(struct auth *auth, const char *user, struct dhp_error *err);
int auth_account_set_password(struct auth *auth, const char *user, const char *password,
			      const char *keep_session, struct dhp_error *err);
int auth_account_set_role(struct auth *auth, const char *user, enum auth_role role,
			  struct dhp_error *err);
int auth_account_set_enabled(struct auth *auth, const char *user, bool enabled,
			     struct dhp_error *err);
size_t auth_account_count(const struct auth *auth);

struct auth_account_info {
	char user[AUTH_USER_MAX];
	enum auth_role role;
	bool enabled;
	bool locked;		/* a source is blocked after failing on it */
};
/* The i-th account (in creation order); -ENOENT past the end. */
int auth_account_get(const struct auth *auth, size_t i, uint64_t now,
		     struct auth_account_info *ret_info);
int auth_account_find(const struct auth *auth, const char *user, uint64_t now,
		      struct auth_account_info *ret_info);

/*
 * Check a user and password (Basic auth, or logging in) presented from
 * source (the client's address as text; NULL or "": unknown, all such
 * share one record). -EACCES for every failure, whatever its cause (no
 * such user, wrong password, account disabled), with one message and the
 * same cost; a failure counts against source. -EAGAIN (err says for how
 * long) while source is blocked: nothing is hashed then.
 */
int auth_check_password(struct auth *auth, const char *source, const char *user,
			const char *password, uint64_t now, struct auth_principal *ret_who,
			struct dhp_error *err);
/* Seconds until source may try again (0: now), for Retry-After. */
uint64_t auth_retry_after(const struct auth *auth, const char *source, uint64_t now);

/*
 * The value of an Authorization header with the Basic scheme (RFC 7617)
 * into user (AUTH_USER_MAX bytes) and password (AUTH_PASSWORD_MAX + 1
 * bytes). -EINVAL when it is not Basic, not strict base64, longer than a
 * user and a password can be, has no ':', or holds a NUL byte (a password
 * is never cut short). Nothing is allocated.
 */
int auth_basic_parse(const char *header, char *ret_user, char *ret_password);

/*
 * Sessions. create: log in (as auth_check_password, from source) and make
 * a session; token (AUTH_TOKEN_LEN + 1 bytes) receives the secret for
 * X-Auth-Token. -EUSERS when the user has max_sessions_per_user already,
 * or when there are max_sessions and the user is not an Administrator (an
 * Administrator's login ends the least recently used session of another
 * role instead).
 */
int auth_session_create(struct auth *auth, const char *source, const char *user,
			const char *password, uint64_t now, struct auth_principal *ret_who,
			char *token, struct dhp_error *err);
/* A valid token: fills ret_who and renews the idle timer. -EACCES otherwise. */
int auth_session_check(struct auth *auth, const char *token, uint64_t now,
		       struct auth_principal *ret_who);
int auth_session_delete(struct auth *auth, const char *session_id);
/* Drop expired sessions; returns how many. */
unsigned auth_sessions_expire(struct auth *auth, uint64_t now);

struct auth_session_info {
	char id[AUTH_SESSION_ID_MAX];
	char user[AUTH_USER_MAX];
	uint64_t created;		/* same clock as now */
};
/* The i-th live session; -ENOENT past the end. */
int auth_session_get(const struct auth *auth, size_t i, struct auth_session_info *ret_info);
size_t auth_session_count(const struct auth *auth);

#endif
