/* SPDX-License-Identifier: MIT */
/*
 * The connections of applications (libdhp) to the agent: added, read,
 * written, dropped and freed, and the poll entries of all of them and of
 * the listening socket (apps-listen.c). What a line means is
 * apps-line.c's; relaying notifications is apps.c's.
 *
 * A stuck application must never hold the agent: every socket is
 * non-blocking, and a write that would block drops its application.
 */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void app_free(struct agent_app *app)
{
	if (!app)
		return;
	if (app->fd >= 0)
		close(app->fd);
	free(app->reader);
	free(app);
}

void apps_free_all(struct agent *a)
{
	struct agent_apps *s = &a->apps;

	for (size_t i = 0; i < s->n; i++)
		app_free(s->list[i]);
	free(s->list);
	s->list = NULL;
	s->n = s->cap = 0;
}

/* A new connection (takes fd): it is sent the agent's hello, and
 * registers with its own (apps-line.c). */
void apps_add(struct agent *a, int fd)
{
	struct agent_apps *s = &a->apps;
	struct dhp_proto_msg *hello = NULL;
	struct agent_app *app = NULL;
	struct ucred cred = { 0 };
	socklen_t cl = sizeof(cred);

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct agent_app **list = realloc(s->list, cap * sizeof(*list));

		if (!list)
			goto fail;
		s->list = list;
		s->cap = cap;
	}
	app = calloc(1, sizeof(*app));
	hello = calloc(1, sizeof(*hello));
	if (!app || !hello || !(app->reader = malloc(sizeof(*app->reader))))
		goto fail;
	dhp_proto_reader_init(app->reader);
	app->fd = fd;
	app->serial = ++s->next_serial;
	/* Its name until its hello gives a better one. */
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
	snprintf(app->name, sizeof(app->name), "[%d]", (int)cred.pid);
	s->list[s->n++] = app;
	agent_debug(a, "application %s connected", app->name);
	hello->type = DHP_PROTO_HELLO;
	agent_hello_brief(a, &hello->hello);
	apps_send(a, app, hello);
	free(hello);
	return;

fail:
	agent_log("cannot accept an application: %s", strerror(ENOMEM));
	free(hello);
	app_free(app);
	close(fd);
}

void apps_drop(struct agent *a, struct agent_app *app, const char *why)
{
	if (app->fd < 0)
		return;
	agent_debug(a, "application \"%s\" gone: %s", app->name, why);
	close(app->fd);
	app->fd = -1;
	app->await_id = 0;
	a->apps.listen_paused = false;	/* a descriptor is free again */
}

void apps_sweep(struct agent *a)
{
	struct agent_apps *s = &a->apps;
	size_t j = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->list[i]->fd < 0)
			app_free(s->list[i]);
		else
			s->list[j++] = s->list[i];
	}
	s->n = j;
}

struct agent_app *apps_find(const struct agent *a, uint64_t serial)
{
	for (size_t i = 0; i < a->apps.n; i++)
		if (a->apps.list[i]->serial == serial && a->apps.list[i]->fd >= 0)
			return a->apps.list[i];
	return NULL;
}

int apps_send(struct agent *a, struct agent_app *app, const struct dhp_proto_msg *msg)
{
	char buf[DHP_PROTO_LINE_MAX + 1];
	struct dhp_error err = { 0 };
	size_t len, off = 0;
	int r;

	if (app->fd < 0)
		return -EPIPE;
	r = dhp_proto_encode(msg, buf, sizeof(buf), &len, &err);
	if (r < 0) {
		agent_log("cannot encode a %s: %s", dhp_proto_type_name(msg->type), err.message);
		return r;
	}
	while (off < len) {
		ssize_t n = send(app->fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? errno : EIO;
			if (r == EAGAIN)
				agent_log("application \"%s\" does not read what it is sent: dropped",
					  app->name);
			apps_drop(a, app, strerror(r));
			return -EPIPE;
		}
		off += (size_t)n;
	}
	return 0;
}

size_t apps_poll_count(const struct agent *a)
{
	return a->apps.listen_fd >= 0 ? 1 + a->apps.n : 0;
}

void apps_poll_fill(const struct agent *a, struct pollfd *p)
{
	const struct agent_apps *s = &a->apps;

	if (s->listen_fd < 0)
		return;
	/* Negative descriptors are skipped by poll. */
	p[0] = (struct pollfd){ s->listen_paused ? -1 : s->listen_fd, POLLIN, 0 };
	for (size_t i = 0; i < s->n; i++)
		p[1 + i] = (struct pollfd){ s->list[i]->fd, POLLIN, 0 };
}

struct line_ctx {
	struct agent *a;
	struct agent_app *app;
};

static int on_line(void *ctx, const char *line, size_t len, int rc)
{
	struct line_ctx *c = ctx;

	return apps_line(c->a, c->app, line, len, rc);
}

/* One read per turn, so that a chatty application cannot starve the rest. */
static void app_read(struct agent *a, struct agent_app *app)
{
	struct line_ctx c = { a, app };
	char buf[DHP_PROTO_LINE_MAX];
	ssize_t n = read(app->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		apps_drop(a, app, n ? strerror(errno) : "it closed its connection");
		return;
	}
	dhp_proto_reader_push(app->reader, buf, (size_t)n, on_line, &c, NULL);
}

void apps_poll_handle(struct agent *a, const struct pollfd *p)
{
	struct agent_apps *s = &a->apps;
	/* Accepting appends: the entries filled are the first n. */
	size_t n = s->n;

	if (s->listen_fd < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct agent_app *app = s->list[i];

		if (p[1 + i].revents && app->fd >= 0 && app->fd == p[1 + i].fd)
			app_read(a, app);
	}
	if (p[0].revents & POLLIN)
		apps_accept(a);
}
