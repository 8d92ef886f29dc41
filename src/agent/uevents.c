/* SPDX-License-Identifier: MIT */
/* The kernel's uevents about processors, memory and PCI, relayed to dhpd
 * as events: what the guest saw on its own (a unit arriving, or going
 * online or offline without being asked). */
#include "agent/agent.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/guest.h"

/* The kernel's uevent buffer is 2048 bytes (UEVENT_BUFFER_SIZE). */
#define UEVENT_MAX 8192

int uevents_open(struct agent *a)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd;

	/* Group 1 is the kernel's own messages (udev's are group 2). */
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	a->uevent_fd = fd;
	return 0;
}

void uevents_close(struct agent *a)
{
	if (a->uevent_fd >= 0)
		close(a->uevent_fd);
	a->uevent_fd = -1;
}

/* Read what is queued; relay those about units. */
void uevents_relay(struct agent *a)
{
	struct dhp_proto_msg *msg = calloc(1, sizeof(*msg));
	char *buf = malloc(UEVENT_MAX);
	uint64_t bs = sysfs_block_size(a);

	while (msg && buf) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, UEVENT_MAX - 1 };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(a->uevent_fd, &mh, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EAGAIN: all read; ENOBUFS: some lost */
		/* Only the kernel (port 0) speaks for the hardware. */
		if (from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
			continue;
		buf[n] = '\0';
		memset(msg, 0, sizeof(*msg));
		msg->type = DHP_PROTO_EVENT;
		if (dhp_proto_uevent_parse(buf, (size_t)n, bs, &msg->event) < 0)
			continue;
		agent_debug(a, "uevent: %s %s", dhp_proto_event_kind_name(msg->event.kind),
			    dhp_proto_unit_kind_name(msg->event.unit.kind));
		channel_send(a, msg);
	}
	free(buf);
	free(msg);
}
