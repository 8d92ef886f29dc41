/* SPDX-License-Identifier: MIT */
/*
 * The agent channel (agent.h). The protocol's own reader splits and caps
 * lines, its codec encodes and decodes them; this file does the socket,
 * the ids, the deadlines, the hello and the refusal of a newer one.
 */
#include "backend/qemu/agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/line.h"

/* Bytes waiting for the socket: a guest that reads nothing must not make
 * dhpd grow. */
#define OUT_MAX (256u * 1024u)

struct pending {
	struct qagent *a;
	uint64_t id;
	enum dhp_proto_op op;
	qagent_reply_fn fn;
	void *ctx;
	struct dhp_timer *timer;
	struct pending *next;
};

struct qagent {
	struct qagent_config cfg;
	int fd;
	struct dhp_io *io;
	struct dhp_proto_reader reader;
	char *out;
	size_t out_len, out_cap;
	struct pending *pending;
	uint64_t next_id;
	struct dhp_proto_hello *hello;		/* the last one; heap: it is large */
	struct dhp_timer *hello_timer;
	uint32_t hello_interval;
	bool refused;		/* the last hello was of a higher major version */
	bool closed, freed;
	unsigned dispatching;
};

static void really_free(struct qagent *a)
{
	while (a->pending) {
		struct pending *p = a->pending;

		a->pending = p->next;
		dhp_timer_cancel(a->cfg.loop, p->timer);
		free(p);
	}
	dhp_timer_cancel(a->cfg.loop, a->hello_timer);
	dhp_io_cancel(a->cfg.loop, a->io);
	if (a->fd >= 0)
		close(a->fd);
	free(a->out);
	free(a->hello);
	free(a);
}

void qagent_free(struct qagent *a)
{
	if (!a)
		return;
	if (a->dispatching)
		a->freed = true;
	else
		really_free(a);
}

/* Returns true when the channel was freed meanwhile. */
static bool dispatch_end(struct qagent *a)
{
	if (--a->dispatching || !a->freed)
		return a->freed;
	really_free(a);
	return true;
}

static struct pending *take_pending(struct qagent *a, uint64_t id)
{
	for (struct pending **pp = &a->pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct pending *p = *pp;

			*pp = p->next;
			dhp_timer_cancel(a->cfg.loop, p->timer);
			return p;
		}
	return NULL;
}

__attribute__((format(printf, 3, 4)))
static void channel_fail(struct qagent *a, int rc, const char *fmt, ...)
{
	struct dhp_error why = { .code = rc };
	va_list ap;

	if (a->closed)
		return;
	a->closed = true;
	dhp_io_cancel(a->cfg.loop, a->io);
	a->io = NULL;
	dhp_timer_cancel(a->cfg.loop, a->hello_timer);
	a->hello_timer = NULL;
	va_start(ap, fmt);
	vsnprintf(why.message, sizeof(why.message), fmt, ap);
	va_end(ap);
	a->dispatching++;
	while (a->pending && !a->freed) {
		struct pending *p = take_pending(a, a->pending->id);
		struct dhp_error e = { 0 };

		dhp_error_set(&e, -ECONNRESET, "agent %s: %s", dhp_proto_op_name(p->op),
			      why.message);
		p->fn(p->ctx, -ECONNRESET, NULL, &e);
		free(p);
	}
	if (!a->freed && a->cfg.on_close)
		a->cfg.on_close(a->cfg.ctx, rc, &why);
	dispatch_end(a);
}

void qagent_close(struct qagent *a)
{
	if (!a)
		return;
	a->cfg.on_close = NULL;
	a->dispatching++;
	channel_fail(a, -ECONNRESET, "dhpd closed the agent channel");
	a->freed = true;
	dispatch_end(a);
}

static void flush_out(struct qagent *a)
{
	while (a->out_len && !a->closed) {
		ssize_t n = write(a->fd, a->out, a->out_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			channel_fail(a, -ECONNRESET, "write failed: %s", strerror(errno));
			return;
		}
		memmove(a->out, a->out + n, a->out_len - (size_t)n);
		a->out_len -= (size_t)n;
	}
	if (!a->closed)
		dhp_io_modify(a->cfg.loop, a->io, DHP_IO_READ | (a->out_len ? DHP_IO_WRITE : 0));
}

static int append_out(struct qagent *a, const char *data, size_t n)
{
	if (a->out_len + n > OUT_MAX)
		return -ENOBUFS;
	if (a->out_len + n > a->out_cap) {
		size_t cap = a->out_cap ? a->out_cap : 4096;
		char *b;

		while (cap < a->out_len + n)
			cap *= 2;
		b = realloc(a->out, cap);
		if (!b)
			return -ENOMEM;
		a->out = b;
		a->out_cap = cap;
	}
	memcpy(a->out + a->out_len, data, n);
	a->out_len += n;
	return 0;
}

static int send_bytes(struct qagent *a, const char *data, size_t n)
{
	int r;

	if (a->closed)
		return -ECONNRESET;
	r = append_out(a, data, n);
	if (r < 0)
		return r;
	flush_out(a);
	return a->closed ? -ECONNRESET : 0;
}

static int send_msg(struct qagent *a, const struct dhp_proto_msg *msg)
{
	char buf[DHP_PROTO_LINE_MAX + 1];
	size_t len;
	int r = dhp_proto_encode(msg, buf, sizeof(buf), &len, NULL);

	return r < 0 ? r : send_bytes(a, buf, len);
}

static void on_reply(struct qagent *a, const struct dhp_proto_reply *rep)
{
	struct pending *p = take_pending(a, rep->id);
	struct dhp_error e = { 0 };
	int rc = 0;

	if (!p)
		return;		/* a hello request, or its deadline passed */
	if (rep->result == DHP_PROTO_DENY)
		rc = dhp_error_set(&e, -EPERM, "%s", rep->reason[0] ? rep->reason : "vetoed");
	else if (rep->result == DHP_PROTO_ERROR)
		rc = dhp_error_set(&e, rep->code < 0 ? rep->code : -EIO, "%s",
				   rep->reason[0] ? rep->reason : "the agent failed");
	p->fn(p->ctx, rc, rep, rc ? &e : NULL);
	free(p);
}

static void got_hello(struct qagent *a, const struct dhp_proto_hello *hello)
{
	if (!a->hello)
		a->hello = malloc(sizeof(*a->hello));
	if (!a->hello)
		return;
	*a->hello = *hello;
	a->refused = false;
	dhp_timer_cancel(a->cfg.loop, a->hello_timer);
	a->hello_timer = NULL;
	if (a->cfg.on_hello)
		a->cfg.on_hello(a->cfg.ctx, a->hello);
}

/* A hello of a higher major version: that agent is absent to us. Asking
 * it for hellos again would only repeat the refusal. */
static void got_refusal(struct qagent *a, const struct dhp_error *why)
{
	if (a->refused)
		return;
	a->refused = true;
	free(a->hello);
	a->hello = NULL;
	dhp_timer_cancel(a->cfg.loop, a->hello_timer);
	a->hello_timer = NULL;
	if (a->cfg.on_refused)
		a->cfg.on_refused(a->cfg.ctx, why);
}

static int on_line(void *ctx, const char *line, size_t len, int rc)
{
	struct qagent *a = ctx;
	struct dhp_error why = { 0 };
	struct dhp_proto_msg *msg;

	if (rc < 0)
		return 0;	/* over the cap: the reader skips it */
	msg = malloc(sizeof(*msg));
	if (!msg)
		return 0;
	/* A hello too new is refused; other lines that do not decode (the
	 * guest's boot noise on a line that was not raw yet, an older
	 * request's echo) are dropped: the requests they might answer time
	 * out. */
	rc = dhp_proto_decode(line, len, msg, &why);
	if (rc == -EPROTONOSUPPORT)
		got_refusal(a, &why);
	else if (rc == 0 && msg->type == DHP_PROTO_HELLO)
		got_hello(a, &msg->hello);
	else if (rc == 0 && msg->type == DHP_PROTO_REPLY)
		on_reply(a, &msg->reply);
	else if (rc == 0 && msg->type == DHP_PROTO_EVENT && a->cfg.on_event)
		a->cfg.on_event(a->cfg.ctx, &msg->event);
	free(msg);
	return a->freed || a->closed;
}

static void read_some(struct qagent *a)
{
	char chunk[8192];
	size_t used = 0;
	ssize_t n = read(a->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		channel_fail(a, n ? -errno : -ECONNRESET, "agent channel closed%s",
			     n ? "" : " (QEMU exited?)");
		return;
	}
	dhp_proto_reader_push(&a->reader, chunk, (size_t)n, on_line, a, &used);
}

static void on_io(void *arg, unsigned events)
{
	struct qagent *a = arg;

	a->dispatching++;
	if (events & (DHP_IO_READ | DHP_IO_ERROR))
		read_some(a);
	if (!a->freed && !a->closed && (events & DHP_IO_WRITE))
		flush_out(a);
	dispatch_end(a);
}

static void on_deadline(void *arg)
{
	struct pending *p = arg;
	struct qagent *a = p->a;
	struct dhp_error e = { 0 };

	p->timer = NULL;
	take_pending(a, p->id);
	dhp_error_set(&e, -ETIMEDOUT, "the agent did not answer %s in time",
		      dhp_proto_op_name(p->op));
	a->dispatching++;
	p->fn(p->ctx, -ETIMEDOUT, NULL, &e);
	free(p);
	dispatch_end(a);
}

static void hello_tick(void *arg)
{
	struct qagent *a = arg;
	struct dhp_proto_msg *msg = calloc(1, sizeof(*msg));	/* large: not on the stack */

	a->hello_timer = NULL;
	a->dispatching++;
	if (msg) {
		msg->type = DHP_PROTO_REQUEST;
		msg->request.id = ++a->next_id;
		msg->request.op = DHP_PROTO_OP_HELLO;
		/* No pending entry: the hello itself is the answer. */
		send_msg(a, msg);
		free(msg);
	}
	if (!a->freed && !a->closed)
		a->hello_timer = dhp_timer_add(a->cfg.loop, a->hello_interval, hello_tick, a);
	dispatch_end(a);
}

int qagent_want_hello(struct qagent *a, uint32_t interval_ms)
{
	if (a->closed)
		return -ECONNRESET;
	a->hello_interval = interval_ms ? interval_ms : 1000;
	dhp_timer_cancel(a->cfg.loop, a->hello_timer);
	a->hello_timer = dhp_timer_add(a->cfg.loop, 0, hello_tick, a);
	return a->hello_timer ? 0 : -ENOMEM;
}

int qagent_request(struct qagent *a, const struct dhp_proto_request *req, uint32_t timeout_ms,
		   qagent_reply_fn fn, void *ctx)
{
	struct dhp_proto_msg *msg;
	struct pending *p;
	int r;

	if (a->closed)
		return -ECONNRESET;
	msg = malloc(sizeof(*msg));
	p = calloc(1, sizeof(*p));
	if (!msg || !p) {
		free(msg);
		free(p);
		return -ENOMEM;
	}
	*p = (struct pending){ .a = a, .id = ++a->next_id, .op = req->op, .fn = fn, .ctx = ctx };
	msg->type = DHP_PROTO_REQUEST;
	msg->request = *req;
	msg->request.id = p->id;
	p->timer = dhp_timer_add(a->cfg.loop, timeout_ms, on_deadline, p);
	/* A failed write closes the channel and calls people back: the
	 * channel stays valid until this returns. */
	a->dispatching++;
	r = p->timer ? send_msg(a, msg) : -ENOMEM;
	free(msg);
	if (r < 0 || a->closed) {
		dhp_timer_cancel(a->cfg.loop, p->timer);
		free(p);
		dispatch_end(a);
		return r < 0 ? r : -ECONNRESET;
	}
	p->next = a->pending;
	a->pending = p;
	dispatch_end(a);
	return 0;
}

const struct dhp_proto_hello *qagent_hello(const struct qagent *a)
{
	return a->hello;
}

int qagent_connect(const struct qagent_config *cfg, struct qagent **ret_agent,
		   struct dhp_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct qagent *a;
	int r;

	if (strlen(cfg->path) >= sizeof(addr.sun_path))
		return dhp_error_set(err, -ENAMETOOLONG, "agent socket path too long: %s",
				     cfg->path);
	memcpy(addr.sun_path, cfg->path, strlen(cfg->path) + 1);
	a = calloc(1, sizeof(*a));
	if (!a)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	a->cfg = *cfg;
	dhp_proto_reader_init(&a->reader);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0 || connect(a->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = dhp_error_set(err, -errno, "cannot connect to the agent channel %s: %s",
				  cfg->path, strerror(errno));
		really_free(a);
		return r;
	}
	/* A newline first ends whatever half line the guest was holding;
	 * written from the loop, so that no callback runs in here. */
	r = append_out(a, "\n", 1);
	if (!r) {
		a->io = dhp_io_add(cfg->loop, a->fd, DHP_IO_READ | DHP_IO_WRITE, on_io, a);
		r = a->io ? 0 : -ENOMEM;
	}
	if (r < 0) {
		really_free(a);
		return dhp_error_set(err, r, "cannot talk to the agent channel %s", cfg->path);
	}
	*ret_agent = a;
	return 0;
}
