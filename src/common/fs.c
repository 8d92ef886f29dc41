/* SPDX-License-Identifier: MIT */
/* Small file-system helpers (common/fs.h). */
#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"

/* The first allocation of dhp_read_file; it doubles up to the cap. */
#define READ_FILE_FIRST (64u * 1024)

int dhp_mkdir_p(const char *dir, struct dhp_error *err)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (!n || n >= sizeof(path))
		return dhp_error_set(err, -ENAMETOOLONG, "bad state directory \"%s\"", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			return dhp_error_set(err, -e, "cannot create directory %s: %s", path,
					     strerror(e));
		}
		path[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static int io_error(struct dhp_error *err, const char *path, const char *what, int e)
{
	return dhp_error_set(err, -EIO, "%s: cannot %s: %s", path, what, strerror(e));
}

/* The directory is opened before the rename, so that the only failure
 * left after the new file is in place is the disk's own. */
static int open_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Write and sync tmp; 0 or -EIO, tmp left for the caller to remove. */
static int write_tmp(const char *tmp, const void *data, size_t len, mode_t mode,
		     struct dhp_error *err)
{
	int fd, r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return io_error(err, tmp, "create it", errno);
	/* O_CREAT's mode passes the umask, and an old tmp keeps its own. */
	if (fchmod(fd, mode) < 0)
		r = -errno;
	else if ((r = dhp_fd_write_full(fd, data, len)) == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		dhp_fd_close(fd);
		return io_error(err, tmp, "write it", -r);
	}
	r = dhp_fd_close(fd);
	return r < 0 ? io_error(err, tmp, "write it", -r) : 0;
}

int dhp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			  struct dhp_error *err)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int dir_fd, r;

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return dhp_error_set(err, -ENAMETOOLONG, "path %s is too long", path);
	r = write_tmp(tmp, data, len, mode, err);
	if (r < 0)
		goto unlink_tmp;
	dir_fd = open_dir(path);
	if (dir_fd < 0) {
		r = io_error(err, path, "open its directory", errno);
		goto unlink_tmp;
	}
	if (rename(tmp, path) < 0) {
		r = io_error(err, path, "replace it", errno);
		goto close_dir;
	}
	/* The new file is in place: only its durability is at stake now. */
	r = fsync(dir_fd) < 0 ? io_error(err, path, "sync its directory", errno) : 0;
	dhp_fd_close(dir_fd);
	return r;
close_dir:
	dhp_fd_close(dir_fd);
unlink_tmp:
	unlink(tmp);
	return r;
}

/* Read fd to its end into a buffer grown up to max + 1 bytes (+ the NUL). */
static int read_capped(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = max < READ_FILE_FIRST ? max + 1 : READ_FILE_FIRST;
	char *buf = malloc(cap + 1), *grown;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;		/* max + 1 bytes: over */
			cap = cap > max / 2 ? max + 1 : 2 * cap;
			if (!(grown = realloc(buf, cap + 1))) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		n = dhp_fd_read(fd, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int dhp_read_file(const char *path, size_t max, char **ret_text, size_t *ret_len,
		  struct dhp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	if (max >= SIZE_MAX - 1)
		return dhp_error_set(err, -EINVAL, "no size limit for reading %s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
	r = read_capped(fd, max, &text, &len);
	dhp_fd_close(fd);
	if (r == -EFBIG)
		return dhp_error_set(err, r, "%s is larger than %zu bytes", path, max);
	if (r == -ENOMEM)
		return dhp_error_set(err, r, "out of memory");
	if (r < 0)
		return dhp_error_set(err, r, "cannot read %s: %s", path, strerror(-r));
	*ret_text = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}
