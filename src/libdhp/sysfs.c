/* SPDX-License-Identifier: MIT */
/* Files under the sysfs root (DHP_SYSFS_ROOT for tests, else /sys). Every
 * read goes to the kernel: nothing here is cached, so nothing goes stale. */
#include "libdhp/internal.h"

#include "common/fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_at_root(struct dhp *dhp, const char *path, int flags)
{
	int fd;

	if (dhp->sysfs_fd < 0)
		return dhp->sysfs_error;
	fd = openat(dhp->sysfs_fd, path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void chomp(char *buf, size_t n)
{
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

int libdhp_sysfs_read(struct dhp *dhp, const char *path, char *buf, size_t size)
{
	ssize_t n;
	char extra;
	int fd, r = 0;

	if (size < 2)
		return -EINVAL;
	if ((fd = open_at_root(dhp, path, O_RDONLY)) < 0)
		return fd;
	n = dhp_fd_read_full(fd, buf, size - 1);
	if (n < 0)
		r = (int)n;
	/* A full buffer: is there more? */
	if (!r && (size_t)n == size - 1) {
		ssize_t more = dhp_fd_read_full(fd, &extra, 1);

		if (more < 0)
			r = (int)more;
		else if (more)
			r = -EFBIG;
	}
	close(fd);
	if (r < 0)
		return r;
	chomp(buf, (size_t)n);
	return 0;
}

int libdhp_sysfs_read_alloc(struct dhp *dhp, const char *path, size_t max, char **ret)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *bigger;
	int fd, r = 0;

	if ((fd = open_at_root(dhp, path, O_RDONLY)) < 0)
		return fd;
	for (;;) {
		ssize_t got;

		if (!buf || n == cap - 1) {
			if (buf && cap >= max) {
				r = -EFBIG;
				break;
			}
			if (buf)
				cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		if ((got = dhp_fd_read_full(fd, buf + n, cap - 1 - n)) < 0) {
			r = (int)got;
			break;
		}
		if (!got)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	chomp(buf, n);
	*ret = buf;
	return 0;
}

/* Open directory path under the root for reading. */
static DIR *open_dir(struct dhp *dhp, const char *path, int *ret_err)
{
	int fd = open_at_root(dhp, path, O_RDONLY | O_DIRECTORY);
	DIR *dir;

	if (fd < 0) {
		*ret_err = fd;
		return NULL;
	}
	dir = fdopendir(fd);
	if (!dir) {
		*ret_err = -errno;
		close(fd);
	}
	return dir;
}

/* The number after prefix in name ("node1" -> 1); -1 if name is not that. */
static int numbered_entry(const char *name, const char *prefix, uint64_t *ret)
{
	size_t plen = strlen(prefix);
	const char *num = name + plen;
	char *end;

	if (strncmp(name, prefix, plen) || *num < '0' || *num > '9')
		return -1;
	errno = 0;
	*ret = strtoull(num, &end, 10);
	return *end || errno ? -1 : 0;
}

int32_t libdhp_sysfs_node(struct dhp *dhp, const char *path)
{
	int32_t node = __atomic_load_n(&dhp->node_hint, __ATOMIC_RELAXED);
	struct dirent *de;
	char link[PATH_MAX];
	uint64_t v;
	DIR *dir;
	int err;

	/* Most units are on the node the last one was on (every one, on a
	 * machine of one node): one access(2) instead of reading the
	 * directory, which costs about as much as the rest of a uevent's
	 * dispatch (bench/libdhp-latency/). Still asked of the kernel. */
	if (dhp->sysfs_fd >= 0 && node >= 0 &&
	    (size_t)snprintf(link, sizeof(link), "%s/node%d", path, (int)node) < sizeof(link) &&
	    faccessat(dhp->sysfs_fd, link, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return node;
	node = -1;
	if (!(dir = open_dir(dhp, path, &err)))
		return -1;
	while ((de = readdir(dir)))
		if (numbered_entry(de->d_name, "node", &v) == 0 && v <= INT32_MAX) {
			node = (int32_t)v;
			break;
		}
	closedir(dir);
	if (node >= 0)
		__atomic_store_n(&dhp->node_hint, node, __ATOMIC_RELAXED);
	return node;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int libdhp_sysfs_numbered(struct dhp *dhp, const char *path, const char *prefix,
			  uint64_t **ret_list, size_t *ret_n)
{
	uint64_t *list = NULL, *bigger, v;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	if (!(dir = open_dir(dhp, path, &r)))
		return r;
	while ((de = readdir(dir))) {
		if (numbered_entry(de->d_name, prefix, &v) < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			bigger = realloc(list, cap * sizeof(*list));
			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			list = bigger;
		}
		list[n++] = v;
	}
	closedir(dir);
	if (r < 0) {
		free(list);
		return r;
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_u64);
	*ret_list = list;
	*ret_n = n;
	return 0;
}

uint64_t libdhp_sysfs_block_size(struct dhp *dhp)
{
	char buf[32], *end;
	uint64_t v;

	/* Hex without "0x", as the kernel writes it. */
	if (libdhp_sysfs_read(dhp, "devices/system/memory/block_size_bytes", buf,
			      sizeof(buf)) < 0)
		return 0;
	errno = 0;
	v = strtoull(buf, &end, 16);
	return *end || end == buf || errno ? 0 : v;
}
