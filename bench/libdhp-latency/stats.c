/* SPDX-License-Identifier: MIT */
/*
 * The clock, the samples it yields and the table's rows made of them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "dhp/dhp.h"
#include "latency.h"

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int samples_init(struct samples *s, size_t cap)
{
	size_t size = (cap ? cap : 1) * sizeof(*s->v);

	s->n = 0;
	s->cap = cap;
	s->v = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->v == MAP_FAILED) {
		s->v = NULL;
		return -errno;
	}
	madvise(s->v, size, MADV_DONTFORK);
	return 0;
}

void samples_release(struct samples *s)
{
	if (s->v)
		munmap(s->v, (s->cap ? s->cap : 1) * sizeof(*s->v));
	s->v = NULL;
}

void samples_add(struct samples *s, double v)
{
	if (s->n < s->cap)
		s->v[s->n++] = v;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

double quantile(struct samples *s, double p)
{
	size_t k;

	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	k = (size_t)ceil(p * (double)s->n);
	return s->v[k ? k - 1 : 0];
}

void print_delay_rows(const char *who, uint32_t n, struct samples *s, bool ms,
		      double *ret_median, double *ret_p99)
{
	double div = ms ? 1e3 : 1.0, med = quantile(s, 0.5), p99 = quantile(s, 0.99);
	char name[64];

	snprintf(name, sizeof(name), "%s, N=%u, median", who, n);
	row(name, med / div, ms ? 2 : 1, ms ? "ms" : "us", "", "");
	snprintf(name, sizeof(name), "%s, N=%u, p99", who, n);
	row(name, p99 / div, ms ? 2 : 1, ms ? "ms" : "us", "", "");
	if (ret_median)
		*ret_median = med;
	if (ret_p99)
		*ret_p99 = p99;
}

void print_missed(const char *who, const struct result *res)
{
	char name[64], of[48];

	snprintf(name, sizeof(name), "  missed callbacks, %s", who);
	snprintf(of, sizeof(of), "of %llu", (unsigned long long)res->expected);
	row(name, (double)res->missed, 0, "", "", of);
}

void print_ratio(const char *what, double dhp, double udev)
{
	char name[64], target[16];
	double ratio = dhp / udev;

	snprintf(name, sizeof(name), "  ratio libdhp : libudev, %s", what);
	snprintf(target, sizeof(target), "<= %.1f", TARGET_RATIO);
	row(name, ratio, 2, "", target,
	    isnan(ratio) ? "?" : ratio <= TARGET_RATIO ? "met" : "MISSED");
}

const char *phase_list(uint32_t phases)
{
	static char buf[256];
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t p = 0; p < 32; p++)
		if (phases & (1u << p))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
						off ? ", " : "", dhp_phase_name(p));
	return off ? buf : "none";
}
