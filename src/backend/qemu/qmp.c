/* SPDX-License-Identifier: MIT */
/*
 * The QMP client. QEMU writes one JSON object per line: the greeting
 * {"QMP": ...}, replies {"return"|"error": ..., "id": N} and events
 * {"event": ..., "data": ...}. Commands are queued until the greeting has
 * come and qmp_capabilities has been sent in front of them.
 *
 * Callbacks may free the client: it is then only marked, and freed when
 * the dispatch that called them unwinds (STYLE.md 11).
 */
#include "backend/qemu/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct pending {
	struct qmp *qmp;
	uint64_t id;
	char execute[48];
	qmp_reply_fn fn;
	void *ctx;
	struct dhp_timer *timer;
	struct pending *next;
};

struct qmp {
	struct qmp_config cfg;
	int fd;
	struct dhp_io *io;
	char *in, *out;
	size_t in_len, in_cap, out_len, out_cap;
	struct pending *pending;
	uint64_t next_id;
	bool greeted, closed, freed;
	unsigned dispatching;
};

static int buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *b;

		while (c < *len + n)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	return 0;
}

static void really_free(struct qmp *qmp)
{
	while (qmp->pending) {
		struct pending *p = qmp->pending;

		qmp->pending = p->next;
		dhp_timer_cancel(qmp->cfg.loop, p->timer);
		free(p);
	}
	dhp_io_cancel(qmp->cfg.loop, qmp->io);
	if (qmp->fd >= 0)
		close(qmp->fd);
	free(qmp->in);
	free(qmp->out);
	free(qmp);
}

void qmp_free(struct qmp *qmp)
{
	if (!qmp)
		return;
	if (qmp->dispatching)
		qmp->freed = true;
	else
		really_free(qmp);
}

static void dispatch_begin(struct qmp *qmp)
{
	qmp->dispatching++;
}

/* Returns true when the client was freed meanwhile (stop touching it). */
static bool dispatch_end(struct qmp *qmp)
{
	if (--qmp->dispatching || !qmp->freed)
		return qmp->freed;
	really_free(qmp);
	return true;
}

static struct pending *take_pending(struct qmp *qmp, uint64_t id)
{
	for (struct pending **pp = &qmp->pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct pending *p = *pp;

			*pp = p->next;
			dhp_timer_cancel(qmp->cfg.loop, p->timer);
			return p;
		}
	return NULL;
}

/* The connection is over: answer everyone, then say so once. */
__attribute__((format(printf, 3, 4)))
static void qmp_fail(struct qmp *qmp, int rc, const char *fmt, ...)
{
	struct dhp_error why = { .code = rc };
	va_list ap;

	if (qmp->closed)
		return;
	qmp->closed = true;
	dhp_io_cancel(qmp->cfg.loop, qmp->io);
	qmp->io = NULL;
	va_start(ap, fmt);
	vsnprintf(why.message, sizeof(why.message), fmt, ap);
	va_end(ap);
	dispatch_begin(qmp);
	while (qmp->pending && !qmp->freed) {
		struct pending *p = take_pending(qmp, qmp->pending->id);
		struct dhp_error e = { 0 };

		dhp_error_set(&e, -ECONNRESET, "QMP %s: %s", p->execute, why.message);
		p->fn(p->ctx, -ECONNRESET, NULL, &e);
		free(p);
	}
	if (!qmp->freed && qmp->cfg.on_close)
		qmp->cfg.on_close(qmp->cfg.ctx, rc, &why);
	dispatch_end(qmp);
}

static void flush_out(struct qmp *qmp)
{
	while (qmp->greeted && qmp->out_len && !qmp->closed) {
		ssize_t n = write(qmp->fd, qmp->out, qmp->out_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			qmp_fail(qmp, -ECONNRESET, "write failed: %s", strerror(errno));
			return;
		}
		memmove(qmp->out, qmp->out + n, qmp->out_len - (size_t)n);
		qmp->out_len -= (size_t)n;
	}
	if (!qmp->closed)
		dhp_io_modify(qmp->cfg.loop, qmp->io,
			      DHP_IO_READ | (qmp->out_len && qmp->greeted ? DHP_IO_WRITE : 0));
}

static void on_reply(struct qmp *qmp, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *error = json_object_get(msg, "error");
	struct pending *p = json_is_integer(id) ? take_pending(qmp, (uint64_t)json_integer_value(id))
						: NULL;
	struct dhp_error e = { 0 };

	if (!p)
		return;		/* its deadline passed: already answered */
	if (error) {
		dhp_error_set(&e, -EIO, "QMP %s: %s: %s", p->execute,
			      json_string_value(json_object_get(error, "class")) ?: "Error",
			      json_string_value(json_object_get(error, "desc")) ?: "");
		p->fn(p->ctx, -EIO, NULL, &e);
	} else {
		p->fn(p->ctx, 0, json_object_get(msg, "return"), NULL);
	}
	free(p);
}

static int send_line(struct qmp *qmp, const char *execute, json_t *args, uint64_t id, bool front);

static void on_line(struct qmp *qmp, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!json_is_object(msg)) {
		json_decref(msg);
		qmp_fail(qmp, -EPROTO, "QEMU sent something that is not a JSON object: %s",
			 jerr.text);
		return;
	}
	if (json_object_get(msg, "QMP")) {
		qmp->greeted = true;
		/* Command mode first, ahead of anything queued meanwhile. */
		send_line(qmp, "qmp_capabilities", NULL, 0, true);
	} else if (json_object_get(msg, "event")) {
		if (qmp->cfg.on_event)
			qmp->cfg.on_event(qmp->cfg.ctx,
					  json_string_value(json_object_get(msg, "event")) ?: "",
					  json_object_get(msg, "data"));
	} else {
		on_reply(qmp, msg);
	}
	json_decref(msg);
}

static void read_lines(struct qmp *qmp)
{
	size_t max = qmp->cfg.max_line ? qmp->cfg.max_line : (1u << 20);
	char chunk[8192];
	ssize_t n = read(qmp->fd, chunk, sizeof(chunk));
	size_t start = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		qmp_fail(qmp, n ? -errno : -ECONNRESET, "connection to QEMU lost%s",
			 n ? "" : " (QEMU exited?)");
		return;
	}
	if (buf_append(&qmp->in, &qmp->in_len, &qmp->in_cap, chunk, (size_t)n)) {
		qmp_fail(qmp, -ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < qmp->in_len && !qmp->closed && !qmp->freed; i++)
		if (qmp->in[i] == '\n') {
			on_line(qmp, qmp->in + start, i - start);
			start = i + 1;
		}
	if (qmp->freed || qmp->closed)
		return;
	memmove(qmp->in, qmp->in + start, qmp->in_len - start);
	qmp->in_len -= start;
	if (qmp->in_len > max)
		qmp_fail(qmp, -EMSGSIZE, "QEMU sent a line longer than %zu bytes", max);
}

static void on_io(void *arg, unsigned events)
{
	struct qmp *qmp = arg;

	dispatch_begin(qmp);
	if (events & (DHP_IO_READ | DHP_IO_ERROR))
		read_lines(qmp);
	if (!qmp->freed && !qmp->closed && (events & DHP_IO_WRITE))
		flush_out(qmp);
	dispatch_end(qmp);
}

static void on_deadline(void *arg)
{
	struct pending *p = arg;
	struct qmp *qmp = p->qmp;
	struct dhp_error e = { 0 };

	p->timer = NULL;
	take_pending(qmp, p->id);
	dhp_error_set(&e, -ETIMEDOUT, "QMP %s: no answer in time", p->execute);
	dispatch_begin(qmp);
	p->fn(p->ctx, -ETIMEDOUT, NULL, &e);
	free(p);
	dispatch_end(qmp);
}

/* Queue one command line; with front, ahead of those already queued. */
static int send_line(struct qmp *qmp, const char *execute, json_t *args, uint64_t id, bool front)
{
	json_t *cmd = json_pack("{s:s, s:I}", "execute", execute, "id", (json_int_t)id);
	char *text = NULL;
	size_t len, old = qmp->out_len;
	int r = -ENOMEM;

	if (cmd && args)
		json_object_set(cmd, "arguments", args);
	if (cmd)
		text = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';	/* over the terminating NUL: json_dumps gave len + 1 */
	r = buf_append(&qmp->out, &qmp->out_len, &qmp->out_cap, text, len + 1);
	if (!r && front) {
		memmove(qmp->out + len + 1, qmp->out, old);
		memcpy(qmp->out, text, len + 1);
	}
	free(text);
	if (!r && qmp->greeted)
		flush_out(qmp);
	return r;
}

int qmp_command(struct qmp *qmp, const char *execute, json_t *args, uint32_t timeout_ms,
		qmp_reply_fn fn, void *ctx)
{
	struct pending *p;
	int r;

	if (qmp->closed) {
		json_decref(args);
		return -ECONNRESET;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		json_decref(args);
		return -ENOMEM;
	}
	*p = (struct pending){ .qmp = qmp, .id = ++qmp->next_id, .fn = fn, .ctx = ctx };
	snprintf(p->execute, sizeof(p->execute), "%s", execute);
	p->timer = dhp_timer_add(qmp->cfg.loop, timeout_ms, on_deadline, p);
	/* A failed write closes the connection and calls people back, who
	 * may free the client: it stays valid until this returns. */
	dispatch_begin(qmp);
	r = p->timer ? send_line(qmp, execute, args, p->id, false) : -ENOMEM;
	json_decref(args);
	if (r < 0 || qmp->closed) {
		dhp_timer_cancel(qmp->cfg.loop, p->timer);
		free(p);
		dispatch_end(qmp);
		return r < 0 ? r : -ECONNRESET;
	}
	p->next = qmp->pending;
	qmp->pending = p;
	dispatch_end(qmp);
	return 0;
}

int qmp_connect(const struct qmp_config *config, uint32_t timeout_ms,
		qmp_reply_fn ready, void *ready_ctx, struct qmp **ret_qmp,
		struct dhp_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct qmp *qmp;
	int r;

	if (strlen(config->path) >= sizeof(addr.sun_path))
		return dhp_error_set(err, -ENAMETOOLONG, "QMP socket path too long: %s",
				     config->path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", config->path);
	qmp = calloc(1, sizeof(*qmp));
	if (!qmp)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	qmp->cfg = *config;
	qmp->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (qmp->fd < 0 || connect(qmp->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = dhp_error_set(err, -errno, "cannot connect to QMP at %s: %s", config->path,
				  strerror(errno));
		really_free(qmp);
		return r;
	}
	qmp->io = dhp_io_add(config->loop, qmp->fd, DHP_IO_READ, on_io, qmp);
	/* The reply to this first command says command mode has begun: the
	 * greeting puts qmp_capabilities ahead of it. */
	r = qmp->io ? qmp_command(qmp, "query-status", NULL, timeout_ms, ready, ready_ctx)
		    : -ENOMEM;
	if (r < 0) {
		really_free(qmp);
		return dhp_error_set(err, r, "cannot talk to QMP at %s", config->path);
	}
	*ret_qmp = qmp;
	return 0;
}
