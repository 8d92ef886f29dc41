/* SPDX-License-Identifier: MIT */
/*
 * The connection to dhp-agent (docs/agent-protocol.md, Applications).
 *
 * The agent sends its hello on accept; we send ours ("NAME[PID]") at once
 * after connecting. Then the agent sends requests: notify (run the chain,
 * answer approve/deny or ok), ping (ok), hello (ours again, then ok);
 * anything else is answered with an error reply. Bad lines are answered as
 * the specification's "Bad input" says, and never end the connection,
 * except a hello of a newer version. Nothing here blocks: a reply the
 * socket does not take at once waits in dhp->out, sent on EPOLLOUT; if
 * the agent stops reading for LIBDHP_OUT_MAX bytes it is dropped.
 */
#include "libdhp/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Stop reading: the connection is to be closed, error says why. */
static void broken(struct dhp *dhp, int error)
{
	if (!dhp->agent_broken) {
		dhp->agent_broken = true;
		dhp->agent_error = error;
	}
}

static void watch_out(struct dhp *dhp, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.u32 = LIBDHP_TAG_AGENT };

	if (dhp->out_watched == on)
		return;
	if (epoll_ctl(dhp->epoll_fd, EPOLL_CTL_MOD, dhp->agent_fd, &ev) == 0)
		dhp->out_watched = on;
}

/* Send what the socket takes now; a failed send marks the agent broken. */
static void send_pending(struct dhp *dhp)
{
	while (dhp->out_len && !dhp->agent_broken) {
		ssize_t n = send(dhp->agent_fd, dhp->out, dhp->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			broken(dhp, -ECONNRESET);
			break;
		}
		memmove(dhp->out, dhp->out + n, dhp->out_len - (size_t)n);
		dhp->out_len -= (size_t)n;
	}
}

void libdhp_agent_flush(struct dhp *dhp)
{
	send_pending(dhp);
	if (dhp->agent_broken)
		libdhp_agent_close(dhp, dhp->agent_error);
	else
		watch_out(dhp, dhp->out_len > 0);
}

/* Queue one line and send what the socket takes now. */
static void send_line(struct dhp *dhp, const char *line, size_t len)
{
	if (dhp->agent_fd < 0 || dhp->agent_broken)
		return;
	if (!dhp->out && !(dhp->out = malloc(LIBDHP_OUT_MAX))) {
		broken(dhp, -ENOMEM);
		return;
	}
	if (dhp->out_len + len > LIBDHP_OUT_MAX) {
		broken(dhp, -ENOBUFS);
		return;
	}
	memcpy(dhp->out + dhp->out_len, line, len);
	dhp->out_len += len;
	send_pending(dhp);
	if (!dhp->agent_broken)
		watch_out(dhp, dhp->out_len > 0);
}

static void send_msg(struct dhp *dhp, const struct dhp_proto_msg *msg)
{
	char line[DHP_PROTO_LINE_MAX + 1];
	size_t len;

	/* Our messages always fit; only memory can fail here. */
	if (dhp_proto_encode(msg, line, sizeof(line), &len, NULL) == 0)
		send_line(dhp, line, len);
}

static void send_hello(struct dhp *dhp)
{
	struct dhp_proto_msg *m = dhp->msg_out;

	memset(m, 0, sizeof(*m));
	m->type = DHP_PROTO_HELLO;
	m->hello.version = DHP_PROTO_VERSION;
	snprintf(m->hello.agent, sizeof(m->hello.agent), "%s", dhp->name);
	send_msg(dhp, m);
}

static void send_error_event(struct dhp *dhp, int code, const char *reason)
{
	struct dhp_proto_msg *m = dhp->msg_out;

	memset(m, 0, sizeof(*m));
	m->type = DHP_PROTO_EVENT;
	m->event.kind = DHP_PROTO_EVENT_ERROR;
	m->event.code = code;
	snprintf(m->event.reason, sizeof(m->event.reason), "%s", reason);
	send_msg(dhp, m);
}

static void send_error_reply(struct dhp *dhp, uint64_t id, int code, const char *reason)
{
	struct dhp_proto_msg *m = dhp->msg_out;

	memset(m, 0, sizeof(*m));
	m->type = DHP_PROTO_REPLY;
	m->reply.id = id;
	m->reply.result = DHP_PROTO_ERROR;
	m->reply.code = code;
	snprintf(m->reply.reason, sizeof(m->reply.reason), "%s", reason);
	send_msg(dhp, m);
}

int libdhp_agent_connect(struct dhp *dhp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LIBDHP_TAG_AGENT };
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, dhp->socket_path, strlen(dhp->socket_path) + 1);
	/* A unix socket connects at once, or fails (EAGAIN: its backlog is
	 * full; we try again later). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    epoll_ctl(dhp->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	dhp->agent_fd = fd;
	dhp->agent_ready = false;
	dhp->agent_broken = false;
	dhp->agent_error = 0;
	dhp->agent_caps = 0;
	dhp->agent_name[0] = '\0';
	dhp->out_len = 0;
	dhp->out_watched = false;
	dhp_proto_reader_init(&dhp->reader);
	send_hello(dhp);
	if (dhp->agent_broken) {
		libdhp_agent_close(dhp, dhp->agent_error);
		return -ECONNRESET;
	}
	return 0;
}

void libdhp_agent_close(struct dhp *dhp, int error)
{
	bool was_ready = dhp->agent_ready;

	if (dhp->agent_fd < 0)
		return;
	epoll_ctl(dhp->epoll_fd, EPOLL_CTL_DEL, dhp->agent_fd, NULL);
	close(dhp->agent_fd);
	dhp->agent_fd = -1;
	dhp->agent_ready = false;
	dhp->agent_broken = false;
	dhp->out_len = 0;
	dhp->out_watched = false;
	dhp_proto_reader_reset(&dhp->reader);
	if (dhp->closing)
		return;
	/* It refused us: no hurry to ask again. */
	if (error == -ENFILE || error == -EPROTONOSUPPORT)
		dhp->backoff_ms = LIBDHP_BACKOFF_MAX_MS;
	libdhp_timer_arm(dhp, dhp->backoff_ms);
	/* Tell the program when it loses the agent, or why it cannot have it;
	 * a connection that simply failed before the hello changes nothing. */
	if (was_ready && !error)
		error = -ECONNRESET;
	libdhp_transport_update(dhp, was_ready || error == -ENFILE || error == -EPROTONOSUPPORT
				? error : 0);
}

/* The agent's hello: from now on it is the transport. */
static void got_hello(struct dhp *dhp, const struct dhp_proto_hello *hello)
{
	snprintf(dhp->agent_name, sizeof(dhp->agent_name), "%s", hello->agent);
	dhp->agent_caps = hello->caps;
	if (dhp->agent_ready)
		return;
	dhp->agent_ready = true;
	dhp->backoff_ms = LIBDHP_BACKOFF_MIN_MS;
	libdhp_timer_arm(dhp, 0);
	libdhp_transport_update(dhp, 0);
}

static void serve(struct dhp *dhp, const struct dhp_proto_request *req)
{
	struct dhp_proto_msg *out = dhp->msg_out;
	char why[DHP_PROTO_TEXT_MAX];

	switch (req->op) {
	case DHP_PROTO_OP_NOTIFY:
		memset(out, 0, sizeof(*out));
		out->type = DHP_PROTO_REPLY;
		out->reply.id = req->id;
		libdhp_chain_notify(dhp, req->note, &req->unit, &out->reply);
		dhp->handled++;
		send_msg(dhp, out);
		break;
	case DHP_PROTO_OP_HELLO:
	case DHP_PROTO_OP_PING:
		/* The hello first: when the agent sees ok, it has it. */
		if (req->op == DHP_PROTO_OP_HELLO)
			send_hello(dhp);
		memset(out, 0, sizeof(*out));
		out->type = DHP_PROTO_REPLY;
		out->reply.id = req->id;
		out->reply.result = DHP_PROTO_OK;
		send_msg(dhp, out);
		break;
	default:
		snprintf(why, sizeof(why), "request: op \"%s\" is dhp-agent's, not an application's",
			 dhp_proto_op_name(req->op));
		send_error_reply(dhp, req->id, -EOPNOTSUPP, why);
		break;
	}
}

/* A line that did not decode: an error reply when it has an id, else an
 * error event; nothing to a reply or an event. A newer agent: we cannot
 * talk to it, so we say so and hang up. */
static void refuse(struct dhp *dhp, const char *line, size_t len, const struct dhp_error *why)
{
	enum dhp_proto_type type;
	uint64_t id;

	if (dhp_proto_peek_type(line, len, &type) &&
	    (type == DHP_PROTO_REPLY || type == DHP_PROTO_EVENT))
		return;
	if (why->code != -EPROTONOSUPPORT && dhp_proto_peek_id(line, len, &id))
		send_error_reply(dhp, id, why->code, why->message);
	else
		send_error_event(dhp, why->code, why->message);
	if (why->code == -EPROTONOSUPPORT)
		broken(dhp, -EPROTONOSUPPORT);
}

static int agent_line(void *ctx, const char *line, size_t len, int rc)
{
	struct dhp *dhp = ctx;
	struct dhp_proto_msg *in = dhp->msg_in;
	struct dhp_error err = { 0 };
	char text[64];

	if (rc == -EMSGSIZE) {
		snprintf(text, sizeof(text), "line longer than %d bytes", DHP_PROTO_LINE_MAX);
		send_error_event(dhp, -EMSGSIZE, text);
	} else if (dhp_proto_decode(line, len, in, &err) < 0) {
		refuse(dhp, line, len, &err);
	} else {
		switch (in->type) {
		case DHP_PROTO_HELLO:
			got_hello(dhp, &in->hello);
			break;
		case DHP_PROTO_REQUEST:
			serve(dhp, &in->request);
			break;
		case DHP_PROTO_EVENT:
			/* An error event before the agent hangs up says why
			 * (ENFILE: too many applications). */
			if (in->event.kind == DHP_PROTO_EVENT_ERROR &&
			    (in->event.code == -ENFILE || in->event.code == -EPROTONOSUPPORT))
				dhp->agent_error = in->event.code;
			break;
		default:
			break;	/* replies: we ask nothing */
		}
	}
	return dhp->agent_broken ? -EPIPE : 0;
}

void libdhp_agent_read(struct dhp *dhp)
{
	char buf[4096];
	size_t total = 0;

	while (dhp->agent_fd >= 0 && !dhp->agent_broken && total < LIBDHP_READ_MAX) {
		ssize_t n = recv(dhp->agent_fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* EOF: the agent stopped, restarted, or refused us
			 * (then its error event said why). */
			broken(dhp, dhp->agent_error ? dhp->agent_error : -ECONNRESET);
			break;
		}
		total += (size_t)n;
		dhp_proto_reader_push(&dhp->reader, buf, (size_t)n, agent_line, dhp, NULL);
	}
	if (dhp->agent_broken)
		libdhp_agent_close(dhp, dhp->agent_error);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void libdhp_agent_wait_hello(struct dhp *dhp, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (dhp->agent_fd >= 0 && !dhp->agent_ready) {
		struct pollfd p = { .fd = dhp->agent_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();

		if (left <= 0)
			return;
		if (dhp->out_len)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return;
		if (p.revents & POLLOUT)
			libdhp_agent_flush(dhp);
		if (dhp->agent_fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			libdhp_agent_read(dhp);
	}
}
