/* SPDX-License-Identifier: MIT */
/*
 * Private to src/auth, the implementation of auth/auth.h, which is split by job:
 *
 *   auth.c           roles and privileges, the service's life
 *   account.c        names, lookups and the account changes (each one
 *                    written to the file before it is adopted in memory)
 *   file.c           the accounts file: reading and checking it, writing
 *                    it atomically
 *   password.c       hashing, random bytes, constant-time comparison,
 *                    checking a password and the lockout
 *   session.c        sessions: tokens, idle expiry, the limit
 *
 * docs/auth.md is the specification of the file and of the rules.
 */
#ifndef DHP_AUTH_INTERNAL_H
#define DHP_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "common/error.h"

#define AUTH_SALT_LEN	16	/* bytes of random salt per password */
#define AUTH_HASH_LEN	32	/* bytes of PBKDF2-HMAC-SHA256 output, and of SHA-256 */
#define AUTH_TOKEN_BYTES 32	/* random bytes of a session token */
#define AUTH_FILE_VERSION 1
#define AUTH_FILE_MAX	(1u << 20)	/* bytes; a larger accounts file is refused */
#define AUTH_ACCOUNTS_MAX 1024u
#define AUTH_ITERATIONS_MAX 10000000u

struct auth_account {
	char user[AUTH_USER_MAX];
	enum auth_role role;
	bool enabled;
	uint8_t salt[AUTH_SALT_LEN];
	uint8_t hash[AUTH_HASH_LEN];
	unsigned iterations;
	/* In memory only: a restart forgets failures and lockouts. */
	unsigned failures;		/* in a row */
	uint64_t locked_until;		/* locked while now < locked_until */
};

struct auth_session {
	char id[AUTH_SESSION_ID_MAX];
	char user[AUTH_USER_MAX];
	uint8_t token_hash[AUTH_HASH_LEN];	/* SHA-256 of the token's hex text */
	uint64_t created, last_used;
};

struct auth {
	struct auth_config config;	/* defaults filled in; accounts_path is path */
	char *path;
	struct auth_account *accounts;	/* in creation order */
	size_t n_accounts, cap_accounts;
	struct auth_session *sessions;	/* in creation order */
	size_t n_sessions, cap_sessions;
	/* Unknown users are hashed against these, so that they cost what a
	 * known user costs. */
	uint8_t dummy_salt[AUTH_SALT_LEN];
	uint8_t dummy_hash[AUTH_HASH_LEN];
};

/* --- account.c ---------------------------------------------------------- */

struct auth_account *auth_account_lookup(const struct auth *auth, const char *user);
/* The name rule of auth.h. */
bool auth_user_valid(const char *user);

/* --- file.c -------------------------------------------------------------- */

/*
 * Read and check the accounts file. -ENOENT when it does not exist (err
 * untouched), -EINVAL when it is malformed, -EIO when it cannot be read.
 * On success *ret_accounts (caller frees) holds *ret_n accounts.
 */
int auth_file_load(const char *path, struct auth_account **ret_accounts, size_t *ret_n,
		   struct dhp_error *err);
/*
 * Write accounts[0..n) except accounts[skip] (SIZE_MAX: none) to path,
 * mode 0600, with dhp_write_file_atomic (common/fs.h): -EIO when any step
 * fails; the file is then either the old or the new one.
 */
int auth_file_save(const char *path, const struct auth_account *accounts, size_t n,
		   size_t skip, struct dhp_error *err);

/* --- password.c ---------------------------------------------------------- */

/* Random bytes for keys (tokens, salts): -EIO if the generator fails. */
int auth_random(void *buf, size_t len, struct dhp_error *err);
/* PBKDF2-HMAC-SHA256 of password into out[AUTH_HASH_LEN]. */
int auth_hash_password(const char *password, const uint8_t *salt, unsigned iterations,
		       uint8_t *out, struct dhp_error *err);
/* Compare in time that depends only on len. */
bool auth_equal(const void *a, const void *b, size_t len);
/* len bytes as 2 * len lowercase hex digits and a NUL. */
void auth_hex(const uint8_t *bytes, size_t len, char *out);
/* Exactly 2 * len hex digits into bytes; false otherwise. */
bool auth_unhex(const char *text, uint8_t *bytes, size_t len);
/* -EINVAL unless 8..127 bytes. */
int auth_password_rule(const char *password, struct dhp_error *err);

/* --- session.c ----------------------------------------------------------- */

/* End every session of user. */
void auth_sessions_end_user(struct auth *auth, const char *user);

#endif
