/* SPDX-License-Identifier: MIT */
/*
 * The helper thread, for programs without an event loop: it waits on the
 * handle's descriptor and an eventfd that stops it, and dispatches with the
 * handle's lock held, so callbacks run on it one at a time. It blocks every
 * signal: they stay the program's business.
 */
#include "libdhp/internal.h"

#include "common/fd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
	struct dhp *dhp = arg;
	struct pollfd p[2] = {
		{ .fd = dhp->epoll_fd, .events = POLLIN },
		{ .fd = dhp->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		libdhp_lock(dhp);
		libdhp_dispatch_locked(dhp);
		libdhp_unlock(dhp);
	}
	return NULL;
}

int dhp_start_thread(struct dhp *dhp)
{
	sigset_t all, old;
	int r;

	if (!dhp)
		return -EINVAL;
	libdhp_lock(dhp);
	if (dhp->thread_running) {
		libdhp_unlock(dhp);
		return -EALREADY;
	}
	if (dhp->stop_fd < 0) {
		dhp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dhp->stop_fd < 0) {
			r = -errno;
			libdhp_unlock(dhp);
			return r;
		}
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&dhp->thread, NULL, thread_main, dhp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	dhp->thread_running = r == 0;
	libdhp_unlock(dhp);
	return r;
}

int dhp_stop_thread(struct dhp *dhp)
{
	uint64_t one = 1;
	pthread_t thread;

	if (!dhp)
		return -EINVAL;
	libdhp_lock(dhp);
	if (!dhp->thread_running || dhp->thread_stopping) {
		libdhp_unlock(dhp);
		return 0;
	}
	/* The lock is ours: either no callback runs, or we are in one, on
	 * this thread or the helper (which would then wait for itself). */
	if (dhp->depth || pthread_equal(pthread_self(), dhp->thread)) {
		libdhp_unlock(dhp);
		return -EDEADLK;
	}
	dhp->thread_stopping = true;
	thread = dhp->thread;
	(void)dhp_fd_write(dhp->stop_fd, &one, sizeof(one));
	libdhp_unlock(dhp);
	pthread_join(thread, NULL);
	libdhp_lock(dhp);
	(void)dhp_fd_read(dhp->stop_fd, &one, sizeof(one));	/* emptied for a next start */
	dhp->thread_running = false;
	dhp->thread_stopping = false;
	libdhp_unlock(dhp);
	return 0;
}

void libdhp_thread_release(struct dhp *dhp)
{
	if (dhp->stop_fd >= 0)
		close(dhp->stop_fd);
	dhp->stop_fd = -1;
}
