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
 *                    checking a password
 *   throttle.c       failed logins per source address: blocks and their
 *                    growing penalty
 *   basic.c          Basic credentials: the header's decoding, the cache
 *                    of recently verified ones
 *   session.c        sessions: tokens, idle expiry, the limits
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
#define AUTH_SOURCES_MAX 1024u	/* source records; the stalest is reused */
#define AUTH_PENALTY_SHIFT_MAX 4	/* a block lasts up to 16 lockout durations */
#define AUTH_CACHE_MAX	64u	/* verified Basic credentials kept */
#define AUTH_CACHE_TTL_S 60	/* and for how long after their check */

struct auth_account {
	char user[AUTH_USER_MAX];
	enum auth_role role;
	bool enabled;
	uint8_t salt[AUTH_SALT_LEN];
	uint8_t hash[AUTH_HASH_LEN];
	unsigned iterations;
};

/* Failed logins from one address (in memory only: a restart forgets). */
struct auth_source {
	char addr[AUTH_SOURCE_MAX];	/* "" : unknown */
	char last_user[AUTH_USER_MAX];	/* as the client typed it */
	unsigned failures;		/* since the last block, forgotten when idle */
	unsigned strikes;		/* blocks so far: each one twice as long */
	uint64_t last_failure;
	uint64_t blocked_until;		/* blocked while now < blocked_until */
};

/* A Basic user and password that verified: a keyed hash, never the text. */
struct auth_cached {
	char user[AUTH_USER_MAX];	/* the account's own spelling; "" : free */
	uint8_t mac[AUTH_HASH_LEN];	/* HMAC-SHA256(cache_key, user NUL password) */
	uint64_t expires;
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
	struct auth_source *sources;	/* AUTH_SOURCES_MAX of them */
	size_t n_sources;
	struct auth_cached cache[AUTH_CACHE_MAX];
	uint8_t cache_key[AUTH_HASH_LEN];	/* random, made at start-up */
	uint64_t hashed;		/* PBKDF2 rounds checks ran: tests compare costs */
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

/* --- throttle.c ---------------------------------------------------------- */

/* -EAGAIN (err says for how long) while source is blocked. */
int auth_source_check(const struct auth *auth, const char *source, uint64_t now,
		      struct dhp_error *err);
/* A failed check from source naming user: the threshold-th blocks it. */
void auth_source_failed(struct auth *auth, const char *source, const char *user, uint64_t now);
/* Is a source blocked after failing on user? */
bool auth_source_blocks_user(const struct auth *auth, const char *user, uint64_t now);
/* Lift the blocks of the sources whose last failure named user. */
void auth_source_forgive_user(struct auth *auth, const char *user);

/* --- basic.c ------------------------------------------------------------- */

/* Did account user verify with password in the last AUTH_CACHE_TTL_S? */
bool auth_cache_hit(struct auth *auth, const char *user, const char *password, uint64_t now);
void auth_cache_add(struct auth *auth, const char *user, const char *password, uint64_t now);
/* Forget user's entries (its password changed, or it is gone). */
void auth_cache_drop_user(struct auth *auth, const char *user);

/* --- session.c ----------------------------------------------------------- */

/* End every session of user but keep (NULL: none). */
void auth_sessions_end_user(struct auth *auth, const char *user, const char *keep);

#endif
