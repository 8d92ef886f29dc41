/* SPDX-License-Identifier: MIT */
/*
 * How long a hardware change takes to reach a libdhp callback, with 1 and
 * with 1,000 programs listening, each its own process:
 *
 *   uevent path   the kernel's uevent (DHP_OPEN_NO_AGENT, the fallback
 *                 without dhp-agent), compared in the same run with a
 *                 plain libudev monitor (udev_monitor_new_from_netlink
 *                 "kernel", subsystem "cpu") receiving the same kind of
 *                 uevent. Target: libdhp's delay at most 1.5 times
 *                 libudev's, median and p99. (uevent.c)
 *   agent path    dhp-agent's relay of a notify request from dhpd to the
 *                 programs registered on its socket (docs/agent-protocol.md,
 *                 Applications): from the request's write to each callback,
 *                 and to the agent's reply (every program answered). It has
 *                 no libudev counterpart, so it has no ratio. (agent-path.c)
 *
 * The uevent is real: as root, writing "online" to
 * /sys/devices/system/cpu/cpu0/uevent makes the kernel broadcast a
 * synthetic uevent (ACTION=online, cpu0) to every NETLINK_KOBJECT_UEVENT
 * socket; nothing changes in the processor. libdhp tells it as add-complete
 * of processor 0 (checked: the phases seen are printed). The agent path
 * runs the real build/dhp-agent (--socket to a fake dhpd: this program;
 * --sysfs a fake tree; --app-socket in a temporary directory; --no-uevents)
 * and needs no root (agent.c).
 *
 * How the receivers time their callbacks: latency.h (struct shared); what
 * their memory costs: block.c (block_memory).
 *
 * Usage: libdhp-latency [SCALE]   (round counts times SCALE, default 1)
 * Skips the uevent path (a '#' line) when not root, when cpu0's uevent file
 * is not writable, when no uevent socket can be opened or when the
 * kernel's uevents do not reach this network namespace. Exits non-zero
 * only when it could not run. Every process it starts is killed and
 * reaped, also on failure; receivers also die with it (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latency.h"

sigset_t stop_signals;

/* SIGINT, SIGTERM: take every child down with us, reaped (kill and
 * waitpid are async-signal-safe). */
static void on_signal(int sig)
{
	pid_t a = agent_pid;

	for (sig_atomic_t i = 0; i < blk.n_pids; i++)
		kill(blk.pids[i], SIGKILL);
	if (a > 0)
		kill(a, SIGKILL);
	for (sig_atomic_t i = 0; i < blk.n_pids; i++)
		waitpid(blk.pids[i], NULL, 0);
	if (a > 0)
		waitpid(a, NULL, 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Busy and total jiffies of all processors (/proc/stat). */
static int cpu_jiffies(unsigned long long *ret_busy, unsigned long long *ret_total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) : 0;

	if (f)
		fclose(f);
	if (n < 5)
		return -EIO;
	*ret_total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*ret_busy = *ret_total - v[3] - v[4];	/* idle, iowait */
	return 0;
}

/* The tails (p99) measure the machine's other work as much as the
 * libraries: say how busy it was in the second before the start. */
static void print_load(void)
{
	unsigned long long b0, t0, b1, t1;

	if (cpu_jiffies(&b0, &t0) < 0)
		return;
	sleep_s(1.0);
	if (cpu_jiffies(&b1, &t1) < 0 || t1 <= t0)
		return;
	printf("# %s: the machine's %ld processors were %.0f %% busy (other work) in the"
	       " second before the start\n", NAME, sysconf(_SC_NPROCESSORS_ONLN),
	       100.0 * (double)(b1 - b0) / (double)(t1 - t0));
}

static uint32_t scaled(uint32_t rounds, double scale)
{
	double v = rounds * scale;

	return v < 1 ? 1 : (uint32_t)v;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	const char *skip = NULL;
	int trigger_fd = -1, r, failed = 0;
	char workdir[256];

	if (!(scale > 0) || argc > 2) {
		fprintf(stderr, "usage: %s [SCALE]  (round counts times SCALE)\n", NAME);
		return 2;
	}
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if ((r = find_agent()) < 0) {
		fprintf(stderr, "%s: no dhp-agent at %s: %s\n", NAME, agent_path, strerror(-r));
		return 1;
	}
	if (workdir_make(workdir, sizeof(workdir)) < 0)
		return 1;
	agent_setup(workdir);
	print_load();

	/* The uevent path. */
	if (geteuid() != 0)
		skip = "needs root (synthetic uevents)";
	else if ((trigger_fd = open(TRIGGER, O_WRONLY | O_CLOEXEC)) < 0)
		skip = "cannot open " TRIGGER " for writing";
	else
		skip = uevent_probe(trigger_fd);
	if (skip) {
		printf("# %s: uevent path skipped: %s\n", NAME, skip);
	} else {
		/* Short blocks: a burst of other work on the machine (a build)
		 * then falls on both libraries alike. */
		r = uevent_path(trigger_fd, 1, 40, scaled(20, scale), 2, 0.005);
		if (r == 0)
			r = uevent_path(trigger_fd, 1000, 4, scaled(25, scale), 2, 0.02);
		failed |= r < 0;
	}
	if (trigger_fd >= 0)
		close(trigger_fd);

	/* The agent path. */
	if (!failed)
		failed |= agent_path_run(1, scaled(400, scale), 0.002) < 0;
	if (!failed)
		failed |= agent_path_run(1000, scaled(100, scale), 0.02) < 0;
	workdir_remove(workdir);
	return failed;
}
