/* SPDX-License-Identifier: MIT */
/* Files under the sysfs root: every path the agent touches is relative to
 * it, so tests run the real program against a fake tree. */
#include "agent/agent.h"

#include "common/fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int sysfs_read(const struct agent *a, const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, r = 0;

	fd = openat(a->sysfs_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sysfs files are one page at most and come in one read. */
	n = dhp_fd_read(fd, buf, size - 1);
	if (n < 0)
		r = (int)n;
	else
		buf[n] = '\0';
	close(fd);
	/* The trailing newline is the kernel's, not the value's. */
	if (!r && n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return r;
}

int sysfs_write(const struct agent *a, const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, c, r = 0;

	/* O_TRUNC as a shell's ">" does: sysfs ignores it, a fake tree needs it. */
	fd = openat(a->sysfs_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* One write: a sysfs store sees the value whole, and its error (EBUSY
	 * when memory cannot be migrated) comes back here. */
	n = dhp_fd_write(fd, value, len);
	if (n < 0)
		r = (int)n;
	else if ((size_t)n != len)
		r = -EIO;
	c = dhp_fd_close(fd);
	return r ? r : c;
}

/*
 * Taking a memory block offline migrates its pages, and the kernel retries
 * for as long as one cannot move (a page pinned by a driver or an
 * application): the write blocks until the writer gets a signal, any
 * signal (mm/memory_hotplug.c keeps it so for user space; its documentation
 * suggests `timeout`). The agent must keep answering dhpd, so the write runs
 * under an interval timer: SIGALRM, with a handler and without SA_RESTART,
 * makes it fail with EINTR, and the kernel puts the block back as it was.
 * The timer repeats every RETRY_MS after ms, so that a signal that landed
 * just before the system call began cannot leave it blocked. (A child
 * process to kill would do too, but a fork costs some 15 ms per block in
 * a TCG guest.)
 */
#define RETRY_MS 100

static volatile sig_atomic_t alarm_rang;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_rang = 1;
}

static struct timeval ms_tv(unsigned ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000 };
}

int sysfs_write_limited(const struct agent *a, const char *path, const char *value,
			unsigned ms)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old_sa;
	struct itimerval timer = { .it_interval = ms_tv(RETRY_MS), .it_value = ms_tv(ms) };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	size_t len = strlen(value);
	ssize_t n = -1;
	int fd, r = 0;

	alarm_rang = 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &old_sa) < 0)
		return -errno;
	if (setitimer(ITIMER_REAL, &timer, NULL) < 0) {
		r = -errno;
		goto restore;
	}
	/* The open too: a test's FIFO blocks there. */
	do {
		fd = openat(a->sysfs_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR && !alarm_rang);
	if (fd < 0) {
		r = -errno;
		goto disarm;
	}
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR && !alarm_rang);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	close(fd);
disarm:
	setitimer(ITIMER_REAL, &off, NULL);
	if (r == -EINTR && alarm_rang)
		r = -ETIMEDOUT;
restore:
	sigaction(SIGALRM, &old_sa, NULL);
	return r;
}

bool sysfs_exists(const struct agent *a, const char *path)
{
	return faccessat(a->sysfs_fd, path, F_OK, 0) == 0;
}

int sysfs_settle(const struct agent *a, const char *path)
{
	const struct timespec step = { 0, 20 * 1000 * 1000 };
	unsigned waited = 0;

	while (!sysfs_exists(a, path)) {
		if (waited >= a->cfg.settle_ms)
			return -ENOENT;
		nanosleep(&step, NULL);
		waited += 20;
	}
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int sysfs_numbered(const struct agent *a, const char *path, const char *prefix,
		   uint64_t **ret_list, size_t *ret_n)
{
	size_t plen = strlen(prefix), n = 0, cap = 0;
	uint64_t *list = NULL, *bigger;
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	fd = openat(a->sysfs_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(dir))) {
		const char *num = de->d_name + plen;
		char *end;
		uint64_t v;

		if (strncmp(de->d_name, prefix, plen) || *num < '0' || *num > '9')
			continue;
		v = strtoull(num, &end, 10);
		if (*end)
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
	if (r) {
		free(list);
		return r;
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_u64);
	*ret_list = list;
	*ret_n = n;
	return 0;
}

uint64_t sysfs_block_size(const struct agent *a)
{
	char buf[32], *end;
	uint64_t v;

	/* Hex without "0x", as the kernel writes it. */
	if (sysfs_read(a, "devices/system/memory/block_size_bytes", buf, sizeof(buf)) < 0)
		return 0;
	v = strtoull(buf, &end, 16);
	return *end || end == buf ? 0 : v;
}
