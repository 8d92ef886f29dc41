/* SPDX-License-Identifier: MIT */
/*
 * The state directory: made 0700, locked while dhpd runs (two daemons
 * driving the same hardware from two copies of the model would break every
 * invariant), small files written atomically, and the first account.
 */
#include "dhpd/dhpd.h"

#include "common/fs.h"

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"

#define ADMIN_USER "admin"
#define GENERATED_PASSWORD_LEN 24

void dhpd_log(const char *fmt, ...)
{
	va_list ap;

	fputs("dhpd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void dhpd_log_error(const struct dhp_error *err)
{
	dhpd_log("%s", err->message[0] ? err->message : dhp_error_name(err->code));
	if (err->resolution[0])
		fprintf(stderr, "  hint: %s\n", err->resolution);
}

int dhpd_path(char *buf, size_t len, const char *dir, const char *name, struct dhp_error *err)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return dhp_error_set(err, -ENAMETOOLONG, "path %s/%s is too long", dir, name);
	return 0;
}

int dhpd_state_open(const char *dir, int *ret_fd, struct dhp_error *err)
{
	char path[DHPD_PATH_MAX];
	struct stat st;
	int fd, r = dhp_mkdir_p(dir, err);

	if (r < 0)
		return r;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return dhp_error_set(err, -ENOTDIR, "%s is not a directory", dir);
	r = dhpd_path(path, sizeof(path), dir, "dhpd.lock", err);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		dhp_error_set(err, -EBUSY, "state directory %s is in use by another dhpd", dir);
		return dhp_error_resolve(err, "stop the other dhpd, or use another --state-dir");
	}
	*ret_fd = fd;
	return 0;
}

int dhpd_write_file(const char *path, const void *data, size_t len, struct dhp_error *err)
{
	char tmp[DHPD_PATH_MAX];
	int fd, r, n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return dhp_error_set(err, -ENAMETOOLONG, "path %s is too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot create %s: %s", tmp, strerror(errno));
	r = write(fd, data, len) == (ssize_t)len && !fsync(fd) ? 0 : -EIO;
	if (close(fd) < 0 || r < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return dhp_error_set(err, -EIO, "cannot write %s", path);
	}
	return 0;
}

int dhpd_read_file(const char *path, size_t max, char **ret_text, struct dhp_error *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return dhp_error_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	if (n > max) {
		free(buf);
		return dhp_error_set(err, -EFBIG, "%s is larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*ret_text = buf;
	return 0;
}

/* Letters and digits, from the kernel's random source (via GnuTLS). */
static int generate_password(char *buf, size_t len, struct dhp_error *err)
{
	static const char alphabet[] =
		"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char raw[GENERATED_PASSWORD_LEN];

	if (len < sizeof(raw) + 2 || gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0)
		return dhp_error_set(err, -EIO, "cannot make a random password");
	for (size_t i = 0; i < sizeof(raw); i++)
		buf[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	buf[sizeof(raw)] = '\n';
	buf[sizeof(raw) + 1] = '\0';
	return 0;
}

/* The first line of the file, or a new password written to DIR/admin-password. */
static int admin_password(const char *dir, const char *file, char *buf, size_t len,
			  struct dhp_error *err)
{
	char path[DHPD_PATH_MAX], *text = NULL;
	int r;

	if (file && *file) {
		r = dhpd_read_file(file, 4096, &text, err);
		if (r < 0)
			return r;
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(buf, len, "%s", text);
		explicit_bzero(text, strlen(text));
		free(text);
		return 0;
	}
	r = generate_password(buf, len, err);
	if (!r)
		r = dhpd_path(path, sizeof(path), dir, "admin-password", err);
	if (!r)
		r = dhpd_write_file(path, buf, strlen(buf), err);
	buf[strcspn(buf, "\n")] = '\0';
	if (!r)
		dhpd_log("created account \"%s\"; its password is in %s", ADMIN_USER, path);
	return r;
}

int dhpd_state_admin(struct auth *auth, const char *dir, const char *password_file,
		     struct dhp_error *err)
{
	char password[AUTH_PASSWORD_MAX + 2];
	int r;

	if (auth_account_count(auth))
		return 0;
	r = admin_password(dir, password_file, password, sizeof(password), err);
	if (!r)
		r = auth_account_create(auth, ADMIN_USER, password, AUTH_ROLE_ADMINISTRATOR, err);
	explicit_bzero(password, sizeof(password));
	if (r < 0 && password_file && *password_file)
		dhp_error_resolve(err, "the admin password (first line of %s) must be %d to %d bytes",
				  password_file, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
	return r;
}
