/* SPDX-License-Identifier: MIT */
/*
 * The agent channel (src/backend/qemu/agent.h) against a scripted fake
 * agent on a unix socket, on the same loop, without QEMU: the hello asked
 * for and delivered; requests answered by id in any order, with the
 * reply's result mapped to a code; a request's deadline; a line over the
 * cap skipped and the next one read; replies to ids nobody awaits
 * ignored; the channel closing with requests pending, and dhpd closing
 * it; a hello of a higher major version refused once, then one of ours
 * accepted.
 *
 * Then the QEMU backend over it, with a fake QEMU (a Python script that
 * daemonizes, answers QMP and plays the guest's agent): when that agent
 * speaks version 2, the partition's start fails at once with
 * -EPROTONOSUPPORT and the decoder's words, not at the boot deadline, and
 * one notice says why; when an accepted agent is replaced by a version 2
 * one, the running partition is no longer ready and the backend's online
 * says why it has no agent.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/qemu/agent.h"
#include "backend/qemu/qemu.h"
#include "harness.h"
#include "model/topology.h"
#include "testbed.h"

#define HELLO_V1 "{\"type\":\"hello\",\"version\":1,\"agent\":\"fake-agent 1\"," \
		 "\"kernel\":\"6.1.0-test\",\"profile\":\"linux\"," \
		 "\"capabilities\":[\"online-cpu\",\"offline-cpu\",\"teleport\"]}"
#define HELLO_V2 "{\"type\":\"hello\",\"version\":2,\"agent\":\"dhp-agent 9.0\"," \
		 "\"shape\":{\"of\":\"things to come\"}}"
#define REQUESTS_MAX 16

/* ---- the fake agent ---- */

struct fake {
	struct dhp_loop *loop;
	char path[108];
	int listen_fd, fd;
	struct dhp_io *listen_io, *io;
	char buf[65536];
	size_t len;
	struct dhp_proto_msg *msg;		/* large: heap */
	unsigned empty_lines;			/* dhpd's newline first */
	unsigned hellos_asked;			/* op hello requests */
	const char *hello;			/* answer op hello with it; NULL: silent */
	struct dhp_proto_request requests[REQUESTS_MAX];	/* the others, held */
	size_t n_requests;
};

static void fake_send(struct fake *f, const char *line)
{
	size_t len = strlen(line);

	CHECK_INT(write(f->fd, line, len), (long long)len);
	CHECK_INT(write(f->fd, "\n", 1), 1);
}

__attribute__((format(printf, 2, 3)))
static void fake_sendf(struct fake *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fake_send(f, line);
}

static void fake_line(struct fake *f, const char *line, size_t len)
{
	struct dhp_error err = { 0 };

	if (!len) {
		f->empty_lines++;
		return;
	}
	CHECK_MSG(dhp_proto_decode(line, len, f->msg, &err) == 0, "dhpd sent %.*s: %s",
		  (int)len, line, err.message);
	if (err.code || f->msg->type != DHP_PROTO_REQUEST) {
		CHECK(!"dhpd sends requests only");
		return;
	}
	if (f->msg->request.op == DHP_PROTO_OP_HELLO) {
		/* As dhp-agent does: the hello, then ok. */
		f->hellos_asked++;
		if (f->hello) {
			fake_send(f, f->hello);
			fake_sendf(f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
				   (unsigned long long)f->msg->request.id);
		}
		return;
	}
	if (f->n_requests < REQUESTS_MAX)
		f->requests[f->n_requests++] = f->msg->request;
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
		size_t line_len = (size_t)(nl - f->buf);

		fake_line(f, f->buf, line_len);
		memmove(f->buf, nl + 1, f->len - line_len - 1 + 1);
		f->len -= line_len + 1;
	}
}

static void fake_accept(void *arg, unsigned events)
{
	struct fake *f = arg;

	(void)events;
	f->fd = accept(f->listen_fd, NULL, NULL);
	CHECK(f->fd >= 0);
	f->io = dhp_io_add(f->loop, f->fd, DHP_IO_READ, fake_readable, f);
	dhp_io_cancel(f->loop, f->listen_io);
	f->listen_io = NULL;
}

static void fake_start(struct fake *f, struct dhp_loop *loop)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->fd = -1;
	f->msg = malloc(sizeof(*f->msg));
	CHECK(f->msg != NULL);
	snprintf(f->path, sizeof(f->path), "/tmp/dhp-t1210-%d.sock", (int)getpid());
	memcpy(addr.sun_path, f->path, strlen(f->path) + 1);
	unlink(f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_INT(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_INT(listen(f->listen_fd, 1), 0);
	f->listen_io = dhp_io_add(loop, f->listen_fd, DHP_IO_READ, fake_accept, f);
}

/* The agent's end goes away (QEMU exited). */
static void fake_hang_up(struct fake *f)
{
	dhp_io_cancel(f->loop, f->io);
	f->io = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static void fake_stop(struct fake *f)
{
	fake_hang_up(f);
	dhp_io_cancel(f->loop, f->listen_io);
	close(f->listen_fd);
	unlink(f->path);
	free(f->msg);
}

/* ---- dhpd's side ---- */

struct seen {
	struct qagent *agent;
	unsigned hellos, refusals, closes;
	struct dhp_proto_hello hello;
	struct dhp_error refused, closed;
	int close_rc, request_after_close;
	bool free_on_close;
};

static void on_hello(void *ctx, const struct dhp_proto_hello *hello)
{
	struct seen *s = ctx;

	s->hellos++;
	s->hello = *hello;
}

static void on_refused(void *ctx, const struct dhp_error *why)
{
	struct seen *s = ctx;

	s->refusals++;
	s->refused = *why;
}

static void ping_answer(void *ctx, int rc, const struct dhp_proto_reply *reply,
			const struct dhp_error *err);

static void on_close(void *ctx, int rc, const struct dhp_error *why)
{
	struct seen *s = ctx;
	struct dhp_proto_request ping = { .op = DHP_PROTO_OP_PING };

	s->closes++;
	s->close_rc = rc;
	s->closed = *why;
	s->request_after_close = qagent_request(s->agent, &ping, 1000, ping_answer, NULL);
	/* As partition.c does: the channel frees once this dispatch ends. */
	if (s->free_on_close) {
		qagent_free(s->agent);
		s->agent = NULL;
	}
}

struct answer {
	unsigned calls;
	int rc;
	bool had_reply, had_err;
	int reply_code;
	char text[DHP_ERROR_TEXT_MAX];
};

static void on_answer(void *ctx, int rc, const struct dhp_proto_reply *reply,
		      const struct dhp_error *err)
{
	struct answer *a = ctx;

	a->calls++;
	a->rc = rc;
	a->had_reply = reply != NULL;
	a->reply_code = reply ? reply->code : 0;
	a->had_err = err != NULL;
	snprintf(a->text, sizeof(a->text), "%s", err ? err->message : "");
}

static void ping_answer(void *ctx, int rc, const struct dhp_proto_reply *reply,
			const struct dhp_error *err)
{
	(void)ctx, (void)rc, (void)reply, (void)err;
	CHECK(!"a request refused at once is never answered");
}

static void expire(void *arg)
{
	*(bool *)arg = true;
}

/* Turn the loop until cond holds, at most 5 s. */
#define RUN_UNTIL(loop, cond)                                                   \
	do {                                                                    \
		bool expired_ = false;                                          \
		struct dhp_timer *t_ = dhp_timer_add(loop, 5000, expire, &expired_); \
		while (!(cond) && !expired_)                                    \
			dhp_loop_run_once(loop);                                \
		if (!expired_)                                                  \
			dhp_timer_cancel(loop, t_);                             \
		CHECK_MSG(cond, "timed out waiting for %s", #cond);             \
	} while (0)

/* Let ms pass with the loop turning. */
static void pause_ms(struct dhp_loop *loop, uint64_t ms)
{
	bool expired = false;

	dhp_timer_add(loop, ms, expire, &expired);
	while (!expired)
		dhp_loop_run_once(loop);
}

static struct qagent *open_agent(struct dhp_loop *loop, struct fake *f, struct seen *s)
{
	struct qagent_config cfg = {
		.loop = loop, .path = f->path, .on_hello = on_hello, .on_refused = on_refused,
		.on_close = on_close, .ctx = s,
	};
	struct dhp_error err = { 0 };
	struct qagent *a = NULL;

	CHECK_MSG(qagent_connect(&cfg, &a, &err) == 0, "%s", err.message);
	s->agent = a;
	RUN_UNTIL(loop, f->fd >= 0 && f->empty_lines == 1);
	return a;
}

static int request(struct qagent *a, enum dhp_proto_op op, uint32_t ms, struct answer *ans)
{
	struct dhp_proto_request req = { .op = op };

	if (op == DHP_PROTO_OP_OFFLINE || op == DHP_PROTO_OP_NOTIFY) {
		req.has_unit = true;
		req.unit.kind = DHP_PROTO_UNIT_PROCESSOR;
		req.unit.cpu = 3;
		req.note = DHP_PROTO_NOTE_REMOVE_QUERY;
	}
	return qagent_request(a, &req, ms, on_answer, ans);
}

/* ---- the cases ---- */

static void hello_delivered(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct seen s = { 0 };
	struct fake f;
	struct qagent *a;
	unsigned asked;

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	CHECK(qagent_hello(a) == NULL);
	f.hello = HELLO_V1;
	CHECK_INT(qagent_want_hello(a, 20), 0);
	RUN_UNTIL(loop, s.hellos == 1);
	CHECK_INT(s.hello.version, 1);
	CHECK_STR(s.hello.agent, "fake-agent 1");
	CHECK_STR(s.hello.kernel, "6.1.0-test");
	/* An unknown capability is ignored. */
	CHECK_INT(s.hello.caps, DHP_PROTO_CAP_ONLINE_CPU | DHP_PROTO_CAP_OFFLINE_CPU);
	CHECK(qagent_hello(a) != NULL && !strcmp(qagent_hello(a)->agent, "fake-agent 1"));
	CHECK_INT(s.refusals, 0);
	/* It came: no more asking. */
	asked = f.hellos_asked;
	pause_ms(loop, 100);
	CHECK_INT(f.hellos_asked, asked);
	CHECK_INT(s.hellos, 1);
	/* The agent restarted: its hello unasked is delivered again. */
	fake_send(&f, HELLO_V1);
	RUN_UNTIL(loop, s.hellos == 2);
	CHECK_INT(s.closes, 0);

	qagent_free(a);
	fake_stop(&f);
	dhp_loop_free(loop);
}

static void replies_by_id(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct answer ans[4] = { 0 };
	struct seen s = { 0 };
	uint64_t id[4];
	struct fake f;
	struct qagent *a;
	char lines[1024];

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &ans[0]), 0);
	CHECK_INT(request(a, DHP_PROTO_OP_NOTIFY, 2000, &ans[1]), 0);
	CHECK_INT(request(a, DHP_PROTO_OP_OFFLINE, 2000, &ans[2]), 0);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &ans[3]), 0);
	RUN_UNTIL(loop, f.n_requests == 4);
	CHECK_INT(f.requests[0].op, DHP_PROTO_OP_PING);
	CHECK_INT(f.requests[1].op, DHP_PROTO_OP_NOTIFY);
	CHECK_INT(f.requests[1].note, DHP_PROTO_NOTE_REMOVE_QUERY);
	CHECK_INT(f.requests[2].op, DHP_PROTO_OP_OFFLINE);
	CHECK(f.requests[2].has_unit && f.requests[2].unit.cpu == 3);
	for (size_t i = 0; i < 4; i++)
		id[i] = f.requests[i].id;
	CHECK(id[0] != id[1] && id[1] != id[2] && id[2] != id[3] && id[0] != id[3]);

	/* Backwards, all in one write, with a reply nobody awaits among them. */
	snprintf(lines, sizeof(lines),
		 "{\"type\":\"reply\",\"id\":%llu,\"result\":\"error\"}\n"
		 "{\"type\":\"reply\",\"id\":%llu,\"result\":\"error\",\"errno\":16,"
		 "\"reason\":\"cpu3 is busy\"}\n"
		 "{\"type\":\"reply\",\"id\":999999,\"result\":\"ok\"}\n"
		 "{\"type\":\"reply\",\"id\":%llu,\"result\":\"deny\",\"reason\":\"vetoed by db[7]\"}",
		 (unsigned long long)id[3], (unsigned long long)id[2], (unsigned long long)id[1]);
	fake_send(&f, lines);
	RUN_UNTIL(loop, ans[1].calls == 1);
	CHECK_INT(ans[0].calls, 0);
	CHECK_INT(ans[3].rc, -EIO);		/* an error without errno */
	CHECK(ans[3].had_reply && ans[3].had_err);
	CHECK_STR(ans[3].text, "the agent failed");
	CHECK_INT(ans[2].rc, -EBUSY);
	CHECK_INT(ans[2].reply_code, -EBUSY);
	CHECK_STR(ans[2].text, "cpu3 is busy");
	CHECK_INT(ans[1].rc, -EPERM);
	CHECK_STR(ans[1].text, "vetoed by db[7]");

	/* The first one last; a second reply to the same id is ignored. */
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)id[0]);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"error\"}",
		   (unsigned long long)id[0]);
	RUN_UNTIL(loop, ans[0].calls == 1);
	pause_ms(loop, 30);
	CHECK_INT(ans[0].rc, 0);
	CHECK(ans[0].had_reply && !ans[0].had_err);
	for (size_t i = 0; i < 4; i++)
		CHECK_INT(ans[i].calls, 1);
	CHECK_INT(s.closes, 0);

	qagent_free(a);
	fake_stop(&f);
	dhp_loop_free(loop);
}

static void deadline(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct answer slow = { 0 }, next = { 0 };
	struct seen s = { 0 };
	struct fake f;
	struct qagent *a;
	uint64_t t0;

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	t0 = dhp_loop_now(loop);
	CHECK_INT(request(a, DHP_PROTO_OP_OFFLINE, 50, &slow), 0);
	RUN_UNTIL(loop, slow.calls == 1);
	CHECK(dhp_loop_now(loop) - t0 >= 50);
	CHECK_INT(slow.rc, -ETIMEDOUT);
	CHECK(!slow.had_reply && slow.had_err);
	CHECK_STR(slow.text, "the agent did not answer offline in time");
	/* Its answer comes late: nobody awaits it any more. */
	CHECK_INT(f.n_requests, 1);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)f.requests[0].id);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &next), 0);
	RUN_UNTIL(loop, f.n_requests == 2);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)f.requests[1].id);
	RUN_UNTIL(loop, next.calls == 1);
	CHECK_INT(next.rc, 0);
	CHECK_INT(slow.calls, 1);
	CHECK_INT(s.closes, 0);

	qagent_free(a);
	fake_stop(&f);
	dhp_loop_free(loop);
}

static void oversized_line(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct answer ans = { 0 };
	struct seen s = { 0 };
	const char *head = "{\"type\":\"reply\",\"id\":1,\"result\":\"ok\",\"reason\":\"";
	size_t huge_len = 3 * DHP_PROTO_LINE_MAX + 1000;	/* over several reads */
	char *huge = malloc(huge_len + 1);
	struct fake f;
	struct qagent *a;

	CHECK(huge != NULL);
	memset(huge, 'x', huge_len);
	memcpy(huge, head, strlen(head));
	huge[huge_len] = '\0';
	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &ans), 0);
	RUN_UNTIL(loop, f.n_requests == 1);
	fake_send(&f, huge);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)f.requests[0].id);
	RUN_UNTIL(loop, ans.calls == 1);
	CHECK_INT(ans.rc, 0);
	CHECK_INT(s.closes, 0);
	/* Still open: the next request goes through. */
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &ans), 0);
	RUN_UNTIL(loop, f.n_requests == 2);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)f.requests[1].id);
	RUN_UNTIL(loop, ans.calls == 2);
	CHECK_INT(ans.rc, 0);

	qagent_free(a);
	fake_stop(&f);
	free(huge);
	dhp_loop_free(loop);
}

static void closed_with_requests_pending(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct answer one = { 0 }, two = { 0 };
	struct seen s = { .free_on_close = true };
	struct fake f;
	struct qagent *a;

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 5000, &one), 0);
	CHECK_INT(request(a, DHP_PROTO_OP_OFFLINE, 5000, &two), 0);
	RUN_UNTIL(loop, f.n_requests == 2);
	fake_hang_up(&f);
	RUN_UNTIL(loop, s.closes == 1);
	CHECK_INT(one.calls, 1);
	CHECK_INT(two.calls, 1);
	CHECK_INT(one.rc, -ECONNRESET);
	CHECK_INT(two.rc, -ECONNRESET);
	CHECK(!one.had_reply && one.had_err);
	CHECK(strstr(two.text, "agent offline: agent channel closed") != NULL);
	CHECK_INT(s.close_rc, -ECONNRESET);
	CHECK_STR(s.closed.message, "agent channel closed (QEMU exited?)");
	CHECK_INT(s.request_after_close, -ECONNRESET);
	/* on_close freed it (deferred to the end of the dispatch). */
	CHECK(s.agent == NULL);
	pause_ms(loop, 20);
	CHECK_INT(s.closes, 1);
	CHECK_INT(one.calls + two.calls, 2);

	fake_stop(&f);
	dhp_loop_free(loop);
}

static void closed_by_dhpd(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct answer one = { 0 };
	struct seen s = { 0 };
	struct fake f;
	struct qagent *a;

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 5000, &one), 0);
	RUN_UNTIL(loop, f.n_requests == 1);
	qagent_close(a);
	CHECK_INT(one.calls, 1);
	CHECK_INT(one.rc, -ECONNRESET);
	CHECK(strstr(one.text, "dhpd closed the agent channel") != NULL);
	CHECK_INT(s.closes, 0);	/* on_close is not called */
	RUN_UNTIL(loop, f.io == NULL);	/* the fake sees the end */

	fake_stop(&f);
	dhp_loop_free(loop);
}

static void newer_hello_refused(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct seen s = { 0 };
	struct answer ans = { 0 };
	struct fake f;
	struct qagent *a;
	unsigned asked;

	fake_start(&f, loop);
	a = open_agent(loop, &f, &s);
	f.hello = HELLO_V2;
	CHECK_INT(qagent_want_hello(a, 20), 0);
	RUN_UNTIL(loop, s.refusals == 1);
	CHECK_INT(s.refused.code, -EPROTONOSUPPORT);
	CHECK_STR(s.refused.message, "the peer speaks agent protocol version 2; this side "
		  "speaks version 1");
	CHECK(strstr(s.refused.resolution, "same protocol version") != NULL);
	CHECK_INT(s.hellos, 0);
	CHECK(qagent_hello(a) == NULL);
	/* Refused once, not for every repeated hello; and no more asking. */
	asked = f.hellos_asked;
	fake_send(&f, HELLO_V2);
	fake_send(&f, HELLO_V2);
	pause_ms(loop, 100);
	CHECK_INT(s.refusals, 1);
	CHECK_INT(f.hellos_asked, asked);
	CHECK_INT(s.hellos, 0);

	/* The channel itself still works. */
	CHECK_INT(request(a, DHP_PROTO_OP_PING, 2000, &ans), 0);
	RUN_UNTIL(loop, f.n_requests == 1);
	fake_sendf(&f, "{\"type\":\"reply\",\"id\":%llu,\"result\":\"ok\"}",
		   (unsigned long long)f.requests[0].id);
	RUN_UNTIL(loop, ans.calls == 1);
	CHECK_INT(ans.rc, 0);

	/* An agent of our version (installed, restarted) is accepted. */
	fake_send(&f, HELLO_V1);
	RUN_UNTIL(loop, s.hellos == 1);
	CHECK_INT(s.hello.version, 1);
	CHECK(qagent_hello(a) != NULL);
	CHECK_INT(s.refusals, 1);

	/* A newer one again is a new refusal, and the hello is forgotten. */
	fake_send(&f, HELLO_V2);
	RUN_UNTIL(loop, s.refusals == 2);
	CHECK(qagent_hello(a) == NULL);
	CHECK_INT(s.hellos, 1);
	CHECK_INT(s.closes, 0);

	qagent_free(a);
	fake_stop(&f);
	dhp_loop_free(loop);
}

/* ---- the backend, with a fake QEMU whose guest's agent is too new ---- */

/* Daemonizes once its sockets listen (its pid in the pid file, and in
 * daemon.pid beside the script for the clean-up), answers QMP, and plays
 * the guest's agent: with DHP_T1210_AGENT=2 a version 2 hello (on connect
 * and on op hello); with "switch" a version 1 hello until the first
 * notify, which it approves and then sends a version 2 hello (a newer
 * agent replaced it). */
static const char fake_qemu[] =
	"#!/usr/bin/python3\n"
	"import json, os, select, socket, sys, time\n"
	"a = sys.argv\n"
	"if a[1:2] == ['--version']:\n"
	"    print('QEMU emulator version 7.2.22'); sys.exit(0)\n"
	"qmp = a[a.index('-qmp') + 1].split(',')[0][len('unix:'):]\n"
	"agent = [x for x in a if x.startswith('socket,id=agent,')][0]\n"
	"agent = agent.split('path=')[1].split(',')[0]\n"
	"def listen(path):\n"
	"    s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(1); return s\n"
	"ls = [listen(qmp), listen(agent)]\n"
	"pid = os.fork()\n"
	"if pid:\n"
	"    open(a[a.index('-pidfile') + 1], 'w').write('%d\\n' % pid)\n"
	"    open(os.path.dirname(a[0]) + '/daemon.pid', 'w').write('%d\\n' % pid)\n"
	"    sys.exit(0)\n"
	"version = 1 if os.environ.get('DHP_T1210_AGENT') == 'switch' else 2\n"
	"def hello():\n"
	"    return json.dumps({'type': 'hello', 'version': version, 'agent': 'fake',\n"
	"                       'capabilities': ['online-cpu', 'offline-cpu']}) + '\\n'\n"
	"answers = {'query-hotpluggable-cpus': [{'type': 'max-x86_64-cpu', 'vcpus-count': 1,\n"
	"           'props': {'socket-id': 0, 'core-id': 0, 'thread-id': 0},\n"
	"           'qom-path': '/machine/unattached/device[0]'}],\n"
	"           'query-memory-devices': [], 'query-cpus-fast': []}\n"
	"conns = {}\n"
	"until = time.time() + 60\n"
	"while time.time() < until:\n"
	"    r = select.select(ls + list(conns), [], [], 1)[0]\n"
	"    for s in r:\n"
	"        if s in ls:\n"
	"            c = s.accept()[0]\n"
	"            conns[c] = [s is ls[0], b'']\n"
	"            c.sendall(b'{\"QMP\": {\"version\": {}, \"capabilities\": []}}\\r\\n'\n"
	"                      if s is ls[0] else hello().encode())\n"
	"            continue\n"
	"        data = s.recv(65536)\n"
	"        if not data:\n"
	"            del conns[s]; s.close(); continue\n"
	"        conns[s][1] += data\n"
	"        while b'\\n' in conns[s][1]:\n"
	"            line, conns[s][1] = conns[s][1].split(b'\\n', 1)\n"
	"            try: m = json.loads(line)\n"
	"            except ValueError: continue\n"
	"            if conns[s][0]:\n"
	"                if m.get('execute') in ('quit', 'system_powerdown'): sys.exit(0)\n"
	"                out = {'return': answers.get(m.get('execute'), {}), 'id': m.get('id')}\n"
	"                s.sendall((json.dumps(out) + '\\r\\n').encode())\n"
	"            elif m.get('op') == 'hello':\n"
	"                out = {'type': 'reply', 'id': m['id'], 'result': 'ok'}\n"
	"                s.sendall((hello() + json.dumps(out) + '\\n').encode())\n"
	"            elif m.get('op') == 'notify':\n"
	"                out = {'type': 'reply', 'id': m['id'], 'result': 'approve'}\n"
	"                version = 2\n"
	"                s.sendall((json.dumps(out) + '\\n' + hello()).encode())\n";

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Alive and not a zombie (its parent exited: nobody may reap it here). */
static bool fake_alive(pid_t pid)
{
	char path[64], buf[256], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

struct notices {
	unsigned refused;
	char line[512];
};

static void on_notice(void *ctx, const char *line)
{
	struct notices *n = ctx;

	if (strstr(line, "the agent is refused")) {
		n->refused++;
		snprintf(n->line, sizeof(n->line), "%s", line);
	}
}

static void on_recovered(void *ctx, int rc, const struct dhp_error *err)
{
	(void)err;
	*(int *)ctx = rc;
}

struct fake_bed {
	struct testbed tb;
	char dir[32];
	char fake[64], kernel[64];
	struct dhp_qemu_config qc;
	struct notices notices;
};

/* An engine on the QEMU backend whose QEMU is the fake, with partition
 * "p" (s0-cpu0, s0-mem0) created; agent: "2" or "switch". */
static bool fake_bed_open(struct fake_bed *b, const char *agent)
{
	struct dhp_core_config cfg;
	struct dhp_error err = { 0 };
	char path[96];
	int recovered = 1;

	memset(b, 0, sizeof(*b));
	if (access("/usr/bin/python3", X_OK) < 0) {
		test_skip("no /usr/bin/python3 for the fake QEMU");
		return false;
	}
	snprintf(b->dir, sizeof(b->dir), "/tmp/dhp-t1210-XXXXXX");
	if (!mkdtemp(b->dir)) {
		CHECK(0);
		return false;
	}
	setenv("DHP_T1210_AGENT", agent, 1);
	snprintf(b->fake, sizeof(b->fake), "%s/fake-qemu", b->dir);
	snprintf(b->kernel, sizeof(b->kernel), "%s/vmlinuz", b->dir);
	CHECK(write_file(b->fake, fake_qemu, 0700) == 0);
	CHECK(write_file(b->kernel, "", 0600) == 0);
	b->qc = (struct dhp_qemu_config){
		.state_dir = b->dir, .qemu = b->fake, .kernel = b->kernel, .initrd = b->kernel,
		.accel = DHP_QEMU_ACCEL_TCG, .boot_ms = 20000, .notice = on_notice,
		.notice_ctx = &b->notices,
	};
	b->tb.deadline_ms = 30000;
	snprintf(b->tb.dir, sizeof(b->tb.dir), "%s", b->dir);
	b->tb.loop = dhp_loop_new(false);
	snprintf(path, sizeof(path), "%s/state.db", b->dir);
	CHECK_INT(dhp_topology_load("topologies/demo", &b->tb.server, &err), 0);
	CHECK_INT(dhp_store_open(path, &b->tb.store, &err), 0);
	CHECK_MSG(dhp_qemu_new(b->tb.server, b->tb.loop, &b->qc, &b->tb.backend, &err) == 0,
		  "%s", err.message);
	if (!b->tb.backend)
		return false;
	cfg = (struct dhp_core_config){ .server = b->tb.server, .store = b->tb.store,
					.backend = b->tb.backend, .loop = b->tb.loop,
					.phase_deadline_ms = 30000 };
	CHECK_INT(dhp_core_new(&cfg, &b->tb.core, &err), 0);
	CHECK_INT(dhp_core_recover(b->tb.core, on_recovered, &recovered), 0);
	tb_settle(&b->tb);
	CHECK_INT(recovered, 0);
	b->tb.view.n_units = b->tb.server->n_units;
	b->tb.view.units = calloc(b->tb.server->n_units, sizeof(*b->tb.view.units));
	CHECK_INT(tb_create(&b->tb, "p", "linux", "s0-cpu0 s0-mem0", &err), 0);
	return true;
}

static void fake_bed_close(struct fake_bed *b)
{
	char path[96], pidbuf[32];
	long pid = 0;
	int fd;

	tb_close(&b->tb);
	if (!b->dir[0])
		return;
	/* Stopping or rolling back ended the fake; make sure of it. */
	snprintf(path, sizeof(path), "%s/daemon.pid", b->dir);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, pidbuf, sizeof(pidbuf) - 1);

		if (n > 0) {
			pidbuf[n] = '\0';
			pid = strtol(pidbuf, NULL, 10);
		}
		close(fd);
	}
	/* SIGKILL takes effect a little after kill() returns. */
	for (int i = 0; i < 200 && pid > 1 && fake_alive((pid_t)pid); i++)
		usleep(10000);
	if (pid > 1 && fake_alive((pid_t)pid)) {
		CHECK_MSG(0, "the fake QEMU %ld outlived its partition", pid);
		kill((pid_t)pid, SIGKILL);
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", b->dir);
	CHECK(system(path) == 0);
}

/* The guest boots, its agent speaks version 2: the start fails at once. */
static void start_refused(void)
{
	struct fake_bed b;
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	uint64_t t0;

	if (!fake_bed_open(&b, "2"))
		goto out;
	t0 = dhp_loop_now(b.tb.loop);
	CHECK_INT(tb_do(&b.tb, DHP_VERB_START, "p", NULL, &op, &err), 0);
	/* At once: not at the 20 s boot deadline. */
	CHECK_MSG(dhp_loop_now(b.tb.loop) - t0 < 10000, "the start took %llu ms",
		  (unsigned long long)(dhp_loop_now(b.tb.loop) - t0));
	CHECK_MSG(op.state == DHP_OP_ROLLED_BACK && op.error.code == -EPROTONOSUPPORT &&
		  strstr(op.error.message, "the guest of partition 1 booted, but its agent is "
			 "refused: the peer speaks agent protocol version 2; this side "
			 "speaks version 1"),
		  "start ended %s (%d): %s", dhp_op_state_name(op.state), op.error.code,
		  op.error.message);
	CHECK_MSG(strstr(op.error.resolution, "same protocol version") != NULL,
		  "resolution: %s", op.error.resolution);
	CHECK_INT(b.notices.refused, 1);
	CHECK_MSG(strstr(b.notices.line, "partition 1: the agent is refused: the peer speaks "
			 "agent protocol version 2; this side speaks version 1; install a "
			 "dhpd and a dhp-agent of the same protocol version") != NULL,
		  "notice: %s", b.notices.line);
	CHECK_MSG(tb_invariants(&b.tb, &err) == 0, "%s", err.message);
	CHECK(dhp_qemu_partition_pid(b.tb.backend, 1) < 0);
out:
	fake_bed_close(&b);
}

struct done {
	bool called;
	int rc;
	struct dhp_error err;
};

static void on_backend_done(void *ctx, uint64_t token, int rc, const struct dhp_error *err)
{
	struct done *d = ctx;

	(void)token;
	d->called = true;
	d->rc = rc;
	if (err)
		d->err = *err;
}

/* A running partition's agent is replaced by a newer one: the engine hears
 * it is not ready any more, and the backend's online says why. */
static void running_refused(void)
{
	struct fake_bed b;
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	struct dhp_partition *p;
	struct dhp_unit *cpu0;
	struct done notified = { 0 }, online = { 0 };

	if (!fake_bed_open(&b, "switch"))
		goto out;
	CHECK_INT(tb_do(&b.tb, DHP_VERB_START, "p", NULL, &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_COMPLETED, "start ended %s: %s",
		  dhp_op_state_name(op.state), op.error.message);
	p = dhp_server_partition_by_name(b.tb.server, "p");
	cpu0 = dhp_server_unit(b.tb.server, "s0-cpu0");
	if (!p || !cpu0 || op.state != DHP_OP_COMPLETED) {
		CHECK(0);
		goto out;
	}
	CHECK(p->os_ready);
	CHECK_INT(b.notices.refused, 0);
	/* The fake approves this, then says hello as version 2. */
	CHECK_INT(b.tb.backend->ops->notify(b.tb.backend, p, DHP_NOTIFY_ADD_COMPLETE, cpu0,
					    (struct dhp_backend_cb){ on_backend_done,
								     &notified, 1 }), 0);
	RUN_UNTIL(b.tb.loop, notified.called && b.notices.refused == 1 && !p->os_ready);
	CHECK_INT(notified.rc, 0);
	CHECK_INT(b.notices.refused, 1);
	/* The engine refuses online operations itself (core/validate.c)... */
	CHECK_INT(tb_do(&b.tb, DHP_VERB_ADD, "p", "s0-cpu1", &op, &err), -ENOTCONN);
	/* ... and the backend, asked anyway, says why. */
	CHECK_INT(b.tb.backend->ops->online(b.tb.backend, p, cpu0,
					    (struct dhp_backend_cb){ on_backend_done,
								     &online, 2 }), 0);
	RUN_UNTIL(b.tb.loop, online.called);
	CHECK_INT(online.rc, -ENOTCONN);
	CHECK_MSG(strstr(online.err.message, "no agent is connected in partition 1: its OS "
			 "cannot be asked to online (its agent is refused: the peer speaks "
			 "agent protocol version 2"),
		  "online: %s", online.err.message);
	CHECK(strstr(online.err.resolution, "same protocol version") != NULL);
	CHECK_INT(b.notices.refused, 1);
	CHECK_MSG(tb_invariants(&b.tb, &err) == 0, "%s", err.message);
	CHECK_INT(tb_do(&b.tb, DHP_VERB_STOP, "p", NULL, &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_COMPLETED, "stop ended %s: %s",
		  dhp_op_state_name(op.state), op.error.message);
out:
	fake_bed_close(&b);
}

int main(void)
{
	RUN(hello_delivered);
	RUN(replies_by_id);
	RUN(deadline);
	RUN(oversized_line);
	RUN(closed_with_requests_pending);
	RUN(closed_by_dhpd);
	RUN(newer_hello_refused);
	RUN(start_refused);
	RUN(running_refused);
	return test_done();
}
