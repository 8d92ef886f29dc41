/* SPDX-License-Identifier: MIT */
/*
 * A receiver: a child forked by block_start, listening the way a program
 * would (libdhp, or plain libudev), timing each callback into its slot of
 * the shared memory (latency.h, struct shared). It runs until the parent
 * kills it, or dies with it.
 */
#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dhp/dhp.h"
#include "latency.h"

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static _Noreturn void receiver_fail(int error)
{
	int32_t none = 0;

	atomic_compare_exchange_strong(&blk.shm->error, &none, error);
	atomic_fetch_add(&blk.shm->failed, 1);
	_exit(1);
}

static void ready(void)
{
	atomic_fetch_add(&blk.shm->ready, 1);
}

/* A callback at time t: into this receiver's slot of the round under way. */
static void record(int64_t t)
{
	struct shared *s = blk.shm;
	uint32_t r = atomic_load_explicit(&s->round, memory_order_acquire);
	int64_t none = 0;

	if (!r || r > blk.rounds ||
	    !atomic_compare_exchange_strong(&s->t[(size_t)(r - 1) * blk.n + blk.index], &none, t)) {
		atomic_fetch_add(&s->strays, 1);
		return;
	}
	if (atomic_fetch_add_explicit(&s->arrived, 1, memory_order_release) + 1 == blk.n)
		futex_wake(&s->arrived);
}

static int on_change(const struct dhp_change *c, char *reason, size_t reason_size,
		     void *userdata)
{
	int64_t t = now_ns();

	(void)reason, (void)reason_size, (void)userdata;
	if (c->kind != DHP_KIND_PROCESSOR || c->processor.cpu != 0)
		return 0;
	if (c->phase < 32)
		atomic_fetch_or(&blk.shm->phases, 1u << c->phase);
	record(t);
	return 0;
}

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	(void)dhp, (void)transport, (void)userdata;
	if (error == -ENOBUFS)
		atomic_fetch_add(&blk.shm->overruns, 1);
}

/* libdhp as a program uses it: its descriptor in poll, dhp_dispatch. Ready
 * once the transport is the one measured (the agent's hello may come after
 * dhp_open returns when a thousand programs connect at once). */
static _Noreturn void receive_libdhp(uint32_t flags, uint32_t transport)
{
	struct dhp_registration *reg;
	struct dhp *dhp;
	bool is_ready = false;
	int r;

	if ((r = dhp_open(&dhp, "bench", flags)) < 0)
		receiver_fail(r);
	dhp_set_transport_callback(dhp, on_transport, NULL);
	if ((r = dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, NULL, &reg)) < 0)
		receiver_fail(r);
	for (;;) {
		struct pollfd p = { .fd = dhp_get_fd(dhp), .events = POLLIN };

		if (!is_ready && dhp_transport(dhp) == (int)transport) {
			is_ready = true;
			ready();
		}
		poll(&p, 1, is_ready ? -1 : 100);
		if ((r = dhp_dispatch(dhp)) < 0 && r != -EINTR)
			receiver_fail(r);
	}
}

/* The plain libudev way: a kernel monitor filtered on "cpu". The time is
 * taken when libudev hands over the device, as libdhp's at the callback's
 * entry: both have parsed the uevent and chosen to tell it. */
static _Noreturn void receive_libudev(void)
{
	struct udev_monitor *mon;
	struct udev *udev;
	int r, fd;

	errno = 0;
	if (!(udev = udev_new()))
		receiver_fail(-ENOMEM);
	if (!(mon = udev_monitor_new_from_netlink(udev, "kernel")))
		receiver_fail(errno > 0 ? -errno : -EPROTONOSUPPORT);
	if ((r = udev_monitor_filter_add_match_subsystem_devtype(mon, "cpu", NULL)) < 0)
		receiver_fail(r);
	udev_monitor_set_receive_buffer_size(mon, RCVBUF);
	if ((r = udev_monitor_enable_receiving(mon)) < 0)
		receiver_fail(r);
	fd = udev_monitor_get_fd(mon);
	ready();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct udev_device *dev;
		const char *action, *sysname;
		int64_t t;

		poll(&p, 1, -1);
		errno = 0;
		dev = udev_monitor_receive_device(mon);
		t = now_ns();
		if (!dev) {
			if (errno == ENOBUFS)
				atomic_fetch_add(&blk.shm->overruns, 1);
			continue;
		}
		action = udev_device_get_action(dev);
		sysname = udev_device_get_sysname(dev);
		if (action && sysname && !strcmp(action, "online") && !strcmp(sysname, "cpu0"))
			record(t);
		udev_device_unref(dev);
	}
}

_Noreturn void receiver_main(const sigset_t *mask)
{
	/* The parent's handlers kill the whole block: not ours to run. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	switch (blk.kind) {
	case RECV_DHP_UEVENT:
		receive_libdhp(DHP_OPEN_NO_AGENT, DHP_TRANSPORT_UEVENT);
	case RECV_UDEV:
		receive_libudev();
	case RECV_DHP_AGENT:
		receive_libdhp(DHP_OPEN_NO_UEVENTS, DHP_TRANSPORT_AGENT);
	}
	_exit(1);
}
