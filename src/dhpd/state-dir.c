/* SPDX-License-Identifier: MIT */
/*
 * The state directory: made 0700, locked while dhpd runs (two daemons
 * driving the same hardware from two copies of the model would break every
 * invariant), and the first account.
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

/*
 * dhpd writes its state directory from start to end (the lock, the store,
 * the accounts): one it cannot write (a read-only mount, or a directory
 * this user may not write) is refused here, in one line naming it and
 * why, rather than by whichever write comes first. access() answers for
 * the mount (EROFS) and the permissions alike.
 */
static int check_writable(const char *dir, struct dhp_error *err)
{
	int r;

	if (!access(dir, W_OK | X_OK))
		return 0;
	r = dhp_error_set(err, -errno, "state directory %s is not writable: %s", dir,
			  strerror(errno));
	if (r == -EROFS)
		dhp_error_resolve(err, "mount its file system read-write, or give dhpd another "
				  "--state-dir");
	else
		dhp_error_resolve(err, "give the user dhpd runs as write access to it, or give "
				  "dhpd another --state-dir");
	return r;
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
	r = check_writable(dir, err);
	if (r < 0)
		return r;
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
		r = dhp_read_file(file, 4096, &text, NULL, err);
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
		r = dhp_write_file_atomic(path, buf, strlen(buf), 0600, err);
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
