/* SPDX-License-Identifier: MIT */
/*
 * QEMU processes: spawning one in its own session, its pid, whether it
 * still lives. QEMU daemonizes itself (-daemonize): the process dhp spawns
 * exits, with status 0, once the sockets listen (or with QEMU's error),
 * and QEMU runs on as a child of init, outliving dhpd. Its death is seen
 * by dhpd as its QMP connection closing (partition.c); a pid is only
 * trusted together with the process's start time, as pids are reused.
 */
#include "backend/qemu/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int qemu_spawn(char *const *argv, const char *log, pid_t *ret_child, struct dhp_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_init(&fa))
		return dhp_error_set(err, -ENOMEM, "out of memory");
	if (posix_spawnattr_init(&attr)) {
		posix_spawn_file_actions_destroy(&fa);
		return dhp_error_set(err, -ENOMEM, "out of memory");
	}
	/* Its own session: a signal to dhpd's group never reaches it. No
	 * signal blocked or ignored because dhpd has it so. */
	r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);
	r = r ?: posix_spawnattr_setsigmask(&attr, &none);
	r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
	r = r ?: posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	r = r ?: posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	r = r ?: posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* None of dhpd's descriptors (sockets, the store) leak into QEMU. */
	r = r ?: posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	r = r ?: posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r)
		return dhp_error_set(err, -r, "cannot run %s: %s", argv[0], strerror(r));
	*ret_child = pid;
	return 0;
}

int qemu_child_done(pid_t child, int *ret_status)
{
	int status;
	pid_t r = waitpid(child, &status, WNOHANG);

	if (r == 0)
		return 0;
	if (r < 0)
		return -errno;
	*ret_status = status;
	return 1;
}

/* Field 22 of /proc/PID/stat (start time, clock ticks since boot) and
 * field 3 (the state: Z is a zombie). */
static int proc_stat(pid_t pid, uint64_t *ret_start, char *ret_state)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The name is in parentheses and may hold anything: skip past it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", ret_state, &start) != 2)
		return -EIO;
	*ret_start = start;
	return 0;
}

int qemu_pid_read(const char *path, pid_t *ret_pid, uint64_t *ret_start)
{
	char buf[32], state;
	long pid;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 1)
		return -EINVAL;
	r = proc_stat((pid_t)pid, ret_start, &state);
	if (r < 0)
		return r;
	*ret_pid = (pid_t)pid;
	return 0;
}

bool qemu_pid_alive(pid_t pid, uint64_t start)
{
	uint64_t now_start;
	char state;

	if (pid <= 1 || proc_stat(pid, &now_start, &state) < 0)
		return false;
	return now_start == start && state != 'Z' && state != 'X';
}

int qemu_pid_kill(pid_t pid, uint64_t start, int sig)
{
	if (!qemu_pid_alive(pid, start))
		return -ESRCH;
	return kill(pid, sig) < 0 ? -errno : 0;
}

void qemu_log_tail(const char *path, char *buf, size_t size)
{
	char tail[512];
	ssize_t n = -1;
	off_t end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *line;

	buf[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end >= 0 && lseek(fd, end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0,
			      SEEK_SET) >= 0)
		n = read(fd, tail, sizeof(tail) - 1);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		tail[--n] = '\0';
	line = strrchr(tail, '\n');
	snprintf(buf, size, "%s", line ? line + 1 : tail);
}
