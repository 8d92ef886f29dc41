/* SPDX-License-Identifier: MIT */
/*
 * The hardening of src/auth (docs/auth.md): a new password ends the
 * account's sessions; every failure looks and costs the same; failures
 * block their source address, never the account; a blocked source and a
 * recently verified Basic credential cost no PBKDF2; one user cannot fill
 * the session table; the Basic header is decoded without cutting at a
 * NUL; names ignore case. Costs are counted in PBKDF2 rounds (auth's
 * "hashed"), never timed.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/internal.h"

#define PW "correct horse"
#define T0 1000u

static char tmpdir[1024];
static char path[1200];

static struct auth_config config(void)
{
	return (struct auth_config){ .accounts_path = path, .hash_iterations = 1000,
				     .lockout_threshold = 3, .lockout_duration_s = 60,
				     .session_timeout_s = 600, .max_sessions = 6,
				     .max_sessions_per_user = 2 };
}

static struct auth *open_with(const struct auth_config *c)
{
	struct dhp_error err = { 0 };
	struct auth *auth = NULL;

	CHECK_INT(auth_new(c, &auth, &err), 0);
	CHECK_MSG(!err.code, "auth_new: %s", err.message);
	return auth;
}

static struct auth *fresh(void)
{
	struct auth_config c = config();
	struct auth *auth;

	unlink(path);
	auth = open_with(&c);
	if (!auth)
		return NULL;
	CHECK_INT(auth_account_create(auth, "root", PW, AUTH_ROLE_ADMINISTRATOR, NULL), 0);
	CHECK_INT(auth_account_create(auth, "op", PW "op", AUTH_ROLE_OPERATOR, NULL), 0);
	CHECK_INT(auth_account_create(auth, "viewer", PW "ro", AUTH_ROLE_READONLY, NULL), 0);
	return auth;
}

static int session(struct auth *auth, const char *src, const char *user, const char *pw,
		   char *token, struct auth_principal *who)
{
	return auth_session_create(auth, src, user, pw, T0, who, token, NULL);
}

/* --- 2: a new password ends the account's sessions ----------------------- */

static void password_change_ends_sessions(void)
{
	struct auth *auth = fresh();
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1], t3[AUTH_TOKEN_LEN + 1];
	struct auth_principal w1, w2;

	if (!auth)
		return;
	CHECK_INT(session(auth, "a", "op", PW "op", t1, &w1), 0);
	CHECK_INT(session(auth, "a", "op", PW "op", t2, &w2), 0);
	CHECK_INT(session(auth, "a", "root", PW, t3, NULL), 0);
	/* By op itself, from session 1: that one stays, the other ends. */
	CHECK_INT(auth_account_set_password(auth, "op", "new password 1", w1.session_id, NULL), 0);
	CHECK_INT(auth_session_check(auth, t1, T0 + 1, NULL), 0);
	CHECK_INT(auth_session_check(auth, t2, T0 + 1, NULL), -EACCES);
	/* By an administrator: all of op's end; root's are not touched. */
	CHECK_INT(auth_account_set_password(auth, "op", "new password 2", NULL, NULL), 0);
	CHECK_INT(auth_session_check(auth, t1, T0 + 1, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, t3, T0 + 1, NULL), 0);
	/* Another account's session id keeps nothing of op's. */
	CHECK_INT(session(auth, "a", "op", "new password 2", t1, NULL), 0);
	CHECK_INT(auth_account_set_password(auth, "op", "new password 3", w2.session_id, NULL), 0);
	CHECK_INT(auth_session_check(auth, t1, T0 + 1, NULL), -EACCES);
	auth_free(auth);
}

/* --- 3: one answer and one cost for every failure ------------------------ */

static void failures_look_alike(void)
{
	struct auth *auth = fresh();
	struct dhp_error e[4] = { { 0 } };

	if (!auth)
		return;
	CHECK_INT(auth_account_set_enabled(auth, "viewer", false, NULL), 0);
	/* After the threshold, from fresh sources: a real and an unknown user
	 * fail alike, and so do a disabled account's right password. */
	for (int i = 0; i < 3; i++) {
		CHECK_INT(auth_check_password(auth, "s1", "root", "wrong", T0, NULL, &e[0]), -EACCES);
		CHECK_INT(auth_check_password(auth, "s2", "nobody", "wrong", T0, NULL, &e[1]), -EACCES);
	}
	CHECK_INT(auth_check_password(auth, "s1", "root", "wrong", T0, NULL, &e[0]), -EAGAIN);
	CHECK_INT(auth_check_password(auth, "s2", "nobody", "wrong", T0, NULL, &e[1]), -EAGAIN);
	CHECK_STR(e[0].message, e[1].message);
	CHECK_INT(auth_check_password(auth, "s3", "viewer", PW "ro", T0, NULL, &e[2]), -EACCES);
	CHECK_INT(auth_check_password(auth, "s4", "root", "wrong", T0, NULL, &e[3]), -EACCES);
	CHECK_STR(e[2].message, e[3].message);
	CHECK(strstr(e[2].message, "disabled") == NULL);
	auth_free(auth);
}

/* An account hashed at a higher cost than configured (the setting was
 * lowered since): an unknown user, and a cheaper account, cost as much. */
static void unknown_user_pays_the_stored_cost(void)
{
	struct auth_config c = config();
	struct auth *auth;
	uint64_t before;

	c.hash_iterations = 5000;
	unlink(path);
	auth = open_with(&c);
	if (!auth)
		return;
	CHECK_INT(auth_account_create(auth, "root", PW, AUTH_ROLE_ADMINISTRATOR, NULL), 0);
	auth_free(auth);
	c.hash_iterations = 1000;	/* new passwords only */
	auth = open_with(&c);
	if (!auth)
		return;
	CHECK_INT(auth_account_create(auth, "cheap", PW, AUTH_ROLE_READONLY, NULL), 0);
	before = auth->hashed;
	CHECK_INT(auth_check_password(auth, "a", "root", "wrong", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth->hashed - before, 5000);
	before = auth->hashed;
	CHECK_INT(auth_check_password(auth, "b", "nobody", "wrong", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth->hashed - before, 5000);
	before = auth->hashed;
	CHECK_INT(auth_check_password(auth, "c", "cheap", "wrong", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth->hashed - before, 5000);
	auth_free(auth);
}

/* --- 4: nobody can lock the administrator out from elsewhere -------------- */

static void attacker_cannot_lock_admin(void)
{
	struct auth *auth = fresh();

	if (!auth)
		return;
	for (int i = 0; i < 50; i++)
		CHECK(auth_check_password(auth, "10.0.0.66", "root", "guess", T0 + (uint64_t)i,
					  NULL, NULL) < 0);
	CHECK_INT(auth_check_password(auth, "10.0.0.66", "root", PW, T0 + 50, NULL, NULL), -EAGAIN);
	CHECK_INT(auth_check_password(auth, "10.0.0.1", "root", PW, T0 + 50, NULL, NULL), 0);
	auth_free(auth);
}

/* --- 5: no PBKDF2 for a blocked source or a cached credential ------------ */

static void blocked_source_costs_nothing(void)
{
	struct auth *auth = fresh();
	uint64_t before;

	if (!auth)
		return;
	for (int i = 0; i < 3; i++)
		CHECK_INT(auth_check_password(auth, "x", "nobody", "guess", T0, NULL, NULL), -EACCES);
	before = auth->hashed;
	for (int i = 0; i < 100; i++)
		CHECK_INT(auth_check_password(auth, "x", "root", "guess", T0 + 1, NULL, NULL), -EAGAIN);
	CHECK_INT(auth->hashed - before, 0);
	auth_free(auth);
}

static void basic_cache(void)
{
	struct auth *auth = fresh();
	struct auth_principal who;
	uint64_t before;

	if (!auth)
		return;
	CHECK_INT(auth_check_password(auth, "a", "op", PW "op", T0, NULL, NULL), 0);
	before = auth->hashed;
	for (int i = 0; i < 10; i++)
		CHECK_INT(auth_check_password(auth, "a", "op", PW "op", T0 + 59, &who, NULL), 0);
	CHECK_INT(auth->hashed - before, 0);		/* hits */
	CHECK_STR(who.user, "op");
	CHECK_INT(who.role, AUTH_ROLE_OPERATOR);
	/* A wrong password is no hit; the TTL ends hits. */
	CHECK_INT(auth_check_password(auth, "b", "op", PW "o", T0 + 1, NULL, NULL), -EACCES);
	CHECK_INT(auth->hashed - before, 1000);
	CHECK_INT(auth_check_password(auth, "a", "op", PW "op", T0 + 60, NULL, NULL), 0);
	CHECK_INT(auth->hashed - before, 2000);
	/* A role change applies to hits at once; disabling ends them. */
	CHECK_INT(auth_account_set_role(auth, "op", AUTH_ROLE_READONLY, NULL), 0);
	CHECK_INT(auth_check_password(auth, "a", "op", PW "op", T0 + 61, &who, NULL), 0);
	CHECK_INT(who.role, AUTH_ROLE_READONLY);
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);
	CHECK_INT(auth_check_password(auth, "a", "op", PW "op", T0 + 61, NULL, NULL), -EACCES);
	CHECK_INT(auth_account_set_enabled(auth, "op", true, NULL), 0);
	/* A new password drops the cached old one. */
	CHECK_INT(auth_check_password(auth, "c", "op", PW "op", T0 + 62, NULL, NULL), 0);
	CHECK_INT(auth_account_set_password(auth, "op", "other password", NULL, NULL), 0);
	CHECK_INT(auth_check_password(auth, "c", "op", PW "op", T0 + 62, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "c", "op", "other password", T0 + 62, NULL, NULL), 0);
	auth_free(auth);
}

/* --- 6: one user cannot fill the table; an administrator gets in ---------- */

static void session_limits(void)
{
	struct auth *auth = fresh();
	char t[AUTH_TOKEN_LEN + 1], admin[AUTH_TOKEN_LEN + 1];
	struct dhp_error err = { 0 };

	if (!auth)
		return;
	CHECK_INT(auth_account_create(auth, "ro2", PW "ro2", AUTH_ROLE_READONLY, NULL), 0);
	CHECK_INT(session(auth, "a", "viewer", PW "ro", t, NULL), 0);
	CHECK_INT(session(auth, "a", "viewer", PW "ro", t, NULL), 0);
	CHECK_INT(auth_session_create(auth, "a", "viewer", PW "ro", T0, NULL, t, &err), -EUSERS);
	CHECK(strstr(err.message, "\"viewer\" has 2 sessions") != NULL);
	/* Fill the table (6) with other roles' sessions. */
	CHECK_INT(session(auth, "a", "op", PW "op", t, NULL), 0);
	CHECK_INT(session(auth, "a", "op", PW "op", t, NULL), 0);
	CHECK_INT(session(auth, "a", "ro2", PW "ro2", t, NULL), 0);
	CHECK_INT(auth_session_create(auth, "a", "ro2", PW "ro2", T0 + 1, NULL, t, NULL), 0);
	CHECK_INT(auth_session_count(auth), 6);
	CHECK_INT(auth_session_create(auth, "a", "ro2", PW "ro2", T0 + 2, NULL, t, NULL), -EUSERS);
	/* The administrator gets in: the least recently used other one goes. */
	CHECK_INT(session(auth, "a", "root", PW, admin, NULL), 0);
	CHECK_INT(auth_session_count(auth), 6);
	CHECK_INT(session(auth, "a", "root", PW, admin, NULL), 0);
	CHECK_INT(auth_session_check(auth, t, T0 + 3, NULL), 0);	/* the newest stays */
	CHECK_INT(session(auth, "a", "root", PW, admin, NULL), -EUSERS);	/* its own cap */
	auth_free(auth);
}

/* --- 13: the Basic header, and names that ignore case ------------------- */

static int parse(const char *h, char *user, char *pw)
{
	return auth_basic_parse(h, user, pw);
}

static void basic_header(void)
{
	char user[AUTH_USER_MAX], pw[AUTH_PASSWORD_MAX + 1], h[512];
	char long_pw[AUTH_PASSWORD_MAX + 8];

	CHECK_INT(parse("Basic cm9vdDpjb3JyZWN0IGhvcnNl", user, pw), 0);	/* root:correct horse */
	CHECK_STR(user, "root");
	CHECK_STR(pw, PW);
	CHECK_INT(parse("basic   cm9vdDpjb3JyZWN0IGhvcnNl  ", user, pw), 0);
	CHECK_INT(parse("Basic cm9vdDo=", user, pw), 0);	/* root: (empty) */
	CHECK_STR(pw, "");
	CHECK_INT(parse("Basic YTpiYw==", user, pw), 0);	/* a:bc */
	CHECK_STR(pw, "bc");
	/* "root:correct\0horse": refused, never "correct". */
	CHECK_INT(parse("Basic cm9vdDpjb3JyZWN0AGhvcnNl", user, pw), -EINVAL);
	CHECK_INT(parse("Basic cm9vdAA6eA==", user, pw), -EINVAL);	/* NUL in the user */
	CHECK_INT(parse("Basic cm9vdA==", user, pw), -EINVAL);		/* no colon */
	CHECK_INT(parse("Basic OnBhc3N3b3Jk", user, pw), -EINVAL);	/* no user */
	CHECK_INT(parse("Basic cm9vdDpjb3JyZWN0IGhvcnNl=", user, pw), -EINVAL);
	CHECK_INT(parse("Basic cm9vdDpj*3JyZWN0IGhvcnNl", user, pw), -EINVAL);
	CHECK_INT(parse("Basic YTpi=Q==", user, pw), -EINVAL);		/* '=' inside */
	CHECK_INT(parse("Basic ", user, pw), -EINVAL);
	CHECK_INT(parse("Bearer cm9vdDpjb3JyZWN0IGhvcnNl", user, pw), -EINVAL);
	CHECK_INT(parse(NULL, user, pw), -EINVAL);
	/* Longer than a password may be: refused, not cut. */
	memset(long_pw, 'p', sizeof(long_pw));
	strcpy(h, "Basic ");
	{
		/* base64 of "u:" + 128 'p' */
		static const char tbl[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		unsigned char raw[2 + AUTH_PASSWORD_MAX + 1 + 2] = "u:";
		size_t n = 2 + AUTH_PASSWORD_MAX + 1, o = strlen(h);

		memcpy(raw + 2, long_pw, AUTH_PASSWORD_MAX + 1);
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = raw[i] << 16 | (i + 1 < n ? raw[i + 1] << 8 : 0) |
				     (i + 2 < n ? raw[i + 2] : 0);

			h[o++] = tbl[v >> 18 & 63];
			h[o++] = tbl[v >> 12 & 63];
			h[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
			h[o++] = i + 2 < n ? tbl[v & 63] : '=';
		}
		h[o] = '\0';
	}
	CHECK_INT(parse(h, user, pw), -EINVAL);
}

static void names_ignore_case(void)
{
	struct auth *auth = fresh();
	struct auth_principal who;
	FILE *f;

	if (!auth)
		return;
	CHECK_INT(auth_account_create(auth, "Root", "another one", AUTH_ROLE_OPERATOR, NULL),
		  -EEXIST);
	CHECK_INT(auth_account_count(auth), 3);
	CHECK_INT(auth_check_password(auth, "a", "ROOT", PW, T0, &who, NULL), 0);
	CHECK_STR(who.user, "root");		/* the account's own spelling */
	auth_free(auth);
	/* A file that holds both spellings is refused. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "{\"version\": 1, \"accounts\": [");
	for (int i = 0; i < 2; i++)
		fprintf(f, "%s{\"user\": \"%s\", \"role\": \"Administrator\", \"enabled\": true, "
			"\"salt\": \"%032d\", \"hash\": \"%064d\", \"iterations\": 1000}",
			i ? ", " : "", i ? "ADMIN" : "admin", 0, 0);
	fprintf(f, "]}\n");
	fclose(f);
	{
		struct auth_config c = config();
		struct auth *a2 = NULL;
		struct dhp_error err = { 0 };

		CHECK_INT(auth_new(&c, &a2, &err), -EINVAL);
		CHECK(strstr(err.message, "appears twice") != NULL);
		auth_free(a2);
	}
}

int main(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/dhp-t0610-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/accounts.json", tmpdir);
	RUN(password_change_ends_sessions);
	RUN(failures_look_alike);
	RUN(unknown_user_pays_the_stored_cost);
	RUN(attacker_cannot_lock_admin);
	RUN(blocked_source_costs_nothing);
	RUN(basic_cache);
	RUN(session_limits);
	RUN(basic_header);
	RUN(names_ignore_case);
	unlink(path);
	rmdir(tmpdir);
	return test_done();
}
