/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks share. Every .c file of bench/ is built as its own program
 * (see the Makefile), so the helpers live here as static functions, and
 * each program includes this header once.
 *
 * A benchmark prints numbers and ratios, never pass or fail: each result is
 * one table row (bench_row), anything else a comment line starting with
 * '#'. scripts/run-bench prints the table's header and runs them all.
 */
#ifndef DHP_BENCH_COMMON_H
#define DHP_BENCH_COMMON_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Synchronous writes actually issued by this process, SQLite's included:
 * this program's own fdatasync and fsync take the place of the C
 * library's (an executable's definition comes first in symbol lookup, so
 * libsqlite3 calls these), count, and make the system call themselves.
 * bench_syncs_db counts those of a "*.db" file itself, not its WAL: SQLite
 * makes one only at a checkpoint, whose cycle costs three syncs in all (the
 * WAL before its pages are copied back, the database after, and the WAL's
 * new header when it restarts: wal.c, "Sync the header").
 * bench_skip_syncs turns them into no-ops, to measure everything else.
 */
static unsigned long bench_syncs, bench_syncs_db;
static bool bench_skip_syncs;

static inline int bench_sync(int fd, long nr)
{
	char link[64], path[512];
	ssize_t n;

	bench_syncs++;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 3 && !memcmp(path + n - 3, ".db", 3))
		bench_syncs_db++;
	return bench_skip_syncs ? 0 : (int)syscall(nr, fd);
}

int fdatasync(int fd)
{
	return bench_sync(fd, SYS_fdatasync);
}

int fsync(int fd)
{
	return bench_sync(fd, SYS_fsync);
}

/* CPU seconds (user + system) this process has used so far. */
static inline double bench_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Bytes this process has written with write() and its kin (to the page
 * cache or a file: /proc/self/io "wchar"); 0 if unknown. */
static inline unsigned long long bench_bytes_written(void)
{
	unsigned long long n = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* The file system a path is on, by its statfs magic number. */
static inline const char *bench_fs_type(const char *path)
{
	static const struct { long magic; const char *name; } known[] = {
		{ 0xEF53, "ext4" }, { 0x58465342, "xfs" }, { 0x9123683E, "btrfs" },
		{ 0x01021994, "tmpfs" }, { 0x794c7630, "overlayfs" }, { 0xF2F52010, "f2fs" },
		{ 0x2fc12fc1, "zfs" }, { 0x6969, "nfs" }, { 0x858458f6, "ramfs" },
		{ 0x65735546, "fuse" },
	};
	static char other[32];
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "unknown";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((long)st.f_type == known[i].magic)
			return known[i].name;
	snprintf(other, sizeof(other), "magic 0x%lx", (unsigned long)st.f_type);
	return other;
}

/*
 * A fresh directory for one benchmark: under $DHP_BENCH_DIR, else under
 * /var/tmp (a disk; /tmp may be tmpfs, where a sync costs nothing and the
 * numbers would mean nothing). Prints where it is and on what.
 */
static inline int bench_dir(char *buf, size_t len, const char *name)
{
	const char *base = getenv("DHP_BENCH_DIR");
	const char *fs;

	snprintf(buf, len, "%s/dhp-bench-%s-XXXXXX", base && *base ? base : "/var/tmp", name);
	if (!mkdtemp(buf)) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", name, buf, strerror(errno));
		return -errno;
	}
	fs = bench_fs_type(buf);
	printf("# %s: working in %s (%s)\n", name, buf, fs);
	if (!strcmp(fs, "tmpfs") || !strcmp(fs, "ramfs"))
		printf("# %s: warning: a memory file system: sync rates mean nothing here;"
		       " set DHP_BENCH_DIR to a directory on a disk\n", name);
	return 0;
}

static int bench_unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Remove a directory made by bench_dir, with everything in it. */
static inline void bench_rmdir(const char *dir)
{
	nftw(dir, bench_unlink_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * One row of the table: name, value (with prec decimals), unit, target
 * and how the value stands against it (both may be ""). scripts/run-bench
 * prints the header with the same widths.
 */
static inline void bench_row(const char *name, double value, int prec, const char *unit,
			     const char *target, const char *verdict)
{
	printf("%-40s %12.*f  %-6s %-10s %s\n", name, prec, value, unit, target, verdict);
	fflush(stdout);
}

#endif
