/* SPDX-License-Identifier: MIT */
/* Kernel cpulists ("0-3,8"), the form /sys/devices/system/cpu/online uses. */
#include "proto/guest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dhp_cpulist_format(const bool *set, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	if (!size)
		return -EMSGSIZE;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t last = i;
		int w;

		if (!set[i])
			continue;
		while (last + 1 < n && set[last + 1])
			last++;
		if (last == i)
			w = snprintf(buf + used, size - used, "%s%zu", used ? "," : "", i);
		else
			w = snprintf(buf + used, size - used, "%s%zu-%zu", used ? "," : "", i,
				     last);
		if (w < 0 || (size_t)w >= size - used) {
			buf[0] = '\0';
			return -EMSGSIZE;
		}
		used += (size_t)w;
		i = last;
	}
	return 0;
}

/* One decimal number at *p, below n; advances *p. */
static int number(const char **p, size_t n, size_t *ret)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= n)
		return -EINVAL;
	*p = end;
	*ret = v;
	return 0;
}

int dhp_cpulist_parse(const char *list, bool *set, size_t n)
{
	const char *p = list;

	memset(set, 0, n * sizeof(*set));
	/* The kernel ends its files with a newline; so may a list. */
	while (*p && *p != '\n') {
		size_t first, last;

		if (number(&p, n, &first) < 0)
			return -EINVAL;
		last = first;
		if (*p == '-') {
			p++;
			if (number(&p, n, &last) < 0 || last < first)
				return -EINVAL;
		}
		for (size_t i = first; i <= last; i++)
			set[i] = true;
		if (*p == ',' && p[1] && p[1] != '\n')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}
