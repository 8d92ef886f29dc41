/* SPDX-License-Identifier: MIT */
/* The line to dhpd: the guest's second serial port, or (tests) a unix
 * socket. Opened, written whole, closed; main.c reopens it. */
#include "agent/agent.h"

#include "common/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* Raw 115200 8N1: no echo, no line editing, no CR/LF translation, no flow
 * control, ignore modem lines (QEMU's serial has none). */
static int tty_raw(int fd, struct dhp_error *err)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return dhp_error_set(err, -errno, "cannot read the serial settings: %s",
				     strerror(errno));
	cfmakeraw(&t);
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	t.c_cflag &= ~(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return dhp_error_set(err, -errno, "cannot set the serial port raw: %s",
				     strerror(errno));
	/* Whatever was queued before we were here belongs to no one. */
	tcflush(fd, TCIOFLUSH);
	return 0;
}

static int socket_open(const char *path, struct dhp_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return dhp_error_set(err, -ENAMETOOLONG, "socket path \"%s\" is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot make a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return dhp_error_set(err, -e, "cannot connect to \"%s\": %s", path, strerror(e));
	}
	return fd;
}

int channel_open(struct agent *a, struct dhp_error *err)
{
	int fd, r;

	if (a->cfg.socket) {
		fd = socket_open(a->cfg.socket, err);
		if (fd < 0)
			return fd;
	} else {
		fd = open(a->cfg.device, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return dhp_error_set(err, -errno, "cannot open \"%s\": %s",
					     a->cfg.device, strerror(errno));
		if (isatty(fd) && (r = tty_raw(fd, err)) < 0) {
			close(fd);
			return r;
		}
	}
	a->chan_fd = fd;
	a->chan_broken = false;
	dhp_proto_reader_reset(&a->reader);
	return 0;
}

void channel_close(struct agent *a)
{
	if (a->chan_fd >= 0)
		close(a->chan_fd);
	a->chan_fd = -1;
	a->chan_broken = false;
}

int channel_send(struct agent *a, const struct dhp_proto_msg *msg)
{
	char buf[DHP_PROTO_LINE_MAX + 1];
	struct dhp_error err = { 0 };
	size_t len;
	int r;

	if (a->chan_fd < 0 || a->chan_broken)
		return -ENOTCONN;
	r = dhp_proto_encode(msg, buf, sizeof(buf), &len, &err);
	if (r < 0) {
		/* Our own bug: say so and send nothing rather than half a line. */
		agent_log("cannot encode a %s: %s", dhp_proto_type_name(msg->type), err.message);
		return r;
	}
	r = dhp_fd_write_full(a->chan_fd, buf, len);
	if (r < 0) {
		agent_log("cannot write to dhpd: %s", strerror(-r));
		a->chan_broken = true;
		return r;
	}
	return 0;
}
