/* SPDX-License-Identifier: MIT */
/*
 * A block of receivers, from the parent: fork them, wait until they all
 * listen, open and close their rounds, collect the times they wrote, and
 * kill and reap them all.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"

struct block blk;

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, double timeout_s)
{
	struct timespec ts = { (time_t)timeout_s,
			       (long)((timeout_s - (double)(time_t)timeout_s) * 1e9) };

	syscall(SYS_futex, (void *)addr, FUTEX_WAIT, val, &ts, NULL, 0);
}

void block_stop(void)
{
	for (sig_atomic_t i = 0; i < blk.n_pids; i++)
		kill(blk.pids[i], SIGKILL);
	for (sig_atomic_t i = 0; i < blk.n_pids; i++)
		while (waitpid(blk.pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	blk.n_pids = 0;
	free(blk.pids);
	blk.pids = NULL;
	if (blk.shm)
		munmap(blk.shm, blk.shm_size);
	blk.shm = NULL;
}

int block_start(enum recv_kind kind, uint32_t n, uint32_t rounds)
{
	int64_t deadline = now_ns() + (int64_t)(READY_TIMEOUT_S * 1e9);
	sigset_t old_mask;
	struct shared *s;
	int r;

	blk.kind = kind;
	blk.n = n;
	blk.rounds = rounds;
	blk.shm_size = sizeof(struct shared) + (size_t)n * rounds * sizeof(s->t[0]);
	s = mmap(NULL, blk.shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	blk.pids = calloc(n, sizeof(*blk.pids));
	if (s == MAP_FAILED || !blk.pids) {
		r = s == MAP_FAILED ? -errno : -ENOMEM;
		blk.shm = s == MAP_FAILED ? NULL : s;
		block_stop();
		return r;
	}
	blk.shm = s;
	fflush(stdout);
	/* A stop signal waits until each child has its own handlers. */
	sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
	for (uint32_t i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			r = -errno;
			fprintf(stderr, "%s: fork: %s\n", NAME, strerror(errno));
			block_stop();
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
			return r;
		}
		if (!pid) {
			blk.index = i;
			receiver_main(&old_mask);
		}
		blk.pids[i] = pid;
		blk.n_pids = (sig_atomic_t)(i + 1);
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	while (atomic_load(&s->ready) + atomic_load(&s->failed) < n && now_ns() < deadline)
		sleep_s(0.005);
	if (atomic_load(&s->failed) || atomic_load(&s->ready) < n) {
		r = atomic_load(&s->failed) ? atomic_load(&s->error) : -ETIMEDOUT;
		block_stop();
		return r;
	}
	return 0;
}

bool wait_arrivals(double timeout_s)
{
	int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);

	for (;;) {
		uint32_t v = atomic_load_explicit(&blk.shm->arrived, memory_order_acquire);
		int64_t left = deadline - now_ns();

		if (v >= blk.n)
			return true;
		if (left <= 0)
			return false;
		futex_wait(&blk.shm->arrived, v, (double)left / 1e9);
	}
}

void round_open(uint32_t r)
{
	atomic_store(&blk.shm->arrived, 0);
	atomic_store_explicit(&blk.shm->round, r, memory_order_release);
}

/* End the round; a round that timed out gets a longer pause, so that its
 * late arrivals count as strays and not in the next one. */
void round_close(bool complete, double pause_s)
{
	atomic_store(&blk.shm->round, 0);
	sleep_s(complete ? pause_s : 1.0);
}

uint64_t block_collect(const int64_t *t0, uint32_t first, struct samples *out,
		       struct samples *last)
{
	uint64_t missed = 0;

	for (uint32_t r = first; r <= blk.rounds; r++) {
		double latest = 0;

		for (uint32_t i = 0; i < blk.n; i++) {
			int64_t t = atomic_load(&blk.shm->t[(size_t)(r - 1) * blk.n + i]);
			double d = (double)(t - t0[r - 1]) / 1e3;

			if (!t || d < 0) {
				missed++;
				continue;
			}
			samples_add(out, d);
			latest = d > latest ? d : latest;
		}
		if (last)
			samples_add(last, latest);
	}
	return missed;
}

/*
 * Memory: the resident and proportional set (smaps_rollup Rss, Pss) of
 * each receiver after its rounds; PSS shares the library pages among the
 * processes that map them, so it is what one more listener costs.
 */
void block_memory(double *ret_rss, double *ret_pss)
{
	unsigned long long rss = 0, pss = 0, v;
	char path[64], line[256];

	for (sig_atomic_t i = 0; i < blk.n_pids; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)blk.pids[i]);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Rss: %llu kB", &v) == 1)
				rss += v;
			else if (sscanf(line, "Pss: %llu kB", &v) == 1)
				pss += v;
		}
		fclose(f);
	}
	*ret_rss = blk.n_pids ? (double)rss / blk.n_pids : NAN;
	*ret_pss = blk.n_pids ? (double)pss / blk.n_pids : NAN;
}
