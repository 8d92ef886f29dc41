/* SPDX-License-Identifier: MIT */
/*
 * The accounts file (docs/auth.md):
 *
 *   {"version": 1, "accounts": [{"user": "root", "role": "Administrator",
 *     "enabled": true, "salt": "<32 hex>", "hash": "<64 hex>",
 *     "iterations": 100000}, ...]}
 *
 * A file that does not read as exactly this is refused and left alone; a
 * change is written to PATH.tmp and renamed over PATH, with an fsync of the
 * file before and of its directory after, so a crash leaves the old file or
 * the new one, never a mix.
 */
#include "auth/internal.h"
#include "common/fd.h"
#include "common/fs.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- reading ------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int malformed(struct dhp_error *err, const char *path, const char *fmt, ...)
{
	char what[DHP_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	dhp_error_set(err, -EINVAL, "%s: %s", path, what);
	dhp_error_resolve(err, "fix the file or move it away; dhp does not overwrite a file it cannot read");
	return -EINVAL;
}

static int read_text(const char *path, char **ret_text, size_t *ret_len, struct dhp_error *err)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return dhp_error_set(err, -EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		r = dhp_error_set(err, -EIO, "%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)AUTH_FILE_MAX) {
		r = malformed(err, path, "not a regular file of at most %u bytes", AUTH_FILE_MAX);
		goto close_fd;
	}
	/* Salts and hashes are for root's eyes only. */
	if ((st.st_mode & 077) && fchmod(fd, 0600) < 0) {
		r = dhp_error_set(err, -EIO, "%s: cannot make it mode 0600: %s", path, strerror(errno));
		goto close_fd;
	}
	text = malloc(AUTH_FILE_MAX + 1);
	if (!text) {
		r = dhp_error_set(err, -ENOMEM, "out of memory");
		goto close_fd;
	}
	n = dhp_fd_read_full(fd, text, AUTH_FILE_MAX + 1);
	if (n < 0) {
		r = dhp_error_set(err, -EIO, "%s: %s", path, strerror((int)-n));
		goto free_text;
	}
	if ((size_t)n > AUTH_FILE_MAX) {
		r = malformed(err, path, "larger than %u bytes", AUTH_FILE_MAX);
		goto free_text;
	}
	len = (size_t)n;
	close(fd);
	*ret_text = text;
	*ret_len = len;
	return 0;
free_text:
	free(text);
close_fd:
	close(fd);
	return r;
}

static int parse_account(const char *path, size_t i, json_t *o, struct auth_account *a,
			 struct dhp_error *err)
{
	const char *user = NULL, *role = NULL, *salt = NULL, *hash = NULL;
	json_t *enabled = NULL;
	json_int_t iterations = 0;
	json_error_t jerr;

	if (json_unpack_ex(o, &jerr, 0, "{s:s, s:s, s:o, s:s, s:s, s:I}", "user", &user,
			   "role", &role, "enabled", &enabled, "salt", &salt, "hash", &hash,
			   "iterations", &iterations))
		return malformed(err, path, "account %zu: %s", i + 1, jerr.text);
	memset(a, 0, sizeof(*a));
	if (!auth_user_valid(user))
		return malformed(err, path, "account %zu: bad user name \"%.40s\"", i + 1, user);
	snprintf(a->user, sizeof(a->user), "%s", user);
	if (auth_role_parse(role, &a->role))
		return malformed(err, path, "account \"%s\": unknown role \"%.40s\"", user, role);
	if (!json_is_boolean(enabled))
		return malformed(err, path, "account \"%s\": \"enabled\" is not true or false", user);
	a->enabled = json_is_true(enabled);
	if (!auth_unhex(salt, a->salt, sizeof(a->salt)))
		return malformed(err, path, "account \"%s\": the salt is not %zu hex digits",
				 user, 2 * sizeof(a->salt));
	if (!auth_unhex(hash, a->hash, sizeof(a->hash)))
		return malformed(err, path, "account \"%s\": the hash is not %zu hex digits",
				 user, 2 * sizeof(a->hash));
	if (iterations < 1 || iterations > AUTH_ITERATIONS_MAX)
		return malformed(err, path, "account \"%s\": iterations not in 1..%u",
				 user, AUTH_ITERATIONS_MAX);
	a->iterations = (unsigned)iterations;
	return 0;
}

static int parse(const char *path, json_t *root, struct auth_account **ret_accounts,
		 size_t *ret_n, struct dhp_error *err)
{
	struct auth_account *v;
	json_int_t version = 0;
	json_t *list = NULL;
	json_error_t jerr;
	size_t n;

	if (json_unpack_ex(root, &jerr, 0, "{s:I, s:o}", "version", &version, "accounts", &list))
		return malformed(err, path, "%s", jerr.text);
	if (version != AUTH_FILE_VERSION)
		return malformed(err, path, "version %lld (this dhp reads version %d)",
				 (long long)version, AUTH_FILE_VERSION);
	if (!json_is_array(list) || json_array_size(list) > AUTH_ACCOUNTS_MAX)
		return malformed(err, path, "\"accounts\" is not an array of at most %u",
				 AUTH_ACCOUNTS_MAX);
	n = json_array_size(list);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = parse_account(path, i, json_array_get(list, i), &v[i], err);

		for (size_t j = 0; !r && j < i; j++)
			if (!strcasecmp(v[j].user, v[i].user))	/* names ignore case */
				r = malformed(err, path, "account \"%s\" appears twice", v[i].user);
		if (r) {
			memset(v, 0, n * sizeof(*v));
			free(v);
			return r;
		}
	}
	*ret_accounts = v;
	*ret_n = n;
	return 0;
}

int auth_file_load(const char *path, struct auth_account **ret_accounts, size_t *ret_n,
		   struct dhp_error *err)
{
	json_error_t jerr;
	size_t len = 0;
	char *text = NULL;
	json_t *root;
	int r = read_text(path, &text, &len, err);

	if (r)
		return r;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	memset(text, 0, len);
	free(text);
	if (!root)
		return malformed(err, path, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	r = parse(path, root, ret_accounts, ret_n, err);
	json_decref(root);
	return r;
}

/* --- writing ------------------------------------------------------------- */

static char *serialize(const struct auth_account *v, size_t n, size_t skip)
{
	json_t *root, *list = json_array();
	char *text = NULL;

	root = json_pack("{s:i, s:o}", "version", AUTH_FILE_VERSION, "accounts", list);
	if (!root)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char salt[2 * AUTH_SALT_LEN + 1], hash[2 * AUTH_HASH_LEN + 1];

		if (i == skip)
			continue;
		auth_hex(v[i].salt, sizeof(v[i].salt), salt);
		auth_hex(v[i].hash, sizeof(v[i].hash), hash);
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:s, s:I}",
							  "user", v[i].user,
							  "role", auth_role_name(v[i].role),
							  "enabled", v[i].enabled, "salt", salt,
							  "hash", hash,
							  "iterations", (json_int_t)v[i].iterations)))
			goto out;
	}
	text = json_dumps(root, JSON_INDENT(2));
out:
	json_decref(root);
	return text;
}

int auth_file_save(const char *path, const struct auth_account *accounts, size_t n,
		   size_t skip, struct dhp_error *err)
{
	char *text = serialize(accounts, n, skip), *line;
	size_t len;
	int r;

	if (!text)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		r = dhp_error_set(err, -ENOMEM, "out of memory");
		goto free_text;
	}
	text = line;
	memcpy(text + len++, "\n", 2);
	r = dhp_write_file_atomic(path, text, len, 0600, err);
	if (r < 0)
		dhp_error_resolve(err, "check the disk and the directory of the accounts file");
free_text:
	explicit_bzero(text, len);	/* salts and hashes */
	free(text);
	return r;
}
