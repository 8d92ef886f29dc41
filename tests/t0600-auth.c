/* SPDX-License-Identifier: MIT */
/*
 * Accounts, roles, sessions (src/auth/auth.h): the accounts file on real
 * disk (mode, reload, refusals, failed writes), passwords and the blocks,
 * sessions and their expiry. Every case works in a fresh temporary
 * directory under $DHP_TEST_TMP; times are passed in.
 */
#include "harness.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"

#define PW "correct horse"
#define T0 1000u		/* the tests' clock starts here */

/* Short enough that every name made from them fits. */
static char tmpdir[1024];
static char path[1200], tmp_path[1300];

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void tmpdir_make(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/dhp-t0600-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/accounts.json", tmpdir);
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", path);
}

static void tmpdir_remove(void)
{
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct auth_config config(void)
{
	return (struct auth_config){ .accounts_path = path, .hash_iterations = 1000,
				     .lockout_threshold = 3, .lockout_duration_s = 60,
				     .session_timeout_s = 600, .max_sessions = 3 };
}

static struct auth *open_with(const struct auth_config *c)
{
	struct dhp_error err = { 0 };
	struct auth *auth = NULL;

	CHECK_INT(auth_new(c, &auth, &err), 0);
	CHECK_MSG(!err.code, "auth_new: %s", err.message);
	return auth;
}

/* A fresh file with the accounts the cases share. */
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

static char *slurp(const char *p)
{
	static char buf[1 << 16];
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void spit(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static int login(struct auth *auth, const char *user, const char *pw, uint64_t now)
{
	return auth_check_password(auth, NULL, user, pw, now, NULL, NULL);
}


/* --- roles, names -------------------------------------------------------- */

static void roles_and_privileges(void)
{
	const char *names[8];
	enum auth_role role;

	CHECK_STR(auth_role_name(AUTH_ROLE_ADMINISTRATOR), "Administrator");
	CHECK_STR(auth_role_name(AUTH_ROLE_OPERATOR), "Operator");
	CHECK_STR(auth_role_name(AUTH_ROLE_READONLY), "ReadOnly");
	CHECK_INT(auth_role_parse("Operator", &role), 0);
	CHECK_INT(role, AUTH_ROLE_OPERATOR);
	CHECK_INT(auth_role_parse("operator", &role), -EINVAL);
	CHECK_INT(auth_role_parse(NULL, &role), -EINVAL);

	CHECK_INT(auth_role_privileges(AUTH_ROLE_ADMINISTRATOR), 0x1f);
	CHECK_INT(auth_role_privileges(AUTH_ROLE_OPERATOR),
		  AUTH_PRIV_LOGIN | AUTH_PRIV_CONFIGURE_COMPONENTS | AUTH_PRIV_CONFIGURE_SELF);
	CHECK_INT(auth_role_privileges(AUTH_ROLE_READONLY),
		  AUTH_PRIV_LOGIN | AUTH_PRIV_CONFIGURE_SELF);
	CHECK_INT(auth_role_privileges(AUTH_ROLE_MAX), 0);

	CHECK_INT(auth_privilege_names(0x1f, names, 8), 5);
	CHECK_STR(names[0], "Login");
	CHECK_STR(names[1], "ConfigureManager");
	CHECK_STR(names[2], "ConfigureUsers");
	CHECK_STR(names[3], "ConfigureComponents");
	CHECK_STR(names[4], "ConfigureSelf");
	CHECK_INT(auth_privilege_names(auth_role_privileges(AUTH_ROLE_READONLY), names, 8), 2);
	CHECK_STR(names[0], "Login");
	CHECK_STR(names[1], "ConfigureSelf");
	CHECK_INT(auth_privilege_names(0x1f, names, 2), 2);
	CHECK_INT(auth_privilege_names(0, names, 8), 0);
}

static void defaults(void)
{
	struct auth_config c = { .accounts_path = path }, got;
	struct auth *auth;

	unlink(path);
	auth = open_with(&c);
	if (!auth)
		return;
	auth_get_config(auth, &got);
	CHECK_STR(got.accounts_path, path);
	CHECK_INT(got.max_sessions, 64);
	CHECK_INT(got.session_timeout_s, 1800);
	CHECK_INT(got.lockout_threshold, 5);
	CHECK_INT(got.lockout_duration_s, 60);
	CHECK_INT(got.hash_iterations, 100000);
	CHECK_INT(auth_account_count(auth), 0);
	auth_free(auth);
	auth_free(NULL);
}

static void names_and_passwords(void)
{
	struct auth_config c = config();
	struct auth *auth;
	char name[80], pw[200];

	unlink(path);
	auth = open_with(&c);
	if (!auth)
		return;
	memset(name, 'a', 63);
	name[63] = '\0';
	CHECK_INT(auth_account_create(auth, name, PW, AUTH_ROLE_READONLY, NULL), 0);
	name[63] = 'a', name[64] = '\0';
	CHECK_INT(auth_account_create(auth, name, PW, AUTH_ROLE_READONLY, NULL), -EINVAL);
	CHECK_INT(auth_account_create(auth, "ok.name_1-2", PW, AUTH_ROLE_READONLY, NULL), 0);
	static const char *const bad[] = { "", ".", "..", ".hidden", "-x", "a b", "a/b", "é", "a%2f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dhp_error err = { 0 };

		CHECK_INT(auth_account_create(auth, bad[i], PW, AUTH_ROLE_READONLY, &err), -EINVAL);
		CHECK(strstr(err.message, "bad user name") != NULL);
	}
	CHECK_INT(auth_account_create(auth, NULL, PW, AUTH_ROLE_READONLY, NULL), -EINVAL);
	CHECK_INT(auth_account_create(auth, "u1", "1234567", AUTH_ROLE_READONLY, NULL), -EINVAL);
	CHECK_INT(auth_account_create(auth, "u1", NULL, AUTH_ROLE_READONLY, NULL), -EINVAL);
	CHECK_INT(auth_account_create(auth, "u1", "12345678", AUTH_ROLE_MAX, NULL), -EINVAL);
	CHECK_INT(auth_account_create(auth, "u1", "12345678", AUTH_ROLE_READONLY, NULL), 0);
	memset(pw, 'p', 127);
	pw[127] = '\0';
	CHECK_INT(auth_account_create(auth, "u2", pw, AUTH_ROLE_READONLY, NULL), 0);
	CHECK_INT(login(auth, "u2", pw, T0), 0);
	pw[127] = 'p', pw[128] = '\0';
	CHECK_INT(auth_account_create(auth, "u3", pw, AUTH_ROLE_READONLY, NULL), -EINVAL);
	CHECK_INT(auth_account_set_password(auth, "u1", "short", NULL, NULL), -EINVAL);
	CHECK_INT(auth_account_count(auth), 4);
	auth_free(auth);
}

/* --- accounts and their file --------------------------------------------- */

static void accounts_create_list_delete(void)
{
	struct auth *auth = fresh();
	struct auth_account_info info;
	struct dhp_error err = { 0 };

	if (!auth)
		return;
	CHECK_INT(auth_account_count(auth), 3);
	CHECK_INT(auth_account_get(auth, 0, T0, &info), 0);
	CHECK_STR(info.user, "root");
	CHECK_INT(info.role, AUTH_ROLE_ADMINISTRATOR);
	CHECK(info.enabled && !info.locked);
	CHECK_INT(auth_account_get(auth, 2, T0, &info), 0);
	CHECK_STR(info.user, "viewer");
	CHECK_INT(auth_account_get(auth, 3, T0, &info), -ENOENT);
	CHECK_INT(auth_account_find(auth, "op", T0, &info), 0);
	CHECK_INT(info.role, AUTH_ROLE_OPERATOR);
	CHECK_INT(auth_account_find(auth, "nobody", T0, &info), -ENOENT);

	CHECK_INT(auth_account_create(auth, "op", PW, AUTH_ROLE_READONLY, &err), -EEXIST);
	CHECK(strstr(err.message, "\"op\"") != NULL);
	CHECK_INT(auth_account_delete(auth, "nobody", NULL), -ENOENT);
	CHECK_INT(auth_account_set_role(auth, "nobody", AUTH_ROLE_READONLY, NULL), -ENOENT);
	CHECK_INT(auth_account_set_enabled(auth, "nobody", false, NULL), -ENOENT);
	CHECK_INT(auth_account_set_password(auth, "nobody", PW, NULL, NULL), -ENOENT);

	CHECK_INT(auth_account_delete(auth, "op", NULL), 0);
	CHECK_INT(auth_account_count(auth), 2);
	CHECK_INT(auth_account_get(auth, 1, T0, &info), 0);
	CHECK_STR(info.user, "viewer");	/* creation order kept */
	CHECK_INT(auth_account_find(auth, "op", T0, &info), -ENOENT);
	CHECK_INT(login(auth, "op", PW "op", T0), -EACCES);

	CHECK_INT(auth_account_set_role(auth, "viewer", AUTH_ROLE_OPERATOR, NULL), 0);
	CHECK_INT(auth_account_set_password(auth, "viewer", "new password", NULL, NULL), 0);
	CHECK_INT(login(auth, "viewer", PW "ro", T0), -EACCES);
	CHECK_INT(login(auth, "viewer", "new password", T0), 0);
	auth_free(auth);
}

static void file_mode_and_reload(void)
{
	struct auth_config c = config();
	struct auth_account_info info;
	struct auth *auth;
	struct stat st;
	char *text;

	/* Made empty, mode 0600, when missing, whatever the umask. */
	unlink(path);
	mode_t old = umask(0);
	auth = open_with(&c);
	umask(old);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	text = slurp(path);
	CHECK(text && strstr(text, "\"version\": 1") && strstr(text, "\"accounts\": []"));
	auth_free(auth);

	auth = fresh();
	if (!auth)
		return;
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);
	auth_free(auth);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	text = slurp(path);
	CHECK(text != NULL);
	CHECK(text && !strstr(text, PW));		/* no password, in any form */
	CHECK(text && strstr(text, "\"salt\"") && strstr(text, "\"hash\"") &&
	      strstr(text, "\"iterations\": 1000"));
	CHECK_INT(access(tmp_path, F_OK), -1);	/* no PATH.tmp left */

	/* A group-readable file is made 0600 again when read. */
	CHECK_INT(chmod(path, 0644), 0);
	auth = open_with(&c);
	if (!auth)
		return;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(auth_account_count(auth), 3);
	CHECK_INT(auth_account_find(auth, "op", T0, &info), 0);
	CHECK_INT(info.role, AUTH_ROLE_OPERATOR);
	CHECK(!info.enabled);
	CHECK_INT(auth_account_find(auth, "viewer", T0, &info), 0);
	CHECK(info.enabled);
	CHECK_INT(login(auth, "root", PW, T0), 0);
	CHECK_INT(login(auth, "viewer", PW "ro", T0), 0);
	CHECK_INT(login(auth, "viewer", PW, T0), -EACCES);
	auth_free(auth);
}

static void iterations_kept_per_account(void)
{
	struct auth_config c = config();
	struct auth *auth = fresh();

	auth_free(auth);
	/* A later configuration hashes new passwords differently; the old
	 * ones still check with the iterations they were made with. */
	c.hash_iterations = 2000;
	auth = open_with(&c);
	if (!auth)
		return;
	CHECK_INT(login(auth, "root", PW, T0), 0);
	CHECK_INT(auth_account_set_password(auth, "op", "password 2", NULL, NULL), 0);
	CHECK_INT(login(auth, "op", "password 2", T0), 0);
	auth_free(auth);
	CHECK(strstr(slurp(path), "\"iterations\": 2000") != NULL);
	CHECK(strstr(slurp(path), "\"iterations\": 1000") != NULL);
}

static void malformed_files_refused_untouched(void)
{
	static const char salt[] = "00112233445566778899aabbccddeeff";
	static const char hash[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char good[512];
	const char *bad[16];
	char bufs[16][600];
	unsigned n = 0;

#define ACCOUNT(user, role, enabled, s, h, it) \
	"{\"version\": 1, \"accounts\": [{\"user\": \"" user "\", \"role\": \"" role \
	"\", \"enabled\": " enabled ", \"salt\": \"%s\", \"hash\": \"%s\", \"iterations\": " it "}]}"
	snprintf(good, sizeof(good), ACCOUNT("root", "Administrator", "true", s, h, "1000"), salt, hash);
	bad[n++] = "";
	bad[n++] = "{";
	bad[n++] = "[]";
	bad[n++] = "{\"version\": 2, \"accounts\": []}";
	bad[n++] = "{\"version\": \"1\", \"accounts\": []}";
	bad[n++] = "{\"version\": 1}";
	bad[n++] = "{\"version\": 1, \"accounts\": {}}";
	bad[n++] = "{\"version\": 1, \"version\": 1, \"accounts\": []}";
	bad[n++] = "{\"version\": 1, \"accounts\": [{\"user\": \"root\"}]}";
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("root", "Root", "true", s, h, "1000"), salt, hash);
	bad[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("../x", "ReadOnly", "true", s, h, "1000"), salt, hash);
	bad[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("root", "ReadOnly", "1", s, h, "1000"), salt, hash);
	bad[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("root", "ReadOnly", "true", s, h, "1000"), "abc", hash);
	bad[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("root", "ReadOnly", "true", s, h, "1000"), salt, "zz");
	bad[n] = bufs[n], n++;
	snprintf(bufs[n], sizeof(bufs[n]), ACCOUNT("root", "ReadOnly", "true", s, h, "0"), salt, hash);
	bad[n] = bufs[n], n++;
	const char *first = strchr(good, '[') + 1;	/* the same account twice */
	int len = (int)(strrchr(good, ']') - first);

	snprintf(bufs[n], sizeof(bufs[n]), "{\"version\": 1, \"accounts\": [%.*s, %.*s]}",
		 len, first, len, first);
	bad[n] = bufs[n], n++;
#undef ACCOUNT

	/* The good one reads (it is the base of the bad ones). */
	struct auth_config c = config();
	struct auth *auth;

	spit(path, good);
	auth = open_with(&c);
	CHECK_INT(auth ? auth_account_count(auth) : 0, 1);
	auth_free(auth);

	for (unsigned i = 0; i < n; i++) {
		struct dhp_error err = { 0 };

		auth = NULL;
		spit(path, bad[i]);
		CHECK_MSG(auth_new(&c, &auth, &err) == -EINVAL, "file %u accepted: %s", i, bad[i]);
		CHECK(auth == NULL);
		CHECK_MSG(!strncmp(err.message, path, strlen(path)), "file %u: %s", i, err.message);
		CHECK(err.resolution[0] != '\0');
		CHECK_MSG(!strcmp(slurp(path), bad[i]), "file %u was changed", i);
		auth_free(auth);
	}
	/* Nor is a directory in its place overwritten. */
	unlink(path);
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK(auth_new(&c, &auth, NULL) < 0);
	CHECK_INT(rmdir(path), 0);
	CHECK(auth_new(&(struct auth_config){ 0 }, &auth, NULL) == -EINVAL);
}

/* --- passwords and the lockout ------------------------------------------- */

static void wrong_password_unknown_user(void)
{
	struct auth *auth = fresh();
	struct dhp_error e1 = { 0 }, e2 = { 0 };
	struct auth_principal who = { .user = "unchanged" };

	if (!auth)
		return;
	CHECK_INT(auth_check_password(auth, "a", "root", "wrong password", T0, &who, &e1), -EACCES);
	CHECK_INT(auth_check_password(auth, "b", "nobody", "wrong password", T0, &who, &e2), -EACCES);
	CHECK_STR(e1.message, e2.message);	/* the same answer for both */
	CHECK_STR(who.user, "unchanged");	/* ret_* only on success */
	CHECK_INT(auth_check_password(auth, "c", NULL, NULL, T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "d", "root", NULL, T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "e", "root", "", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "f", "op", PW "op", T0, &who, NULL), 0);
	CHECK_STR(who.user, "op");
	CHECK_INT(who.role, AUTH_ROLE_OPERATOR);
	CHECK_INT(who.privileges, auth_role_privileges(AUTH_ROLE_OPERATOR));
	CHECK_STR(who.session_id, "");
	auth_free(auth);
}

/* Failures block the source they come from, never the account
 * (docs/auth.md, "Failed logins"); threshold 3, 60 s here. */
static void lockout_and_expiry(void)
{
	struct auth *auth = fresh();
	struct auth_account_info info;
	struct dhp_error err = { 0 };

	if (!auth)
		return;
	/* Failures a block apart do not add up. */
	CHECK_INT(auth_check_password(auth, "x", "op", "wrong 1", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "x", "op", "wrong 2", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "x", "op", "wrong 3", T0 + 60, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "x", "op", PW "op", T0 + 60, NULL, NULL), 0);

	/* Three close together block x for 60 s, whoever it names next. */
	CHECK_INT(auth_check_password(auth, "x", "op", "wrong", T0 + 61, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "x", "op", "wrong", T0 + 62, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "x", "op", PW "op", T0 + 63, NULL, &err), -EAGAIN);
	CHECK(strstr(err.message, "retry in 59 seconds") != NULL);
	CHECK_INT(auth_retry_after(auth, "x", T0 + 63), 59);
	CHECK_INT(auth_check_password(auth, "x", "root", PW, T0 + 63, NULL, NULL), -EAGAIN);
	CHECK_INT(auth_account_find(auth, "op", T0 + 63, &info), 0);
	CHECK(info.locked);			/* the administrators see it */
	CHECK_INT(auth_account_find(auth, "root", T0 + 63, &info), 0);
	CHECK(!info.locked);
	/* Another address is not affected, and op itself is not locked. */
	CHECK_INT(auth_check_password(auth, "y", "op", PW "op", T0 + 63, NULL, NULL), 0);
	CHECK_INT(auth_check_password(auth, "x", "op", PW "op", T0 + 121, NULL, NULL), -EAGAIN);
	CHECK_INT(auth_check_password(auth, "x", "op", PW "op", T0 + 122, NULL, NULL), 0);
	CHECK_INT(auth_account_find(auth, "op", T0 + 122, &info), 0);
	CHECK(!info.locked);

	/* Blocked again soon: twice as long (120 s). */
	for (int i = 0; i < 3; i++)
		CHECK_INT(auth_check_password(auth, "x", "op", "wrong", T0 + 130, NULL, NULL), -EACCES);
	CHECK_INT(auth_retry_after(auth, "x", T0 + 130), 120);

	/* Setting a password lifts the blocks of the sources that failed on it. */
	for (int i = 0; i < 3; i++)
		CHECK_INT(auth_check_password(auth, "z", "viewer", "wrong", T0, NULL, NULL), -EACCES);
	CHECK_INT(auth_check_password(auth, "z", "viewer", PW "ro", T0, NULL, NULL), -EAGAIN);
	CHECK_INT(auth_account_set_password(auth, "viewer", "fresh password", NULL, NULL), 0);
	CHECK_INT(auth_check_password(auth, "z", "viewer", "fresh password", T0, NULL, NULL), 0);
	auth_free(auth);
}

static void disabled_account(void)
{
	struct auth *auth = fresh();
	struct dhp_error err = { 0 };

	if (!auth)
		return;
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);	/* no change */
	/* The same answer as a wrong password: nothing tells it is disabled. */
	CHECK_INT(auth_check_password(auth, NULL, "op", PW "op", T0, NULL, &err), -EACCES);
	CHECK_STR(err.message, "wrong user name or password");
	CHECK_INT(login(auth, "op", "wrong", T0), -EACCES);
	CHECK_INT(auth_account_set_enabled(auth, "op", true, NULL), 0);
	CHECK_INT(login(auth, "op", PW "op", T0), 0);
	auth_free(auth);
}

static void last_administrator(void)
{
	struct auth *auth = fresh();
	struct dhp_error err = { 0 };

	if (!auth)
		return;
	CHECK_INT(auth_account_delete(auth, "root", &err), -EBUSY);
	CHECK(strstr(err.message, "last enabled Administrator") != NULL);
	CHECK_INT(auth_account_set_role(auth, "root", AUTH_ROLE_OPERATOR, NULL), -EBUSY);
	CHECK_INT(auth_account_set_enabled(auth, "root", false, NULL), -EBUSY);
	CHECK_INT(auth_account_count(auth), 3);
	CHECK_INT(login(auth, "root", PW, T0), 0);

	/* With a second one, either may go; a disabled one does not count. */
	CHECK_INT(auth_account_set_role(auth, "op", AUTH_ROLE_ADMINISTRATOR, NULL), 0);
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);
	CHECK_INT(auth_account_delete(auth, "root", NULL), -EBUSY);
	CHECK_INT(auth_account_set_enabled(auth, "op", true, NULL), 0);
	CHECK_INT(auth_account_set_role(auth, "root", AUTH_ROLE_READONLY, NULL), 0);
	CHECK_INT(auth_account_delete(auth, "op", NULL), -EBUSY);
	CHECK_INT(auth_account_delete(auth, "root", NULL), 0);
	CHECK_INT(auth_account_delete(auth, "viewer", NULL), 0);
	CHECK_INT(auth_account_count(auth), 1);
	auth_free(auth);
}

/* --- sessions ------------------------------------------------------------ */

static void sessions_create_check_delete(void)
{
	struct auth *auth = fresh();
	struct auth_principal who, who2;
	struct auth_session_info info;
	char token[AUTH_TOKEN_LEN + 1], token2[AUTH_TOKEN_LEN + 1], bad[AUTH_TOKEN_LEN + 1];

	if (!auth)
		return;
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, &who, token, NULL), 0);
	CHECK_INT(strlen(token), AUTH_TOKEN_LEN);
	CHECK_INT(strspn(token, "0123456789abcdef"), AUTH_TOKEN_LEN);
	CHECK_STR(who.user, "op");
	CHECK_INT(who.role, AUTH_ROLE_OPERATOR);
	CHECK(who.session_id[0] != '\0');
	CHECK_INT(auth_session_create(auth, NULL, "root", PW, T0 + 1, &who2, token2, NULL), 0);
	CHECK(strcmp(token, token2) != 0);
	CHECK(strcmp(who.session_id, who2.session_id) != 0);
	CHECK_INT(auth_session_count(auth), 2);
	CHECK_INT(auth_session_get(auth, 0, &info), 0);
	CHECK_STR(info.id, who.session_id);
	CHECK_STR(info.user, "op");
	CHECK_INT(info.created, T0);
	CHECK_INT(auth_session_get(auth, 1, &info), 0);
	CHECK_STR(info.user, "root");
	CHECK_INT(auth_session_get(auth, 2, &info), -ENOENT);

	memset(&who2, 0, sizeof(who2));
	CHECK_INT(auth_session_check(auth, token, T0 + 5, &who2), 0);
	CHECK_STR(who2.user, "op");
	CHECK_STR(who2.session_id, who.session_id);
	CHECK_INT(who2.privileges, auth_role_privileges(AUTH_ROLE_OPERATOR));
	/* Wrong, short, long or missing tokens. */
	memcpy(bad, token, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	CHECK_INT(auth_session_check(auth, bad, T0 + 5, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, "", T0 + 5, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, NULL, T0 + 5, NULL), -EACCES);
	bad[AUTH_TOKEN_LEN - 1] = '\0';
	CHECK_INT(auth_session_check(auth, bad, T0 + 5, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, who.session_id, T0 + 5, NULL), -EACCES);

	/* A failed login makes no session and counts against its source. */
	CHECK_INT(auth_session_create(auth, NULL, "op", "wrong", T0, NULL, bad, NULL), -EACCES);
	CHECK_INT(auth_session_create(auth, NULL, "nobody", "wrong", T0, NULL, bad, NULL), -EACCES);
	CHECK_INT(auth_session_create(auth, NULL, "op", "wrong", T0, NULL, bad, NULL), -EACCES);
	CHECK_INT(auth_session_create(auth, NULL, "op", "wrong", T0, NULL, bad, NULL), -EAGAIN);
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, bad, NULL), -EAGAIN);
	CHECK_INT(auth_session_count(auth), 2);

	CHECK_INT(auth_session_delete(auth, who.session_id), 0);
	CHECK_INT(auth_session_delete(auth, who.session_id), -ENOENT);
	CHECK_INT(auth_session_delete(auth, NULL), -ENOENT);
	CHECK_INT(auth_session_check(auth, token, T0 + 6, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, token2, T0 + 6, NULL), 0);
	CHECK_INT(auth_session_count(auth), 1);
	auth_free(auth);
}

static void sessions_idle_expiry(void)
{
	struct auth *auth = fresh();
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];

	if (!auth)
		return;
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, a, NULL), 0);
	CHECK_INT(auth_session_create(auth, NULL, "viewer", PW "ro", T0, NULL, b, NULL), 0);
	/* Use renews: a stays alive past its first 600 s, b does not. */
	CHECK_INT(auth_session_check(auth, a, T0 + 599, NULL), 0);
	CHECK_INT(auth_sessions_expire(auth, T0 + 599), 0);
	CHECK_INT(auth_sessions_expire(auth, T0 + 600), 1);
	CHECK_INT(auth_session_count(auth), 1);
	CHECK_INT(auth_session_check(auth, b, T0 + 600, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, a, T0 + 1198, NULL), 0);
	/* A check of an idle session ends it. */
	CHECK_INT(auth_session_check(auth, a, T0 + 1798, NULL), -EACCES);
	CHECK_INT(auth_session_count(auth), 0);
	CHECK_INT(auth_sessions_expire(auth, T0 + 5000), 0);
	auth_free(auth);
}

static void sessions_max(void)
{
	struct auth *auth = fresh();
	struct auth_principal who;
	struct dhp_error err = { 0 };
	char t[4][AUTH_TOKEN_LEN + 1];

	if (!auth)
		return;
	for (int i = 0; i < 3; i++)
		CHECK_INT(auth_session_create(auth, NULL, "root", PW, T0, i ? NULL : &who, t[i], NULL), 0);
	CHECK_INT(auth_session_create(auth, NULL, "root", PW, T0 + 1, NULL, t[3], &err), -EUSERS);
	CHECK(err.resolution[0] != '\0');
	CHECK_INT(auth_session_count(auth), 3);
	CHECK_INT(auth_session_delete(auth, who.session_id), 0);
	CHECK_INT(auth_session_create(auth, NULL, "root", PW, T0 + 1, NULL, t[3], NULL), 0);
	/* Idle sessions do not count against the limit. */
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0 + 1, NULL, t[0], NULL), -EUSERS);
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0 + 601, NULL, t[0], NULL), 0);
	CHECK_INT(auth_session_count(auth), 1);
	CHECK_INT(auth_session_check(auth, t[0], T0 + 602, NULL), 0);
	auth_free(auth);
}

static void sessions_follow_account(void)
{
	struct auth *auth = fresh();
	struct auth_principal who;
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1], c[AUTH_TOKEN_LEN + 1];

	if (!auth)
		return;
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, a, NULL), 0);
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, b, NULL), 0);
	CHECK_INT(auth_session_create(auth, NULL, "viewer", PW "ro", T0, NULL, c, NULL), 0);

	/* A new role applies at once. */
	CHECK_INT(auth_account_set_role(auth, "viewer", AUTH_ROLE_ADMINISTRATOR, NULL), 0);
	CHECK_INT(auth_session_check(auth, c, T0 + 1, &who), 0);
	CHECK_INT(who.role, AUTH_ROLE_ADMINISTRATOR);
	CHECK_INT(who.privileges, 0x1f);

	/* Disabling ends them; so does deleting. */
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), 0);
	CHECK_INT(auth_session_count(auth), 1);
	CHECK_INT(auth_session_check(auth, a, T0 + 1, NULL), -EACCES);
	CHECK_INT(auth_session_check(auth, b, T0 + 1, NULL), -EACCES);
	CHECK_INT(auth_account_set_enabled(auth, "op", true, NULL), 0);
	CHECK_INT(auth_session_check(auth, a, T0 + 1, NULL), -EACCES);	/* not back */
	CHECK_INT(auth_account_delete(auth, "viewer", NULL), 0);
	CHECK_INT(auth_session_count(auth), 0);
	CHECK_INT(auth_session_check(auth, c, T0 + 1, NULL), -EACCES);
	/* A new account of the same name does not inherit anything. */
	CHECK_INT(auth_account_create(auth, "viewer", PW "ro", AUTH_ROLE_READONLY, NULL), 0);
	CHECK_INT(auth_session_check(auth, c, T0 + 1, NULL), -EACCES);
	auth_free(auth);
}

/* --- the constant-time path ---------------------------------------------- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double median_login(struct auth *auth, const char *user)
{
	double t[7], swap;

	for (int i = 0; i < 7; i++) {
		double start = seconds();

		CHECK_INT(login(auth, user, "wrong password", T0), -EACCES);
		t[i] = seconds() - start;
	}
	for (int i = 0; i < 7; i++)
		for (int j = i + 1; j < 7; j++)
			if (t[j] < t[i])
				swap = t[i], t[i] = t[j], t[j] = swap;
	return t[3];
}

static void unknown_user_costs_the_same(void)
{
	struct auth_config c = config();
	struct auth *auth;
	double known, unknown;

	/* Enough iterations for the hash to dwarf the rest. */
	c.hash_iterations = 20000;
	c.lockout_threshold = 100;
	unlink(path);
	auth = open_with(&c);
	if (!auth)
		return;
	CHECK_INT(auth_account_create(auth, "known", PW, AUTH_ROLE_ADMINISTRATOR, NULL), 0);
	known = median_login(auth, "known");
	unknown = median_login(auth, "unknown");
	CHECK_MSG(unknown > known / 3 && unknown < known * 3,
		  "known user %.6f s, unknown %.6f s", known, unknown);
	auth_free(auth);
}

/* --- failed writes ------------------------------------------------------- */

/* Every kind of change fails with -EIO and leaves memory as it was. */
static void check_nothing_changes(struct auth *auth, const char *token)
{
	struct auth_account_info info;
	struct dhp_error err = { 0 };

	CHECK_INT(auth_account_create(auth, "new", PW, AUTH_ROLE_READONLY, &err), -EIO);
	CHECK(strstr(err.message, "cannot") != NULL);
	CHECK_INT(auth_account_count(auth), 3);
	CHECK_INT(auth_account_find(auth, "new", T0, &info), -ENOENT);
	CHECK_INT(auth_account_delete(auth, "op", NULL), -EIO);
	CHECK_INT(auth_account_find(auth, "op", T0, &info), 0);
	CHECK_INT(auth_account_set_password(auth, "op", "other password", NULL, NULL), -EIO);
	CHECK_INT(login(auth, "op", "other password", T0), -EACCES);
	CHECK_INT(login(auth, "op", PW "op", T0), 0);
	CHECK_INT(auth_account_set_role(auth, "op", AUTH_ROLE_READONLY, NULL), -EIO);
	CHECK_INT(auth_account_find(auth, "op", T0, &info), 0);
	CHECK_INT(info.role, AUTH_ROLE_OPERATOR);
	CHECK_INT(auth_account_set_enabled(auth, "op", false, NULL), -EIO);
	CHECK_INT(auth_account_find(auth, "op", T0, &info), 0);
	CHECK(info.enabled);
	/* The session of the account lives on. */
	CHECK_INT(auth_session_count(auth), 1);
	CHECK_INT(auth_session_check(auth, token, T0, NULL), 0);
}

static void failed_write_changes_nothing(void)
{
	struct auth *auth = fresh();
	char token[AUTH_TOKEN_LEN + 1], before[1 << 12];

	if (!auth)
		return;
	CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, token, NULL), 0);
	snprintf(before, sizeof(before), "%s", slurp(path));
	/* PATH.tmp cannot be made: a directory is in its way. */
	CHECK_INT(mkdir(tmp_path, 0700), 0);
	check_nothing_changes(auth, token);
	CHECK_STR(slurp(path), before);
	CHECK_INT(rmdir(tmp_path), 0);
	/* And once it can be written again, changes work. */
	CHECK_INT(auth_account_create(auth, "new", PW, AUTH_ROLE_READONLY, NULL), 0);
	CHECK(strstr(slurp(path), "\"new\"") != NULL);
	auth_free(auth);
}

static void removed_directory_changes_nothing(void)
{
	char dir[sizeof(tmpdir) + 8], saved[sizeof(path)], token[AUTH_TOKEN_LEN + 1];
	struct auth_config c = config();
	struct auth *auth;

	snprintf(saved, sizeof(saved), "%s", path);
	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	CHECK_INT(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/accounts.json", dir);
	auth = fresh();
	if (auth) {
		CHECK_INT(auth_session_create(auth, NULL, "op", PW "op", T0, NULL, token, NULL), 0);
		CHECK_INT(unlink(path), 0);
		CHECK_INT(rmdir(dir), 0);
		check_nothing_changes(auth, token);
		auth_free(auth);
	}
	/* A file that cannot be made fails auth_new. */
	CHECK(auth_new(&c, &auth, NULL) == -EIO);
	snprintf(path, sizeof(path), "%s", saved);
}

int main(void)
{
	tmpdir_make();
	RUN(roles_and_privileges);
	RUN(defaults);
	RUN(names_and_passwords);
	RUN(accounts_create_list_delete);
	RUN(file_mode_and_reload);
	RUN(iterations_kept_per_account);
	RUN(malformed_files_refused_untouched);
	RUN(wrong_password_unknown_user);
	RUN(lockout_and_expiry);
	RUN(disabled_account);
	RUN(last_administrator);
	RUN(sessions_create_check_delete);
	RUN(sessions_idle_expiry);
	RUN(sessions_max);
	RUN(sessions_follow_account);
	RUN(unknown_user_costs_the_same);
	RUN(failed_write_changes_nothing);
	RUN(removed_directory_changes_nothing);
	tmpdir_remove();
	return test_done();
}
