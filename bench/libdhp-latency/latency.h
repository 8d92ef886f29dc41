/* SPDX-License-Identifier: MIT */
/*
 * bench/libdhp-latency: what its files share (main.c says what it
 * measures). One program, linked from this directory by
 * mk/bench-libdhp.mk:
 *
 *   main.c        the order of the runs, the stop signals, the load line
 *   bench.c       this program's one copy of bench/common.h
 *   stats.c       samples, quantiles and the table's rows
 *   receiver.c    a receiver (a forked child): libdhp or libudev
 *   block.c       a block of receivers and its rounds, from the parent
 *   uevent.c      the uevent path: probe, trigger, libdhp against libudev
 *   agent.c       a fake dhpd and a fake sysfs tree for build/dhp-agent
 *   agent-path.c  the agent path: notify requests relayed to programs
 */
#ifndef DHP_BENCH_LIBDHP_LATENCY_H
#define DHP_BENCH_LIBDHP_LATENCY_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NAME "libdhp-latency"
#define TRIGGER "/sys/devices/system/cpu/cpu0/uevent"
#define TARGET_RATIO 1.5
/* The receive buffer both kinds of uevent listeners ask for (libdhp's own
 * choice: src/libdhp/uevent.c). */
#define RCVBUF (1024 * 1024)
/* How long a round may take before the missing receivers count as such. */
#define ROUND_TIMEOUT_S 3.0
#define READY_TIMEOUT_S 60.0
#define REPLY_TIMEOUT_S 15.0

enum recv_kind {
	RECV_DHP_UEVENT,	/* libdhp, DHP_OPEN_NO_AGENT */
	RECV_UDEV,		/* libudev kernel monitor */
	RECV_DHP_AGENT,		/* libdhp through dhp-agent, DHP_OPEN_NO_UEVENTS */
};

/*
 * Receivers are forked from this program and write the CLOCK_MONOTONIC
 * time of their callback into shared memory (one slot per receiver and
 * round, MAP_SHARED), so no pipe adds its own latency; the last to arrive
 * wakes this program with a futex. A round's delay is slot - t0, t0 read
 * just before the write() that starts it. Between rounds a pause lets the
 * receivers go back to sleep. A receiver without a slot at the end of its
 * round missed it (counted and printed); a callback outside a round, or a
 * second one within it (somebody else wrote to cpu0's uevent file meanwhile,
 * t1400 does), is counted as stray and never timed.
 *
 * Shared with a block's receivers: MAP_SHARED, made before they fork.
 */
struct shared {
	_Atomic uint32_t round;		/* the round under way (1...), 0: between */
	_Atomic uint32_t arrived;	/* receivers that timed it (a futex) */
	_Atomic uint32_t ready;		/* receivers listening */
	_Atomic uint32_t failed;	/* receivers that could not start */
	_Atomic int32_t error;		/* the first failure's negative errno */
	_Atomic uint32_t strays;	/* callbacks outside a round, or a second in it */
	_Atomic uint32_t overruns;	/* ENOBUFS: the kernel dropped uevents */
	_Atomic uint32_t phases;	/* 1 << phase of the changes libdhp told */
	/* [round - 1][receiver]: CLOCK_MONOTONIC ns of the callback, 0: none */
	_Alignas(64) _Atomic int64_t t[];
};

/* The block under way; a forked receiver inherits it. */
struct block {
	enum recv_kind kind;
	uint32_t n;		/* receivers */
	uint32_t rounds;	/* warm-up and measured */
	uint32_t index;		/* in a receiver: its own */
	struct shared *shm;
	size_t shm_size;
	pid_t *pids;		/* the receivers started, n_pids of them */
	volatile sig_atomic_t n_pids;
};

extern struct block blk;
extern volatile pid_t agent_pid;	/* dhp-agent while it runs, else -1 */
extern sigset_t stop_signals;		/* SIGINT, SIGTERM */

/*
 * Samples, at most cap of them. Their pages are not inherited by the
 * receivers forked later (MADV_DONTFORK): a receiver's resident set is its
 * own, not this program's.
 */
struct samples {
	double *v;
	size_t n, cap;
};

/* What one kind of listener measured, over all its blocks. */
struct result {
	struct samples delay;	/* every callback, us */
	struct samples last;	/* per round: the last receiver's, us */
	struct samples reply;	/* per round: the agent's reply, us */
	uint64_t missed, expected, strays, overruns;
	uint32_t phases;
	double rss_kib, pss_kib;
};

/* ---- bench.c: bench/common.h's helpers, for the other files ----------- */
void row(const char *name, double value, int prec, const char *unit, const char *target,
	 const char *verdict);
int workdir_make(char *buf, size_t len);
void workdir_remove(const char *dir);

/* ---- stats.c ---------------------------------------------------------- */
int64_t now_ns(void);
void sleep_s(double s);
/* 0 or a negative errno; samples_release frees (also a failed init's). */
int samples_init(struct samples *s, size_t cap);
void samples_release(struct samples *s);
void samples_add(struct samples *s, double v);
/* The nearest-rank p-quantile (0 < p <= 1); NAN when there is none. */
double quantile(struct samples *s, double p);
/* Rows "WHO, N=n, median" and "..., p99" of samples in us; in ms when
 * ms. ret_median and ret_p99 (us) may be NULL. */
void print_delay_rows(const char *who, uint32_t n, struct samples *s, bool ms,
		      double *ret_median, double *ret_p99);
void print_missed(const char *who, const struct result *res);
void print_ratio(const char *what, double dhp, double udev);
/* "add-complete, ..." of 1 << phase bits; a static buffer. */
const char *phase_list(uint32_t phases);

/* ---- receiver.c: runs in the child, never returns --------------------- */
_Noreturn void receiver_main(const sigset_t *mask);

/* ---- block.c ---------------------------------------------------------- */
/* Fork n receivers of kind for rounds rounds and wait until they all
 * listen. 0; or the first receiver's error (then they are stopped). */
int block_start(enum recv_kind kind, uint32_t n, uint32_t rounds);
/* SIGKILL every receiver and reap it; unmap the shared memory. */
void block_stop(void);
/* Wait until every receiver timed the round, at most timeout_s. */
bool wait_arrivals(double timeout_s);
void round_open(uint32_t r);
void round_close(bool complete, double pause_s);
/* The delays of rounds first..blk.rounds (1-based) into out,
 * microseconds; returns the slots left empty. last (may be NULL) gets
 * each round's latest arrival. */
uint64_t block_collect(const int64_t *t0, uint32_t first, struct samples *out,
		       struct samples *last);
/* Rss and Pss of the receivers, KiB on average. */
void block_memory(double *ret_rss, double *ret_pss);

/* ---- uevent.c --------------------------------------------------------- */
/* Is there a kernel uevent socket, and do the kernel's uevents reach it?
 * NULL, or why not. */
const char *uevent_probe(int trigger_fd);
/* N receivers per library, n_blocks blocks each. 0, 1 when skipped, or
 * an error. */
int uevent_path(int trigger_fd, uint32_t n, uint32_t n_blocks, uint32_t rounds,
		uint32_t warmup, double pause_s);

/* ---- agent.c ---------------------------------------------------------- */
extern char agent_path[];	/* build/dhp-agent, once find_agent found it */
extern char app_path[];		/* the agent's --app-socket */
/* build/bench/libdhp-latency -> build/dhp-agent; 0 or a negative errno. */
int find_agent(void);
/* The socket paths and the fake sysfs tree, all under workdir. */
void agent_setup(const char *workdir);
/* Start dhp-agent against the fake tree; take its channel and hello.
 * stop_agent undoes it, also when it failed half-way. */
int start_agent(void);
void stop_agent(void);
/* One notify as dhpd sends it; its reply's time (ns), or an error. */
int64_t notify(uint64_t id, int64_t *ret_t0);
void print_agent_log(void);

/* ---- agent-path.c ----------------------------------------------------- */
/* N programs registered through the agent, rounds notify requests. */
int agent_path_run(uint32_t n, uint32_t rounds, double pause_s);

#endif
