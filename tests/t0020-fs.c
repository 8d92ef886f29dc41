/* SPDX-License-Identifier: MIT */
/*
 * The shared file helpers: common/fs.h (a file replaced whole, a file read
 * whole under a cap) and common/fd.h (read and write through EINTR and
 * short transfers). The EINTR cases run a pipe against another process
 * while an interval timer interrupts every blocked call: SIGALRM with a
 * handler and without SA_RESTART, as dhp-agent's offline timer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/fs.h"
#include "harness.h"

#define PIPE_TOTAL (1u << 20)	/* well over a pipe's 64 KiB */

static char tmpdir[256], path[320];

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void tmpdir_make(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/dhp-t0020-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/file", tmpdir);
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* The file has exactly text in it. */
static void check_content(const char *p, const char *text)
{
	struct dhp_error err = { 0 };
	char *got = NULL;
	size_t len = 0;

	CHECK_INT(dhp_read_file(p, 4096, &got, &len, &err), 0);
	CHECK_STR(got, text);
	CHECK_INT(len, strlen(text));
	free(got);
}

/* Written, then replaced; the mode is the one asked for whatever the umask
 * or a stale PATH.tmp says, and no PATH.tmp is left behind. */
static void atomic_write_replaces(void)
{
	struct dhp_error err = { 0 };
	char tmp[400];
	mode_t old_umask = umask(0077);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK_INT(dhp_write_file_atomic(path, "one\n", 4, 0644, &err), 0);
	check_content(path, "one\n");
	CHECK_INT(mode_of(path), 0644);
	CHECK(!exists(tmp));

	/* A crash left a PATH.tmp, world-readable: it is taken over. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	CHECK(fd >= 0 && write(fd, "stale stale stale", 17) == 17);
	close(fd);
	chmod(tmp, 0666);
	CHECK_INT(dhp_write_file_atomic(path, "two", 3, 0600, &err), 0);
	check_content(path, "two");
	CHECK_INT(mode_of(path), 0600);
	CHECK(!exists(tmp));

	CHECK_INT(dhp_write_file_atomic(path, "", 0, 0600, &err), 0);
	check_content(path, "");
	CHECK_INT(err.code, 0);
	umask(old_umask);
}

/* A directory that is not there: -EIO, said why, nothing created. */
static void atomic_write_fails_cleanly(void)
{
	struct dhp_error err = { 0 };
	char p[400];

	snprintf(p, sizeof(p), "%s/missing/file", tmpdir);
	CHECK_INT(dhp_write_file_atomic(p, "x", 1, 0600, &err), -EIO);
	CHECK_MSG(strstr(err.message, "cannot create it") != NULL, "%s", err.message);
	CHECK(!exists(p));
	CHECK_INT(dhp_write_file_atomic(p, "x", 1, 0600, NULL), -EIO);
}

static void write_n(const char *p, size_t n)
{
	char *buf = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	CHECK_INT(dhp_write_file_atomic(p, buf, n, 0600, NULL), 0);
	free(buf);
}

/* Up to max bytes read whole and NUL-terminated; one more is -EFBIG,
 * without ret_* touched; a missing file is -ENOENT. */
static void read_caps_the_size(void)
{
	struct dhp_error err = { 0 };
	char *text = NULL, none[400];
	size_t len = 12345;

	write_n(path, 100);
	CHECK_INT(dhp_read_file(path, 100, &text, &len, &err), 0);
	CHECK_INT(len, 100);
	CHECK(text && text[99] == 'v' && text[100] == '\0');
	free(text);
	text = NULL;
	CHECK_INT(dhp_read_file(path, 99, &text, &len, &err), -EFBIG);
	CHECK(text == NULL);
	CHECK_INT(len, 100);
	CHECK_MSG(strstr(err.message, "larger than 99 bytes") != NULL, "%s", err.message);
	CHECK_INT(dhp_read_file(path, 0, &text, NULL, NULL), -EFBIG);

	/* Past the first allocation: the buffer grows, up to the cap. */
	write_n(path, 200000);
	CHECK_INT(dhp_read_file(path, 200000, &text, &len, NULL), 0);
	CHECK_INT(len, 200000);
	CHECK(text && strlen(text) == 200000);
	free(text);
	CHECK_INT(dhp_read_file(path, 199999, &text, &len, NULL), -EFBIG);
	CHECK_INT(dhp_read_file(path, SIZE_MAX, &text, &len, NULL), -EINVAL);

	dhp_error_clear(&err);
	snprintf(none, sizeof(none), "%s/none", tmpdir);
	CHECK_INT(dhp_read_file(none, 10, &text, &len, &err), -ENOENT);
	CHECK_INT(err.code, -ENOENT);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM every 2 ms, interrupting blocked calls (no SA_RESTART). */
static void timer_start(struct sigaction *old_sa)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval t = { { 0, 2000 }, { 0, 2000 } };

	alarms = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, old_sa);
	setitimer(ITIMER_REAL, &t, NULL);
}

static void timer_stop(const struct sigaction *old_sa)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, old_sa, NULL);
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* The child writes PIPE_TOTAL bytes in small pieces with pauses; the
 * parent's one dhp_fd_read_full gets them all, through EINTR and short reads. */
static void read_full_through_signals(void)
{
	unsigned char *buf = malloc(PIPE_TOTAL + 1);
	struct sigaction old_sa;
	size_t bad = 0;
	int p[2], status = -1;
	ssize_t n;
	pid_t pid;

	CHECK(buf && pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0; off < PIPE_TOTAL; off += 4096) {
			unsigned char chunk[4096];

			for (size_t i = 0; i < sizeof(chunk); i++)
				chunk[i] = pattern(off + i);
			if (dhp_fd_write_full(p[1], chunk, sizeof(chunk)) < 0)
				_exit(1);
			if (off % (64 * 4096) == 0)
				usleep(20000);
		}
		_exit(0);
	}
	close(p[1]);
	timer_start(&old_sa);
	n = dhp_fd_read_full(p[0], buf, PIPE_TOTAL + 1);	/* to the end of file */
	timer_stop(&old_sa);
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK_INT(n, PIPE_TOTAL);
	for (size_t i = 0; n == PIPE_TOTAL && i < PIPE_TOTAL; i++)
		bad += buf[i] != pattern(i);
	CHECK_INT(bad, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_MSG(alarms > 0, "no signal came during the read");
	free(buf);
}

/* The parent's one dhp_fd_write_full of PIPE_TOTAL bytes into a pipe that a
 * slow child drains: the pipe fills, writes block, signals cut them short. */
static void write_full_through_signals(void)
{
	unsigned char *buf = malloc(PIPE_TOTAL);
	struct sigaction old_sa;
	int p[2], status = -1, r;
	pid_t pid;

	CHECK(buf && pipe(p) == 0);
	for (size_t i = 0; buf && i < PIPE_TOTAL; i++)
		buf[i] = pattern(i);
	pid = fork();
	if (pid == 0) {
		unsigned char chunk[8192];
		size_t off = 0;
		ssize_t got;

		close(p[1]);
		while ((got = dhp_fd_read(p[0], chunk, sizeof(chunk))) > 0) {
			for (ssize_t i = 0; i < got; i++)
				if (chunk[i] != pattern(off + (size_t)i))
					_exit(1);
			off += (size_t)got;
			if (off % (16 * 8192) < (size_t)got)
				usleep(10000);
		}
		_exit(got == 0 && off == PIPE_TOTAL ? 0 : 2);
	}
	close(p[0]);
	timer_start(&old_sa);
	r = dhp_fd_write_full(p[1], buf, PIPE_TOTAL);
	timer_stop(&old_sa);
	close(p[1]);
	waitpid(pid, &status, 0);
	CHECK_INT(r, 0);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader saw status %d",
		  status);
	CHECK_MSG(alarms > 0, "no signal came during the write");
	free(buf);
}

/* One call each: -EAGAIN comes back from an empty non-blocking pipe; a
 * short count is returned, not completed; dhp_fd_close forgives nothing but
 * EINTR. */
static void retry_and_close(void)
{
	char c = 0;
	int p[2];

	CHECK(pipe2(p, O_NONBLOCK) == 0);
	CHECK_INT(dhp_fd_read(p[0], &c, 1), -EAGAIN);
	CHECK_INT(dhp_fd_write(p[1], "xy", 2), 2);
	CHECK_INT(dhp_fd_read(p[0], &c, 1), 1);
	CHECK_INT(c, 'x');
	CHECK_INT(dhp_fd_close(p[1]), 0);
	CHECK_INT(dhp_fd_read_full(p[0], &c, 1), 1);
	CHECK_INT(c, 'y');
	CHECK_INT(dhp_fd_read_full(p[0], &c, 1), 0);	/* end of file */
	CHECK_INT(dhp_fd_close(p[0]), 0);
	CHECK_INT(dhp_fd_close(p[0]), -EBADF);
	CHECK_INT(dhp_fd_close(-1), 0);
	CHECK_INT(dhp_fd_write_full(p[1], "z", 1), -EBADF);
}

int main(void)
{
	tmpdir_make();
	RUN(atomic_write_replaces);
	RUN(atomic_write_fails_cleanly);
	RUN(read_caps_the_size);
	RUN(read_full_through_signals);
	RUN(write_full_through_signals);
	RUN(retry_and_close);
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
