/* SPDX-License-Identifier: MIT */
/*
 * The handle: open, close, the one descriptor and dispatch, the transport.
 *
 * The descriptor the program watches is an epoll set that holds, as the
 * transport requires, the agent's socket, the netlink socket of the
 * fallback and a timerfd for reconnecting to the agent. It never changes,
 * so the program's loop need not hear of transports at all.
 *
 * The transport is "agent" from the agent's hello until its connection
 * ends; otherwise "uevent" when the netlink socket is open, else "none".
 * While the agent is away the library keeps the fallback open and tries
 * the agent again with a back-off.
 */
#include "libdhp/internal.h"

#include "common/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

void libdhp_lock(struct dhp *dhp)
{
	pthread_mutex_lock(&dhp->lock);
}

void libdhp_unlock(struct dhp *dhp)
{
	pthread_mutex_unlock(&dhp->lock);
}

void libdhp_timer_arm(struct dhp *dhp, unsigned ms)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timerfd_settime(dhp->timer_fd, 0, &its, NULL);
}

/* Keep the netlink socket open exactly while it is the transport to use:
 * the agent is not in use and the program did not refuse uevents. */
static void fallback_sync(struct dhp *dhp)
{
	bool want = !(dhp->agent_fd >= 0 && dhp->agent_ready) &&
		    !(dhp->flags & DHP_OPEN_NO_UEVENTS);

	if (want && dhp->uevent_fd < 0)
		libdhp_uevent_open(dhp);	/* on failure: transport none */
	else if (!want && dhp->uevent_fd >= 0)
		libdhp_uevent_close(dhp);
}

void libdhp_transport_update(struct dhp *dhp, int error)
{
	uint32_t t;
	bool changed;

	if (dhp->closing)
		return;
	fallback_sync(dhp);
	t = dhp->agent_fd >= 0 && dhp->agent_ready ? DHP_TRANSPORT_AGENT
	    : dhp->uevent_fd >= 0 ? DHP_TRANSPORT_UEVENT : DHP_TRANSPORT_NONE;
	changed = t != dhp->transport;
	dhp->transport = t;
	if ((changed || error) && dhp->transport_fn) {
		dhp->depth++;
		dhp->transport_fn(dhp, t, error, dhp->transport_userdata);
		dhp->depth--;
		libdhp_sweep(dhp);
	}
}

/* "NAME[PID]", printable ASCII, within the protocol's name cap. */
static void make_name(struct dhp *dhp, const char *app_name)
{
	char pid[24];
	size_t room, n = 0;

	if (!app_name || !*app_name)
		app_name = program_invocation_short_name;
	snprintf(pid, sizeof(pid), "[%ld]", (long)getpid());
	room = sizeof(dhp->name) - 1 - strlen(pid);
	for (const char *p = app_name; *p && n < room; p++)
		dhp->name[n++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
	memcpy(dhp->name + n, pid, strlen(pid) + 1);
}

static int epoll_add(struct dhp *dhp, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(dhp->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int handle_new(struct dhp **ret, const char *app_name, uint32_t flags)
{
	pthread_mutexattr_t attr;
	const char *path;
	struct dhp *dhp;

	dhp = calloc(1, sizeof(*dhp));
	if (!dhp)
		return -ENOMEM;
	dhp->sysfs_fd = dhp->epoll_fd = dhp->timer_fd = -1;
	dhp->agent_fd = dhp->uevent_fd = dhp->stop_fd = -1;
	dhp->flags = flags;
	dhp->next_serial = 1;
	dhp_proto_records_init(&dhp->records, LIBDHP_RECORDS_MAX);
	dhp->backoff_ms = LIBDHP_BACKOFF_MIN_MS;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&dhp->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	make_name(dhp, app_name);
	/* The library is told its paths by the environment only where that
	 * is safe: never in a set-user-ID program (secure_getenv). */
	path = secure_getenv("DHP_AGENT_SOCKET");
	if (!path || !*path)
		path = LIBDHP_AGENT_SOCKET;
	if (strlen(path) >= sizeof(dhp->socket_path)) {
		pthread_mutex_destroy(&dhp->lock);
		free(dhp);
		return -ENAMETOOLONG;
	}
	memcpy(dhp->socket_path, path, strlen(path) + 1);
	*ret = dhp;
	return 0;
}

static int handle_fds(struct dhp *dhp)
{
	const char *root = secure_getenv("DHP_SYSFS_ROOT");

	if (!root || !*root)
		root = "/sys";
	/* Without sysfs the queries fail, but notifications still work. */
	dhp->sysfs_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	dhp->sysfs_error = dhp->sysfs_fd < 0 ? -errno : 0;
	dhp->block_size = libdhp_sysfs_block_size(dhp);
	dhp->msg_in = calloc(1, sizeof(*dhp->msg_in));
	dhp->msg_out = calloc(1, sizeof(*dhp->msg_out));
	if (!dhp->msg_in || !dhp->msg_out)
		return -ENOMEM;
	dhp->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (dhp->epoll_fd < 0)
		return -errno;
	dhp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (dhp->timer_fd < 0)
		return -errno;
	return epoll_add(dhp, dhp->timer_fd, LIBDHP_TAG_TIMER);
}

int dhp_open(struct dhp **ret, const char *app_name, uint32_t flags)
{
	const uint32_t both = DHP_OPEN_NO_AGENT | DHP_OPEN_NO_UEVENTS;
	struct dhp *dhp = NULL;
	int r;

	if (!ret || (flags & ~both) || (flags & both) == both)
		return -EINVAL;
	if ((r = handle_new(&dhp, app_name, flags)) < 0)
		return r;
	if ((r = handle_fds(dhp)) < 0)
		goto fail;
	if (!(flags & DHP_OPEN_NO_AGENT)) {
		if (libdhp_agent_connect(dhp) == 0)
			libdhp_agent_wait_hello(dhp, LIBDHP_HELLO_WAIT_MS);
		else
			libdhp_timer_arm(dhp, dhp->backoff_ms);
	}
	libdhp_transport_update(dhp, 0);
	/* Uevents were the only way, and they cannot be had. */
	if ((flags & DHP_OPEN_NO_AGENT) && dhp->uevent_fd < 0) {
		r = libdhp_uevent_open(dhp);
		if (r < 0)
			goto fail;
		dhp->transport = DHP_TRANSPORT_UEVENT;
	}
	*ret = dhp;
	return 0;
fail:
	dhp_close(dhp);
	return r;
}

void dhp_close(struct dhp *dhp)
{
	if (!dhp)
		return;
	/* From a callback it would free what the chain walks: refused. */
	libdhp_lock(dhp);
	if (dhp->depth) {
		libdhp_unlock(dhp);
		return;
	}
	libdhp_unlock(dhp);
	dhp_stop_thread(dhp);
	libdhp_thread_release(dhp);
	dhp->closing = true;
	if (dhp->agent_fd >= 0)
		libdhp_agent_close(dhp, 0);
	libdhp_uevent_close(dhp);
	libdhp_free_registrations(dhp);
	dhp_proto_records_release(&dhp->records);
	if (dhp->timer_fd >= 0)
		close(dhp->timer_fd);
	if (dhp->epoll_fd >= 0)
		close(dhp->epoll_fd);
	if (dhp->sysfs_fd >= 0)
		close(dhp->sysfs_fd);
	free(dhp->out);
	free(dhp->msg_in);
	free(dhp->msg_out);
	pthread_mutex_destroy(&dhp->lock);
	free(dhp);
}

int dhp_get_fd(struct dhp *dhp)
{
	return dhp ? dhp->epoll_fd : -EINVAL;
}

int dhp_transport(struct dhp *dhp)
{
	int t;

	if (!dhp)
		return -EINVAL;
	libdhp_lock(dhp);
	t = (int)dhp->transport;
	libdhp_unlock(dhp);
	return t;
}

int dhp_set_transport_callback(struct dhp *dhp, dhp_transport_fn fn, void *userdata)
{
	if (!dhp)
		return -EINVAL;
	libdhp_lock(dhp);
	dhp->transport_fn = fn;
	dhp->transport_userdata = userdata;
	libdhp_unlock(dhp);
	return 0;
}

/* The back-off timer fired: try the agent again. */
static void timer_fired(struct dhp *dhp)
{
	uint64_t expirations;

	(void)dhp_fd_read(dhp->timer_fd, &expirations, sizeof(expirations));
	if (dhp->agent_fd >= 0 || (dhp->flags & DHP_OPEN_NO_AGENT))
		return;
	if (libdhp_agent_connect(dhp) == 0)
		return;		/* the hello will make it the transport */
	dhp->backoff_ms = dhp->backoff_ms * 2 > LIBDHP_BACKOFF_MAX_MS ? LIBDHP_BACKOFF_MAX_MS
								 : dhp->backoff_ms * 2;
	libdhp_timer_arm(dhp, dhp->backoff_ms);
}

int libdhp_dispatch_locked(struct dhp *dhp)
{
	struct epoll_event ev[8];
	int n;

	if (dhp->depth)
		return -EBUSY;
	dhp->handled = 0;
	n = epoll_wait(dhp->epoll_fd, ev, 8, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		switch (ev[i].data.u32) {
		case LIBDHP_TAG_AGENT:
			/* It may have been replaced in this round: a stale
			 * event on a new socket only reads nothing. */
			if (dhp->agent_fd >= 0 && (ev[i].events & EPOLLOUT))
				libdhp_agent_flush(dhp);
			if (dhp->agent_fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				libdhp_agent_read(dhp);
			break;
		case LIBDHP_TAG_UEVENT:
			if (dhp->uevent_fd >= 0)
				libdhp_uevent_read(dhp);
			break;
		case LIBDHP_TAG_TIMER:
			timer_fired(dhp);
			break;
		default:
			break;
		}
	}
	return dhp->handled;
}

int dhp_dispatch(struct dhp *dhp)
{
	int r;

	if (!dhp)
		return -EINVAL;
	libdhp_lock(dhp);
	if (dhp->thread_running && !pthread_equal(pthread_self(), dhp->thread))
		r = -EBUSY;
	else
		r = libdhp_dispatch_locked(dhp);
	libdhp_unlock(dhp);
	return r;
}
