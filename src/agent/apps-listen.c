/* SPDX-License-Identifier: MIT */
/*
 * The local socket where applications (libdhp) connect: made at start-up
 * (mode 0666, replacing a stale socket file), removed at exit, and
 * accepting at most cfg.app_max connections at once. The connections
 * themselves are apps-conn.c's.
 */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Enough descriptors for every application besides the agent's own (a
 * guest's default soft limit is 1024). */
static void raise_fd_limit(unsigned apps)
{
	rlim_t want = (rlim_t)apps + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Is somebody listening on path (another agent)? Then it is not stale. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

	if (fd >= 0)
		close(fd);
	return alive;
}

int apps_open(struct agent *a, struct dhp_error *err)
{
	const char *path = a->cfg.app_socket;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return dhp_error_set(err, -ENAMETOOLONG, "application socket \"%s\": path too long",
				     path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket file left by an agent that did not exit cleanly is
	 * replaced; anything else there is not ours to remove. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return dhp_error_set(err, -EEXIST, "\"%s\" exists and is not a socket", path);
		if (socket_alive(&sa))
			return dhp_error_set(err, -EADDRINUSE, "another program listens on \"%s\"",
					     path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot make a socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = dhp_error_set(err, -errno, "cannot listen on \"%s\": %s", path, strerror(errno));
		goto close_fd;
	}
	/* Any local program may register (docs/agent-protocol.md). */
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = dhp_error_set(err, -errno, "cannot listen on \"%s\": %s", path, strerror(errno));
		goto unlink_path;
	}
	raise_fd_limit(a->cfg.app_max);
	dhp_proto_records_init(&a->apps.records, AGENT_RECORDS_MAX);
	a->apps.listen_fd = fd;
	return 0;

unlink_path:
	unlink(path);
close_fd:
	close(fd);
	return r;
}

void apps_close(struct agent *a)
{
	struct agent_apps *s = &a->apps;

	apps_free_all(a);
	dhp_proto_records_release(&s->records);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(a->cfg.app_socket);
	}
	*s = (struct agent_apps){ .listen_fd = -1 };
}

/* One over the cap: told why, then closed. */
static void refuse_full(struct agent *a, int fd)
{
	struct dhp_proto_msg *msg = calloc(1, sizeof(*msg));
	char buf[DHP_PROTO_LINE_MAX + 1];
	size_t len;

	agent_log("refused an application: %u are connected already", a->cfg.app_max);
	if (msg) {
		msg->type = DHP_PROTO_EVENT;
		msg->event.kind = DHP_PROTO_EVENT_ERROR;
		msg->event.code = -ENFILE;
		snprintf(msg->event.reason, sizeof(msg->event.reason),
			 "too many applications: %u are connected already", a->cfg.app_max);
		if (dhp_proto_encode(msg, buf, sizeof(buf), &len, NULL) == 0)
			(void)!send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(msg);
	close(fd);
}

static size_t live_count(const struct agent_apps *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->list[i]->fd >= 0;
	return n;
}

/* Accept one: over the cap it is told why and closed, else added. */
void apps_accept(struct agent *a)
{
	struct agent_apps *s = &a->apps;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors: stop polling the socket (it would stay
		 * readable) until an application leaves. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			agent_log("cannot accept an application: %s", strerror(errno));
			s->listen_paused = true;
		}
		return;
	}
	if (live_count(s) >= a->cfg.app_max)
		refuse_full(a, fd);
	else
		apps_add(a, fd);
}
