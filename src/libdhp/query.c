/* SPDX-License-Identifier: MIT */
/*
 * Queries that never go stale: each reads sysfs again. They touch nothing
 * of the handle but its sysfs root (set at open, never changed), so they
 * take no lock and never wait for a callback.
 *
 * Processor sets are bit masks of 64-bit words with no upper bound of
 * their own (cpu_set_t stops at 1,024): the kernel's cpulist is read range
 * by range, never into a fixed array.
 */
#include "libdhp/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A cpulist file is about 7 bytes per processor at worst. */
#define CPULIST_FILE_MAX (1024 * 1024)

static int number(const char **p, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return -EIO;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= UINT32_MAX)
		return -EIO;
	*p = end;
	*ret = (uint32_t)v;
	return 0;
}

int libdhp_cpulist_ranges(const char *list, int (*fn)(void *ctx, uint32_t first, uint32_t last),
			  void *ctx)
{
	const char *p = list;
	int r;

	while (*p && *p != '\n') {
		uint32_t first, last;

		if ((r = number(&p, &first)) < 0)
			return r;
		last = first;
		if (*p == '-') {
			p++;
			if ((r = number(&p, &last)) < 0)
				return r;
			if (last < first)
				return -EIO;
		}
		if ((r = fn(ctx, first, last)) != 0)
			return r;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EIO;
	}
	return 0;
}

struct mask_fill {
	uint64_t *mask;
	size_t n_words;
	uint32_t count;
	uint64_t highest;		/* highest processor + 1 */
};

static int find_highest(void *ctx, uint32_t first, uint32_t last)
{
	struct mask_fill *m = ctx;

	(void)first;
	if ((uint64_t)last + 1 > m->highest)
		m->highest = (uint64_t)last + 1;
	return 0;
}

static int set_bits(void *ctx, uint32_t first, uint32_t last)
{
	struct mask_fill *m = ctx;

	for (uint64_t i = first; i <= last; i++) {
		if (!(m->mask[i / 64] & (1ull << (i % 64))))
			m->count++;
		m->mask[i / 64] |= 1ull << (i % 64);
	}
	return 0;
}

int dhp_cpus_online(struct dhp *dhp, uint64_t *mask, size_t n_words, uint32_t *ret_count)
{
	struct mask_fill m = { .mask = mask, .n_words = n_words };
	char *list = NULL;
	uint64_t words;
	int r;

	if (!dhp || !ret_count || (!mask && n_words))
		return -EINVAL;
	r = libdhp_sysfs_read_alloc(dhp, "devices/system/cpu/online", CPULIST_FILE_MAX, &list);
	if (r < 0)
		return r;
	/* Two passes: nothing is written unless it all fits. */
	if ((r = libdhp_cpulist_ranges(list, find_highest, &m)) < 0)
		goto out;
	words = (m.highest + 63) / 64;
	if (words > n_words) {
		*ret_count = words > UINT32_MAX ? UINT32_MAX : (uint32_t)words;
		r = -ENOBUFS;
		goto out;
	}
	memset(mask, 0, n_words * sizeof(*mask));
	if ((r = libdhp_cpulist_ranges(list, set_bits, &m)) < 0)
		goto out;
	*ret_count = m.count;
out:
	free(list);
	return r;
}

int dhp_cpus_possible(struct dhp *dhp, uint32_t *ret_max)
{
	struct mask_fill m = { 0 };
	char *list = NULL;
	int r;

	if (!dhp || !ret_max)
		return -EINVAL;
	r = libdhp_sysfs_read_alloc(dhp, "devices/system/cpu/possible", CPULIST_FILE_MAX, &list);
	if (r < 0)
		return r;
	r = libdhp_cpulist_ranges(list, find_highest, &m);
	free(list);
	if (r < 0)
		return r;
	if (m.highest == 0 || m.highest > UINT32_MAX)
		return -EIO;
	*ret_max = (uint32_t)m.highest;
	return 0;
}

int dhp_memory_size(struct dhp *dhp, uint64_t *ret_bytes)
{
	uint64_t *blocks = NULL, bs, online = 0;
	size_t n = 0;
	int r;

	if (!dhp || !ret_bytes)
		return -EINVAL;
	bs = libdhp_sysfs_block_size(dhp);
	if (!bs) {
		long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

		if (pages <= 0 || page <= 0)
			return -EIO;
		*ret_bytes = (uint64_t)pages * (uint64_t)page;
		return 0;
	}
	r = libdhp_sysfs_numbered(dhp, "devices/system/memory", "memory", &blocks, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char path[64], state[32];

		snprintf(path, sizeof(path), "devices/system/memory/memory%llu/state",
			 (unsigned long long)blocks[i]);
		/* A block that went away meanwhile is not online. */
		if (libdhp_sysfs_read(dhp, path, state, sizeof(state)) == 0 &&
		    !strcmp(state, "online"))
			online++;
	}
	free(blocks);
	*ret_bytes = online * bs;
	return 0;
}
