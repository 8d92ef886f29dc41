/* SPDX-License-Identifier: MIT */
/* The built-in event loop: timers in order, virtual time, descriptors. */
#include <string.h>
#include <unistd.h>

#include "common/loop.h"
#include "harness.h"

static char order[16];
static size_t n_order;

static void mark(void *arg)
{
	if (n_order < sizeof(order) - 1)
		order[n_order++] = *(const char *)arg;
}

/* Timers run by due time, then in the order they were armed; a cancelled
 * one never runs; a virtual clock jumps without sleeping. */
static void test_timers(void)
{
	struct dhp_loop *loop = dhp_loop_new(true);
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	struct dhp_timer *t;

	n_order = 0;
	dhp_timer_add(loop, 30000, mark, (void *)&c);
	dhp_timer_add(loop, 10, mark, (void *)&a);
	dhp_timer_add(loop, 10, mark, (void *)&b);
	t = dhp_timer_add(loop, 20, mark, (void *)&d);
	dhp_timer_cancel(loop, t);
	CHECK_INT(dhp_loop_pending(loop), 3);
	dhp_loop_run(loop);
	order[n_order] = '\0';
	CHECK_STR(order, "abc");
	CHECK_INT(dhp_loop_now(loop), 30000);
	dhp_loop_free(loop);
}

struct reader {
	struct dhp_loop *loop;
	struct dhp_io *io;
	int fd;
	char got[8];
	unsigned calls;
};

static void on_readable(void *arg, unsigned events)
{
	struct reader *r = arg;
	ssize_t n;

	r->calls++;
	if (!(events & DHP_IO_READ))
		return;
	n = read(r->fd, r->got, sizeof(r->got) - 1);
	if (n > 0)
		r->got[n] = '\0';
	dhp_io_cancel(r->loop, r->io);	/* from inside its own callback */
}

static void write_later(void *arg)
{
	int fd = *(int *)arg;

	CHECK_INT(write(fd, "hi", 2), 2);
}

/* A descriptor becomes readable while a timer is pending; the reader
 * cancels itself; the loop then ends with nothing left to watch. */
static void test_descriptors(void)
{
	struct dhp_loop *loop = dhp_loop_new(false);
	struct reader r = { .loop = loop };
	int fds[2];

	CHECK_INT(pipe(fds), 0);
	r.fd = fds[0];
	r.io = dhp_io_add(loop, fds[0], DHP_IO_READ, on_readable, &r);
	CHECK(r.io != NULL);
	dhp_timer_add(loop, 20, write_later, &fds[1]);
	CHECK_INT(dhp_loop_pending(loop), 2);
	dhp_loop_run(loop);
	CHECK_STR(r.got, "hi");
	CHECK_INT(r.calls, 1);
	CHECK_INT(dhp_loop_pending(loop), 0);
	close(fds[0]);
	close(fds[1]);
	dhp_loop_free(loop);
}

int main(void)
{
	RUN(test_timers);
	RUN(test_descriptors);
	return test_done();
}
