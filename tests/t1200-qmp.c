/* SPDX-License-Identifier: MIT */
/*
 * The QMP client against a scripted QMP server on the same loop: greeting
 * and command mode, replies routed by id, QEMU's errors, deadlines, events,
 * an oversized line, and QEMU going away with commands pending.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/qemu/qmp.h"
#include "harness.h"

struct fake {
	struct dhp_loop *loop;
	int listen_fd, fd;
	struct dhp_io *listen_io, *io;
	char buf[65536];
	size_t len;
	bool capabilities_first, saw_capabilities;
	unsigned commands;
	const char *huge;	/* send this line after the next reply */
};

static void fake_send(struct fake *f, const char *line)
{
	size_t len = strlen(line);

	CHECK_INT(write(f->fd, line, len), (long long)len);
	CHECK_INT(write(f->fd, "\r\n", 2), 2);
}

static void fake_command(struct fake *f, json_t *cmd)
{
	const char *execute = json_string_value(json_object_get(cmd, "execute"));
	json_t *id = json_object_get(cmd, "id");
	char line[256];

	if (!f->commands++)
		f->capabilities_first = execute && !strcmp(execute, "qmp_capabilities");
	if (!execute || !strcmp(execute, "slow"))
		return;		/* never answered: the client's deadline fires */
	if (!strcmp(execute, "qmp_capabilities"))
		f->saw_capabilities = true;
	if (!strcmp(execute, "boom"))
		snprintf(line, sizeof(line), "{\"error\": {\"class\": \"GenericError\", "
			 "\"desc\": \"no such device\"}, \"id\": %lld}", json_integer_value(id));
	else if (!strcmp(execute, "event-please"))
		snprintf(line, sizeof(line), "{\"event\": \"DEVICE_DELETED\", \"data\": "
			 "{\"device\": \"dimm1\"}}\r\n{\"return\": {}, \"id\": %lld}",
			 json_integer_value(id));
	else
		snprintf(line, sizeof(line), "{\"return\": {\"running\": true}, \"id\": %lld}",
			 json_integer_value(id));
	fake_send(f, line);
	if (f->huge) {
		fake_send(f, f->huge);
		f->huge = NULL;
	}
}

static void fake_readable(void *arg, unsigned events)
{
	struct fake *f = arg;
	ssize_t n = read(f->fd, f->buf + f->len, sizeof(f->buf) - f->len - 1);
	char *nl;

	(void)events;
	if (n <= 0) {
		dhp_io_cancel(f->loop, f->io);
		f->io = NULL;
		return;
	}
	f->len += (size_t)n;
	f->buf[f->len] = '\0';
	while ((nl = strchr(f->buf, '\n'))) {
		json_t *cmd = json_loadb(f->buf, (size_t)(nl - f->buf), 0, NULL);

		if (cmd)
			fake_command(f, cmd);
		json_decref(cmd);
		memmove(f->buf, nl + 1, f->len - (size_t)(nl + 1 - f->buf) + 1);
		f->len -= (size_t)(nl + 1 - f->buf);
	}
}

static void fake_accept(void *arg, unsigned events)
{
	struct fake *f = arg;

	(void)events;
	f->fd = accept(f->listen_fd, NULL, NULL);
	CHECK(f->fd >= 0);
	fake_send(f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}");
	f->io = dhp_io_add(f->loop, f->fd, DHP_IO_READ, fake_readable, f);
	dhp_io_cancel(f->loop, f->listen_io);
	f->listen_io = NULL;
}

static void fake_start(struct fake *f, struct dhp_loop *loop, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->fd = -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_INT(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_INT(listen(f->listen_fd, 1), 0);
	f->listen_io = dhp_io_add(loop, f->listen_fd, DHP_IO_READ, fake_accept, f);
}

static void fake_stop(struct fake *f)
{
	dhp_io_cancel(f->loop, f->io);
	dhp_io_cancel(f->loop, f->listen_io);
	if (f->fd >= 0)
		close(f->fd);
	close(f->listen_fd);
}

struct answer {
	int rc;
	bool called;
	char text[256];
	json_t *ret;
};

static void on_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err)
{
	struct answer *a = ctx;

	a->called = true;
	a->rc = rc;
	a->ret = json_incref(ret);
	snprintf(a->text, sizeof(a->text), "%s", err ? err->message : "");
}

static char event_name[64];
static int closed_rc;

static void on_event(void *ctx, const char *event, json_t *data)
{
	(void)ctx;
	snprintf(event_name, sizeof(event_name), "%s:%s", event,
		 json_string_value(json_object_get(data, "device")) ?: "");
}

static void on_close(void *ctx, int rc, const struct dhp_error *why)
{
	(void)ctx, (void)why;
	closed_rc = rc;
}

static void run_until(struct dhp_loop *loop, const bool *done)
{
	for (int i = 0; i < 10000 && !*done; i++)
		dhp_loop_run_once(loop);
}

static void test_qmp(void)
{
	const char *path = "/tmp/dhp-t1200-qmp.sock";
	struct dhp_loop *loop = dhp_loop_new(false);
	struct qmp_config cfg = { .loop = loop, .path = path, .max_line = 4096,
				  .on_event = on_event, .on_close = on_close };
	struct answer ready = { 0 }, a = { 0 }, b = { 0 }, slow = { 0 }, ev = { 0 }, late = { 0 };
	struct dhp_error err = { 0 };
	struct qmp *qmp = NULL;
	static char huge[8192];
	struct fake f;

	fake_start(&f, loop, path);
	CHECK_INT(qmp_connect(&cfg, 2000, on_answer, &ready, &qmp, &err), 0);
	/* Queued before the greeting: sent after qmp_capabilities. */
	CHECK_INT(qmp_command(qmp, "query-status", NULL, 2000, on_answer, &a), 0);
	run_until(loop, &a.called);
	CHECK(ready.called && ready.rc == 0);
	CHECK(f.capabilities_first && f.saw_capabilities);
	CHECK_INT(a.rc, 0);
	CHECK(json_is_true(json_object_get(a.ret, "running")));

	CHECK_INT(qmp_command(qmp, "boom", json_pack("{s:s}", "id", "x"), 2000, on_answer, &b), 0);
	run_until(loop, &b.called);
	CHECK_INT(b.rc, -EIO);
	CHECK(strstr(b.text, "no such device") != NULL);

	CHECK_INT(qmp_command(qmp, "slow", NULL, 50, on_answer, &slow), 0);
	run_until(loop, &slow.called);
	CHECK_INT(slow.rc, -ETIMEDOUT);

	CHECK_INT(qmp_command(qmp, "event-please", NULL, 2000, on_answer, &ev), 0);
	run_until(loop, &ev.called);
	CHECK_STR(event_name, "DEVICE_DELETED:dimm1");

	/* A line over the cap ends the connection; what was pending hears it. */
	memset(huge, 'x', sizeof(huge) - 1);
	f.huge = huge;
	CHECK_INT(qmp_command(qmp, "query-status", NULL, 2000, on_answer, &late), 0);
	CHECK_INT(qmp_command(qmp, "slow", NULL, 2000, on_answer, &slow), 0);
	slow.called = false;
	run_until(loop, &slow.called);
	CHECK_INT(slow.rc, -ECONNRESET);
	CHECK_INT(closed_rc, -EMSGSIZE);
	CHECK_INT(qmp_command(qmp, "query-status", NULL, 2000, on_answer, &a), -ECONNRESET);

	qmp_free(qmp);
	fake_stop(&f);
	unlink(path);
	json_decref(a.ret), json_decref(b.ret), json_decref(ev.ret), json_decref(late.ret);
	json_decref(ready.ret), json_decref(slow.ret);
	dhp_loop_free(loop);
}

int main(void)
{
	RUN(test_qmp);
	return test_done();
}
