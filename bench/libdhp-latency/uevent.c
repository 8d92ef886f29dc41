/* SPDX-License-Identifier: MIT */
/*
 * The uevent path: libdhp (DHP_OPEN_NO_AGENT) against a plain libudev
 * monitor, both woken by the same synthetic uevent of cpu0 (main.c).
 *
 * libdhp and libudev never listen at the same time (both would be woken
 * by every uevent and compete for the processors). They take turns in
 * blocks, in the order libdhp, libudev, libudev, libdhp, ... so that a
 * drift in the machine's load (other builds) weighs on both alike; with
 * one receiver the blocks are short (20 rounds) for the same reason. Both
 * ask for the same 1 MiB netlink receive buffer.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "latency.h"

static const char *const kind_name[] = {
	[RECV_DHP_UEVENT] = "libdhp", [RECV_UDEV] = "libudev", [RECV_DHP_AGENT] = "agent",
};

const char *uevent_probe(int trigger_fd)
{
	static char why[160];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int64_t deadline;
	char buf[8192];
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, sizeof(why), "no NETLINK_KOBJECT_UEVENT socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return why;
	}
	if (pwrite(trigger_fd, "online", 6, 0) != 6) {
		snprintf(why, sizeof(why), "cannot write %s: %s", TRIGGER, strerror(errno));
		close(fd);
		return why;
	}
	deadline = now_ns() + 2000000000;
	while (now_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0 && (buf[n] = '\0', !strcmp(buf, "online@/devices/system/cpu/cpu0"))) {
			close(fd);
			return NULL;
		}
	}
	close(fd);
	return "the kernel's uevents do not reach this network namespace";
}

/* One block of the uevent path: n receivers, warmup + rounds rounds. */
static int uevent_block(int trigger_fd, enum recv_kind kind, uint32_t n, uint32_t warmup,
			uint32_t rounds, double pause_s, struct result *res, bool measure_memory)
{
	uint32_t total = warmup + rounds;
	int64_t *t0 = calloc(total, sizeof(*t0));
	int r;

	if (!t0)
		return -ENOMEM;
	if ((r = block_start(kind, n, total)) < 0) {
		free(t0);
		return r;
	}
	for (uint32_t i = 1; i <= total; i++) {
		bool complete;

		round_open(i);
		t0[i - 1] = now_ns();
		if (pwrite(trigger_fd, "online", 6, 0) != 6) {
			r = -errno;
			fprintf(stderr, "%s: write %s: %s\n", NAME, TRIGGER, strerror(errno));
			goto out;
		}
		complete = wait_arrivals(ROUND_TIMEOUT_S);
		round_close(complete, pause_s);
	}
	res->missed += block_collect(t0, warmup + 1, &res->delay, &res->last);
	res->expected += (uint64_t)rounds * n;
	res->strays += atomic_load(&blk.shm->strays);
	res->overruns += atomic_load(&blk.shm->overruns);
	res->phases |= atomic_load(&blk.shm->phases);
	if (measure_memory)
		block_memory(&res->rss_kib, &res->pss_kib);
out:
	block_stop();
	free(t0);
	return r;
}

/* N receivers per library; blocks alternate libdhp, libudev, libudev,
 * libdhp, ... (n_blocks per library). 0, 1 when skipped, or an error. */
int uevent_path(int trigger_fd, uint32_t n, uint32_t n_blocks, uint32_t rounds,
		uint32_t warmup, double pause_s)
{
	struct result res[2] = { 0 };
	double med[2], p99[2];
	int64_t t_start = now_ns();
	size_t per_kind = (size_t)n_blocks * rounds;
	int r = 0;

	for (int k = 0; k < 2; k++)
		if ((r = samples_init(&res[k].delay, per_kind * n)) < 0 ||
		    (r = samples_init(&res[k].last, per_kind)) < 0)
			goto out;
	for (uint32_t b = 0; b < 2 * n_blocks; b++) {
		/* 0 1 1 0 0 1 1 0 ... */
		enum recv_kind kind = ((b + 1) / 2) % 2 ? RECV_UDEV : RECV_DHP_UEVENT;
		struct result *rs = &res[kind == RECV_UDEV];

		r = uevent_block(trigger_fd, kind, n, warmup, rounds, pause_s, rs, b < 2);
		if (r < 0) {
			if (r == -EPERM || r == -EACCES || r == -EPROTONOSUPPORT) {
				printf("# %s: uevent path skipped: %s cannot open its uevent"
				       " socket: %s\n", NAME, kind_name[kind], strerror(-r));
				r = 1;
			} else {
				fprintf(stderr, "%s: %u %s receivers: %s\n", NAME, n,
					kind_name[kind], strerror(-r));
			}
			goto out;
		}
	}
	printf("# %s: uevent path, N=%u: %u rounds per library in %u blocks each"
	       " (+%u warm-up per block), %.1f s; libdhp told: %s\n", NAME, n,
	       n_blocks * rounds, n_blocks, warmup, (double)(now_ns() - t_start) / 1e9,
	       phase_list(res[0].phases));
	for (int k = 0; k < 2; k++)
		if (res[k].strays || res[k].overruns)
			printf("# %s: %s, N=%u: %llu stray callbacks (not timed), %llu"
			       " ENOBUFS\n", NAME, kind_name[k ? RECV_UDEV : RECV_DHP_UEVENT], n,
			       (unsigned long long)res[k].strays,
			       (unsigned long long)res[k].overruns);
	if (n > 1)
		printf("# %s: N=%u, the last of the N per round: median %.2f ms (libdhp),"
		       " %.2f ms (libudev)\n", NAME, n, quantile(&res[0].last, 0.5) / 1e3,
		       quantile(&res[1].last, 0.5) / 1e3);
	print_delay_rows("libdhp uevent delay", n, &res[0].delay, n > 1, &med[0], &p99[0]);
	print_delay_rows("libudev uevent delay", n, &res[1].delay, n > 1, &med[1], &p99[1]);
	print_ratio("median", med[0], med[1]);
	print_ratio("p99", p99[0], p99[1]);
	print_missed("libdhp", &res[0]);
	print_missed("libudev", &res[1]);
	if (n > 1) {
		row("  RSS per receiver, libdhp", res[0].rss_kib, 0, "KiB", "", "");
		row("  PSS per receiver, libdhp", res[0].pss_kib, 0, "KiB", "", "");
		row("  RSS per receiver, libudev", res[1].rss_kib, 0, "KiB", "", "");
		row("  PSS per receiver, libudev", res[1].pss_kib, 0, "KiB", "", "");
	}
out:
	for (int k = 0; k < 2; k++) {
		samples_release(&res[k].delay);
		samples_release(&res[k].last);
	}
	return r;
}
