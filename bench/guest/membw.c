/* SPDX-License-Identifier: MIT */
/*
 * dhp-membw: a guest's own memory figures, for bench/qemu-ops.py
 * (docs/BENCHMARKS.md). Static, in the guest image as /usr/bin/dhp-membw
 * (mk/bench-guest.mk, guest/build-image).
 *
 *   dhp-membw copy [MIB]
 *	memcpy bandwidth: two buffers of MIB MiB (default 64), written once,
 *	then copied one onto the other, pass after pass, for at least 5
 *	passes and 1 s. Prints one line:
 *	  copy MEDIAN MiB/s best BEST MiB/s (N passes of MIB MiB)
 *	(bytes copied per second: each byte read once and written once, as a
 *	page migration does).
 *
 *   dhp-membw hold MIB
 *	allocates MIB MiB and writes every page of it, prints
 *	  held MIB MiB in MS ms
 *	then probes, like an application using that memory: every 1 ms it
 *	wakes and reads 16 of its pages, chosen at random. A page being
 *	migrated is unmapped until its copy is done, and a vCPU the kernel
 *	keeps busy runs no one else, so the longest interval between two
 *	probes is the pause the application saw. SIGUSR1 prints
 *	  stall MAX ms max, N probes in S s
 *	and starts a new window; SIGTERM or SIGINT prints it and exits.
 *
 * Lines go to stdout, flushed at once. Exit status 0, or 1 with a message
 * on stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024.0 * 1024.0)
#define PAGE 4096u
#define PROBE_PERIOD_NS 1000000L
#define PROBE_PAGES 16
#define COPY_MIN_PASSES 5
#define COPY_MAX_PASSES 64
#define COPY_MIN_SECONDS 1.0

static volatile sig_atomic_t report_asked, stop_asked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report_asked = 1;
	else
		stop_asked = 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_mib(const char *s, size_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 65536) {
		fprintf(stderr, "dhp-membw: \"%s\" is not a size in MiB (1 to 65536)\n", s);
		return -1;
	}
	*ret = (size_t)v << 20;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int copy(size_t size)
{
	double rate[COPY_MAX_PASSES], t0, start;
	unsigned char *a = malloc(size), *b = malloc(size);
	unsigned n = 0, sink = 0;

	if (!a || !b) {
		fprintf(stderr, "dhp-membw: cannot allocate 2 x %zu MiB\n", size >> 20);
		return 1;
	}
	/* Every page mapped before the clock starts. */
	memset(a, 0x5a, size);
	memset(b, 0xa5, size);
	start = now();
	do {
		t0 = now();
		if (n % 2)
			memcpy(a, b, size);
		else
			memcpy(b, a, size);
		rate[n] = (double)size / MIB / (now() - t0);
		sink += a[n * PAGE % size] + b[n * PAGE % size];
		n++;
	} while (n < COPY_MAX_PASSES && (n < COPY_MIN_PASSES || now() - start < COPY_MIN_SECONDS));
	qsort(rate, n, sizeof(rate[0]), cmp_double);
	printf("copy %.0f MiB/s best %.0f MiB/s (%u passes of %zu MiB)\n", rate[n / 2],
	       rate[n - 1], n, size >> 20);
	fflush(stdout);
	free(a);
	free(b);
	return sink == 0xffffffffu;	/* never: keeps the copies */
}

static void report(double longest, unsigned long probes, double since)
{
	printf("stall %.3f ms max, %lu probes in %.1f s\n", longest * 1e3, probes, now() - since);
	fflush(stdout);
}

static int hold(size_t size)
{
	const struct timespec period = { 0, PROBE_PERIOD_NS };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	size_t pages = size / PAGE;
	unsigned char *mem = malloc(size);
	uint64_t seed = 0x9e3779b97f4a7c15u;
	unsigned long probes = 0;
	double t0, last, since, longest = 0;
	volatile unsigned sink = 0;

	if (!mem) {
		fprintf(stderr, "dhp-membw: cannot allocate %zu MiB\n", size >> 20);
		return 1;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	t0 = now();
	for (size_t p = 0; p < pages; p++)
		memset(mem + p * PAGE, (int)(p & 0xff), PAGE);
	printf("held %zu MiB in %.0f ms\n", size >> 20, (now() - t0) * 1e3);
	fflush(stdout);
	since = last = now();
	while (!stop_asked) {
		double t;

		nanosleep(&period, NULL);	/* a signal cuts it short: fine */
		for (int i = 0; i < PROBE_PAGES; i++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			sink += mem[(seed >> 33) % pages * PAGE];
		}
		t = now();
		if (t - last > longest)
			longest = t - last;
		last = t;
		probes++;
		if (report_asked) {
			report_asked = 0;
			report(longest, probes, since);
			longest = 0;
			probes = 0;
			since = last;
		}
	}
	report(longest, probes, since);
	free(mem);
	return 0;
}

int main(int argc, char **argv)
{
	size_t size = 64u << 20;

	if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "copy")) {
		if (argc == 3 && parse_mib(argv[2], &size) < 0)
			return 1;
		return copy(size);
	}
	if (argc == 3 && !strcmp(argv[1], "hold")) {
		if (parse_mib(argv[2], &size) < 0)
			return 1;
		return hold(size);
	}
	fprintf(stderr, "usage: dhp-membw copy [MIB] | dhp-membw hold MIB\n");
	return 1;
}
