/* SPDX-License-Identifier: MIT */
/*
 * bench/common.h is made to be included once per program: it defines
 * fsync and fdatasync, which two files of one program cannot both do.
 * This file is that once; the others reach the helpers they use through
 * these functions.
 */
#include "../common.h"
#include "latency.h"

void row(const char *name, double value, int prec, const char *unit, const char *target,
	 const char *verdict)
{
	bench_row(name, value, prec, unit, target, verdict);
}

int workdir_make(char *buf, size_t len)
{
	return bench_dir(buf, len, NAME);
}

void workdir_remove(const char *dir)
{
	bench_rmdir(dir);
}
