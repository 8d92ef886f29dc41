/* SPDX-License-Identifier: MIT */
/*
 * The fallback without an agent: the kernel's uevents, over a
 * NETLINK_KOBJECT_UEVENT socket, on any Linux. The kernel says what
 * happened, after it happened, so only complete phases can be told:
 *
 *   processor    online -> add-complete, offline -> remove-complete
 *   memory block online -> add-complete, offline -> remove-complete (the
 *                block's range)
 *   PCI function add -> add-complete, remove -> remove-complete
 *
 * "add" and "remove" of a processor or memory block are not told: the
 * unit is not usable before it is online, and it went offline before it
 * is removed. Only messages from the kernel (sender port 0) are read.
 */
#include "libdhp/internal.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/guest.h"

/* The kernel's multicast group of uevents (udev's is 2). */
#define UEVENT_GROUP 1
#define UEVENT_RCVBUF (1024 * 1024)
/* A uevent is at most a header and UEVENT_BUFFER_SIZE (2048) of keys. */
#define UEVENT_MAX 8192

int libdhp_uevent_open(struct dhp *dhp)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = UEVENT_GROUP };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LIBDHP_TAG_UEVENT };
	int fd, size = UEVENT_RCVBUF, r;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	/* A burst (a memory module is many blocks) must not overflow it:
	 * FORCE works for root, the plain one up to rmem_max otherwise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    epoll_ctl(dhp->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	dhp->uevent_fd = fd;
	return 0;
}

void libdhp_uevent_close(struct dhp *dhp)
{
	if (dhp->uevent_fd < 0)
		return;
	epoll_ctl(dhp->epoll_fd, EPOLL_CTL_DEL, dhp->uevent_fd, NULL);
	close(dhp->uevent_fd);
	dhp->uevent_fd = -1;
}

int libdhp_uevent_change(struct dhp *dhp, const char *buf, size_t len,
			 struct dhp_change *ret_change)
{
	struct dhp_proto_event ev;
	uint32_t phase;
	bool io;
	int r;

	if ((r = dhp_proto_uevent_parse(buf, len, dhp->block_size, &ev)) < 0)
		return r == -EINVAL ? -ENOENT : r;
	io = ev.unit.kind == DHP_PROTO_UNIT_IO_HOST_BRIDGE;
	switch (ev.kind) {
	case DHP_PROTO_EVENT_ONLINE:
		if (io)
			return -ENOENT;
		phase = DHP_PHASE_ADD_COMPLETE;
		break;
	case DHP_PROTO_EVENT_OFFLINE:
		if (io)
			return -ENOENT;
		phase = DHP_PHASE_REMOVE_COMPLETE;
		break;
	case DHP_PROTO_EVENT_ADD:
		if (!io)
			return -ENOENT;
		phase = DHP_PHASE_ADD_COMPLETE;
		break;
	case DHP_PROTO_EVENT_REMOVE:
		if (!io)
			return -ENOENT;
		phase = DHP_PHASE_REMOVE_COMPLETE;
		break;
	default:
		return -ENOENT;
	}
	libdhp_change_init(dhp, phase, &ev.unit, DHP_CHANGE_UEVENT, ret_change);
	return 0;
}

void libdhp_uevent_read(struct dhp *dhp)
{
	char buf[UEVENT_MAX];
	struct dhp_change change;

	for (int i = 0; i < LIBDHP_UEVENTS_MAX && dhp->uevent_fd >= 0; i++) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(dhp->uevent_fd, &mh, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped some: say so, read on. */
			libdhp_transport_update(dhp, -ENOBUFS);
			continue;
		}
		if (n < 0)
			return;
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
			continue;
		if (libdhp_uevent_change(dhp, buf, (size_t)n, &change) < 0)
			continue;
		dhp->handled++;
		libdhp_chain_tell(dhp, &change);
	}
}
