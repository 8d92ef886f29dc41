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
 *                 libudev's, median and p99.
 *   agent path    dhp-agent's relay of a notify request from dhpd to the
 *                 programs registered on its socket (docs/agent-protocol.md,
 *                 Applications): from the request's write to each callback,
 *                 and to the agent's reply (every program answered). It has
 *                 no libudev counterpart, so it has no ratio.
 *
 * The uevent is real: as root, writing "online" to
 * /sys/devices/system/cpu/cpu0/uevent makes the kernel broadcast a
 * synthetic uevent (ACTION=online, cpu0) to every NETLINK_KOBJECT_UEVENT
 * socket; nothing changes in the processor. libdhp tells it as add-complete
 * of processor 0 (checked: the phases seen are printed). The agent path
 * runs the real build/dhp-agent (--socket to a fake dhpd: this program;
 * --sysfs a fake tree; --app-socket in a temporary directory; --no-uevents)
 * and needs no root.
 *
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
 * libdhp and libudev never listen at the same time (both would be woken
 * by every uevent and compete for the processors). They take turns in
 * blocks, in the order libdhp, libudev, libudev, libdhp, ... so that a
 * drift in the machine's load (other builds) weighs on both alike; with
 * one receiver the blocks are short (20 rounds) for the same reason. Both
 * ask for the same 1 MiB netlink receive buffer.
 *
 * Memory: the resident and proportional set (smaps_rollup Rss, Pss) of
 * each receiver after its rounds; PSS shares the library pages among the
 * processes that map them, so it is what one more listener costs.
 *
 * Usage: libdhp-latency [SCALE]   (round counts times SCALE, default 1)
 * Skips the uevent path (a '#' line) when not root, when cpu0's uevent file
 * is not writable, when no uevent socket can be opened or when the
 * kernel's uevents do not reach this network namespace. Exits non-zero
 * only when it could not run. Every process it starts is killed and
 * reaped, also on failure; receivers also die with it (PR_SET_PDEATHSIG).
 */
#include <fcntl.h>
#include <libudev.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common.h"
#include "dhp/dhp.h"
#include "proto/proto.h"

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

static const char *const kind_name[] = {
	[RECV_DHP_UEVENT] = "libdhp", [RECV_UDEV] = "libudev", [RECV_DHP_AGENT] = "agent",
};

/* Shared with a block's receivers: MAP_SHARED, made before they fork. */
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
static struct {
	enum recv_kind kind;
	uint32_t n;		/* receivers */
	uint32_t rounds;	/* warm-up and measured */
	uint32_t index;		/* in a receiver: its own */
	struct shared *shm;
	size_t shm_size;
	pid_t *pids;		/* the receivers started, n_pids of them */
	volatile sig_atomic_t n_pids;
} blk;

static volatile pid_t agent_pid = -1;
static sigset_t stop_signals;	/* SIGINT, SIGTERM */
static char workdir[256], tree[300], chan_path[300], app_path[300], log_path[300];
static char agent_path[PATH_MAX];

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, double timeout_s)
{
	struct timespec ts = { (time_t)timeout_s,
			       (long)((timeout_s - (double)(time_t)timeout_s) * 1e9) };

	syscall(SYS_futex, (void *)addr, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * Samples, at most cap of them. Their pages are not inherited by the
 * receivers forked later (MADV_DONTFORK): a receiver's resident set is its
 * own, not this program's.
 */
struct samples {
	double *v;
	size_t n, cap;
};

static int samples_init(struct samples *s, size_t cap)
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

static void samples_release(struct samples *s)
{
	if (s->v)
		munmap(s->v, (s->cap ? s->cap : 1) * sizeof(*s->v));
	s->v = NULL;
}

static void samples_add(struct samples *s, double v)
{
	if (s->n < s->cap)
		s->v[s->n++] = v;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The nearest-rank p-quantile (0 < p <= 1); NAN when there is none. */
static double quantile(struct samples *s, double p)
{
	size_t k;

	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	k = (size_t)ceil(p * (double)s->n);
	return s->v[k ? k - 1 : 0];
}

/* ---- receivers (children) ---------------------------------------------- */

static _Noreturn void receiver_fail(int error)
{
	int32_t none = 0;

	atomic_compare_exchange_strong(&blk.shm->error, &none, error);
	atomic_fetch_add(&blk.shm->failed, 1);
	_exit(1);
}

static void ready(void)
{
	atomic_fetch_add(&blk.shm->ready, 1);
}

/* A callback at time t: into this receiver's slot of the round under way. */
static void record(int64_t t)
{
	struct shared *s = blk.shm;
	uint32_t r = atomic_load_explicit(&s->round, memory_order_acquire);
	int64_t none = 0;

	if (!r || r > blk.rounds ||
	    !atomic_compare_exchange_strong(&s->t[(size_t)(r - 1) * blk.n + blk.index], &none, t)) {
		atomic_fetch_add(&s->strays, 1);
		return;
	}
	if (atomic_fetch_add_explicit(&s->arrived, 1, memory_order_release) + 1 == blk.n)
		futex_wake(&s->arrived);
}

static int on_change(const struct dhp_change *c, char *reason, size_t reason_size,
		     void *userdata)
{
	int64_t t = now_ns();

	(void)reason, (void)reason_size, (void)userdata;
	if (c->kind != DHP_KIND_PROCESSOR || c->processor.cpu != 0)
		return 0;
	if (c->phase < 32)
		atomic_fetch_or(&blk.shm->phases, 1u << c->phase);
	record(t);
	return 0;
}

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	(void)dhp, (void)transport, (void)userdata;
	if (error == -ENOBUFS)
		atomic_fetch_add(&blk.shm->overruns, 1);
}

/* libdhp as a program uses it: its descriptor in poll, dhp_dispatch. Ready
 * once the transport is the one measured (the agent's hello may come after
 * dhp_open returns when a thousand programs connect at once). */
static _Noreturn void receive_libdhp(uint32_t flags, uint32_t transport)
{
	struct dhp_registration *reg;
	struct dhp *dhp;
	bool is_ready = false;
	int r;

	if ((r = dhp_open(&dhp, "bench", flags)) < 0)
		receiver_fail(r);
	dhp_set_transport_callback(dhp, on_transport, NULL);
	if ((r = dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, NULL, &reg)) < 0)
		receiver_fail(r);
	for (;;) {
		struct pollfd p = { .fd = dhp_get_fd(dhp), .events = POLLIN };

		if (!is_ready && dhp_transport(dhp) == (int)transport) {
			is_ready = true;
			ready();
		}
		poll(&p, 1, is_ready ? -1 : 100);
		if ((r = dhp_dispatch(dhp)) < 0 && r != -EINTR)
			receiver_fail(r);
	}
}

/* The plain libudev way: a kernel monitor filtered on "cpu". The time is
 * taken when libudev hands over the device, as libdhp's at the callback's
 * entry: both have parsed the uevent and chosen to tell it. */
static _Noreturn void receive_libudev(void)
{
	struct udev_monitor *mon;
	struct udev *udev;
	int r, fd;

	errno = 0;
	if (!(udev = udev_new()))
		receiver_fail(-ENOMEM);
	if (!(mon = udev_monitor_new_from_netlink(udev, "kernel")))
		receiver_fail(errno > 0 ? -errno : -EPROTONOSUPPORT);
	if ((r = udev_monitor_filter_add_match_subsystem_devtype(mon, "cpu", NULL)) < 0)
		receiver_fail(r);
	udev_monitor_set_receive_buffer_size(mon, RCVBUF);
	if ((r = udev_monitor_enable_receiving(mon)) < 0)
		receiver_fail(r);
	fd = udev_monitor_get_fd(mon);
	ready();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct udev_device *dev;
		const char *action, *sysname;
		int64_t t;

		poll(&p, 1, -1);
		errno = 0;
		dev = udev_monitor_receive_device(mon);
		t = now_ns();
		if (!dev) {
			if (errno == ENOBUFS)
				atomic_fetch_add(&blk.shm->overruns, 1);
			continue;
		}
		action = udev_device_get_action(dev);
		sysname = udev_device_get_sysname(dev);
		if (action && sysname && !strcmp(action, "online") && !strcmp(sysname, "cpu0"))
			record(t);
		udev_device_unref(dev);
	}
}

static _Noreturn void receiver_main(const sigset_t *mask)
{
	/* The parent's handlers kill the whole block: not ours to run. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	switch (blk.kind) {
	case RECV_DHP_UEVENT:
		receive_libdhp(DHP_OPEN_NO_AGENT, DHP_TRANSPORT_UEVENT);
	case RECV_UDEV:
		receive_libudev();
	case RECV_DHP_AGENT:
		receive_libdhp(DHP_OPEN_NO_UEVENTS, DHP_TRANSPORT_AGENT);
	}
	_exit(1);
}

/* ---- blocks of receivers (parent) ------------------------------------- */

/* SIGKILL every receiver and reap it. */
static void block_stop(void)
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

/* Fork n receivers of kind for rounds rounds and wait until they all
 * listen. 0; or the first receiver's error (then they are stopped). */
static int block_start(enum recv_kind kind, uint32_t n, uint32_t rounds)
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

/* Wait until every receiver timed the round, at most timeout_s. */
static bool wait_arrivals(double timeout_s)
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

static void round_open(uint32_t r)
{
	atomic_store(&blk.shm->arrived, 0);
	atomic_store_explicit(&blk.shm->round, r, memory_order_release);
}

/* End the round; a round that timed out gets a longer pause, so that its
 * late arrivals count as strays and not in the next one. */
static void round_close(bool complete, double pause_s)
{
	atomic_store(&blk.shm->round, 0);
	sleep_s(complete ? pause_s : 1.0);
}

/* The delays of rounds first..rounds (1-based) into out, microseconds;
 * returns the slots left empty. last (may be NULL) gets each round's
 * latest arrival. */
static uint64_t block_collect(const int64_t *t0, uint32_t first, struct samples *out,
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

/* Rss and Pss of the receivers, KiB on average. */
static void block_memory(double *ret_rss, double *ret_pss)
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

/* ---- the uevent path --------------------------------------------------- */

/* What one kind of listener measured, over all its blocks. */
struct result {
	struct samples delay;	/* every callback, us */
	struct samples last;	/* per round: the last receiver's, us */
	struct samples reply;	/* per round: the agent's reply, us */
	uint64_t missed, expected, strays, overruns;
	uint32_t phases;
	double rss_kib, pss_kib;
};

/* Is there a kernel uevent socket, and do the kernel's uevents reach it?
 * NULL, or why not. */
static const char *uevent_probe(int trigger_fd)
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

/* Rows "WHO, N=n, median" and "..., p99" of samples in us; in ms when
 * ms. ret_median and ret_p99 (us) may be NULL. */
static void print_delay_rows(const char *who, uint32_t n, struct samples *s, bool ms,
			     double *ret_median, double *ret_p99)
{
	double div = ms ? 1e3 : 1.0, med = quantile(s, 0.5), p99 = quantile(s, 0.99);
	char name[64];

	snprintf(name, sizeof(name), "%s, N=%u, median", who, n);
	bench_row(name, med / div, ms ? 2 : 1, ms ? "ms" : "us", "", "");
	snprintf(name, sizeof(name), "%s, N=%u, p99", who, n);
	bench_row(name, p99 / div, ms ? 2 : 1, ms ? "ms" : "us", "", "");
	if (ret_median)
		*ret_median = med;
	if (ret_p99)
		*ret_p99 = p99;
}

static void print_missed(const char *who, const struct result *res)
{
	char name[64], of[48];

	snprintf(name, sizeof(name), "  missed callbacks, %s", who);
	snprintf(of, sizeof(of), "of %llu", (unsigned long long)res->expected);
	bench_row(name, (double)res->missed, 0, "", "", of);
}

static void print_ratio(const char *what, double dhp, double udev)
{
	char name[64], target[16];
	double ratio = dhp / udev;

	snprintf(name, sizeof(name), "  ratio libdhp : libudev, %s", what);
	snprintf(target, sizeof(target), "<= %.1f", TARGET_RATIO);
	bench_row(name, ratio, 2, "", target,
		  isnan(ratio) ? "?" : ratio <= TARGET_RATIO ? "met" : "MISSED");
}

static const char *phase_list(uint32_t phases)
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

/* N receivers per library; blocks alternate libdhp, libudev, libudev,
 * libdhp, ... (n_blocks per library). 0, 1 when skipped, or an error. */
static int uevent_path(int trigger_fd, uint32_t n, uint32_t n_blocks, uint32_t rounds,
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
		bench_row("  RSS per receiver, libdhp", res[0].rss_kib, 0, "KiB", "", "");
		bench_row("  PSS per receiver, libdhp", res[0].pss_kib, 0, "KiB", "", "");
		bench_row("  RSS per receiver, libudev", res[1].rss_kib, 0, "KiB", "", "");
		bench_row("  PSS per receiver, libudev", res[1].pss_kib, 0, "KiB", "", "");
	}
out:
	for (int k = 0; k < 2; k++) {
		samples_release(&res[k].delay);
		samples_release(&res[k].last);
	}
	return r;
}

/* ---- the agent path ----------------------------------------------------- */

/* dhpd's end of the channel: lines in. */
static struct {
	int listen_fd, fd;
	char buf[3 * DHP_PROTO_LINE_MAX];
	size_t len;
	struct dhp_proto_msg msg;
} chan = { .listen_fd = -1, .fd = -1 };

static void put(const char *rel, const char *content)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (char *p = path + strlen(tree) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if ((f = fopen(path, "w"))) {
		fputs(content, f);
		fclose(f);
	}
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* The next message from the agent within timeout_s into chan.msg. */
static int chan_msg(double timeout_s)
{
	int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
	struct dhp_error err = { 0 };
	char *nl;
	ssize_t n;

	while (!(nl = memchr(chan.buf, '\n', chan.len))) {
		struct pollfd p = { .fd = chan.fd, .events = POLLIN };
		int64_t left = deadline - now_ns();

		if (chan.len == sizeof(chan.buf) || left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		n = read(chan.fd, chan.buf + chan.len, sizeof(chan.buf) - chan.len);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		chan.len += (size_t)n;
	}
	n = dhp_proto_decode(chan.buf, (size_t)(nl + 1 - chan.buf), &chan.msg, &err);
	chan.len -= (size_t)(nl + 1 - chan.buf);
	memmove(chan.buf, nl + 1, chan.len);
	return n < 0 ? (int)n : 0;
}

static void print_agent_log(void)
{
	char line[512];
	FILE *f = fopen(log_path, "r");

	if (!f)
		return;
	fprintf(stderr, "%s: dhp-agent's log (%s):\n", NAME, log_path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

static void stop_agent(void)
{
	pid_t pid = agent_pid;
	int status = 0;

	if (chan.fd >= 0)
		close(chan.fd);
	if (chan.listen_fd >= 0)
		close(chan.listen_fd);
	chan.fd = chan.listen_fd = -1;
	chan.len = 0;
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		sleep_s(0.01);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		printf("# %s: dhp-agent did not stop within 2 s of SIGTERM\n", NAME);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("# %s: dhp-agent ended with status 0x%x\n", NAME, status);
	}
	agent_pid = -1;
}

/* Start dhp-agent against the fake tree; take its channel and hello. */
static int start_agent(void)
{
	const char *argv[] = { "dhp-agent", "--socket", chan_path, "--sysfs", tree,
			       "--no-uevents", "--app-socket", app_path, NULL };
	struct sockaddr_un sa;
	sigset_t old_mask;
	pid_t pid;
	int r;

	unlink(chan_path);
	unlink(log_path);
	if ((r = unix_addr(chan_path, &sa)) < 0)
		return r;
	chan.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (chan.listen_fd < 0 || bind(chan.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(chan.listen_fd, 1) < 0)
		return -errno;
	fflush(stdout);
	sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		return r;
	}
	if (!pid) {
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (logfd >= 0)
			dup2(logfd, 2);
		execv(agent_path, (char *const *)argv);
		_exit(127);
	}
	agent_pid = pid;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	{
		struct pollfd p = { .fd = chan.listen_fd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
	}
	chan.fd = accept4(chan.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (chan.fd < 0)
		return -errno;
	if ((r = chan_msg(10.0)) < 0)
		return r;
	return chan.msg.type == DHP_PROTO_HELLO ? 0 : -EPROTO;
}

/* One notify as dhpd sends it; its reply's time (ns), or an error. */
static int64_t notify(uint64_t id, int64_t *ret_t0)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REQUEST };
	char line[DHP_PROTO_LINE_MAX + 1];
	size_t len;
	int r;

	m.request = (struct dhp_proto_request){
		.id = id, .op = DHP_PROTO_OP_NOTIFY, .note = DHP_PROTO_NOTE_ADD_COMPLETE,
		.has_unit = true, .unit = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 0 },
	};
	if ((r = dhp_proto_encode(&m, line, sizeof(line), &len, NULL)) < 0)
		return r;
	*ret_t0 = now_ns();
	if (send(chan.fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	for (;;) {
		if ((r = chan_msg(REPLY_TIMEOUT_S)) < 0)
			return r;
		if (chan.msg.type != DHP_PROTO_REPLY || chan.msg.reply.id != id)
			continue;	/* an event: not ours */
		if (chan.msg.reply.result != DHP_PROTO_OK)
			return -EPROTO;
		return now_ns();
	}
}

/* The agent's fake sysfs: what its hello reads. */
static void make_tree(void)
{
	mkdir(tree, 0755);
	put("devices/system/cpu/possible", "0-7\n");
	put("devices/system/cpu/online", "0-1\n");
	put("devices/system/cpu/cpu0/uevent", "");
	put("devices/system/cpu/cpu1/online", "1\n");
}

/* N programs registered through the agent; warm-up rounds until one
 * reaches all of them (a program's hello may still be on its way to the
 * agent when its own hello arrived), then rounds measured. */
static int agent_path_run(uint32_t n, uint32_t rounds, double pause_s)
{
	const uint32_t max_warmup = 10;
	uint32_t total = max_warmup + rounds, first = 0, i;
	int64_t *t0 = calloc(total, sizeof(*t0)), t_start = now_ns();
	struct result res = { 0 };
	double agent_rss = NAN;
	uint64_t id = 0;
	int r;

	if (!t0 || (r = samples_init(&res.delay, (size_t)rounds * n)) < 0 ||
	    (r = samples_init(&res.reply, rounds)) < 0) {
		r = t0 ? r : -ENOMEM;
		goto out;
	}
	if ((r = start_agent()) < 0) {
		fprintf(stderr, "%s: cannot start %s: %s\n", NAME, agent_path, strerror(-r));
		print_agent_log();
		goto out;
	}
	setenv("DHP_AGENT_SOCKET", app_path, 1);
	r = block_start(RECV_DHP_AGENT, n, total);
	unsetenv("DHP_AGENT_SOCKET");
	if (r < 0) {
		fprintf(stderr, "%s: %u programs through dhp-agent: %s\n", NAME, n,
			r == -ETIMEDOUT ? "not all registered in time" : strerror(-r));
		print_agent_log();
		goto out;
	}
	for (i = 1; i <= total && (!first || i < first + rounds); i++) {
		int64_t t_reply;
		bool complete;

		round_open(i);
		t_reply = notify(++id, &t0[i - 1]);
		if (t_reply < 0) {
			r = (int)t_reply;
			fprintf(stderr, "%s: notify %llu to dhp-agent: %s\n", NAME,
				(unsigned long long)id, strerror(-r));
			print_agent_log();
			goto out_block;
		}
		/* Every answer came before the reply: the slots are written. */
		complete = wait_arrivals(0.5);
		if (first)
			samples_add(&res.reply, (double)(t_reply - t0[i - 1]) / 1e3);
		else if (complete)
			first = i + 1;
		else if (i == max_warmup) {
			r = -ETIMEDOUT;
			fprintf(stderr, "%s: %u warm-up notifications never reached all %u"
				" programs (%u did)\n", NAME, max_warmup, n,
				atomic_load(&blk.shm->arrived));
			print_agent_log();
			goto out_block;
		}
		round_close(complete, pause_s);
	}
	blk.rounds = i - 1;	/* the slots of rounds never run stay out */
	res.missed = block_collect(t0, first, &res.delay, NULL);
	res.expected = (uint64_t)rounds * n;
	res.strays = atomic_load(&blk.shm->strays);
	if (n > 1) {
		char path[64], line[128];
		unsigned long long kib;
		FILE *f;

		block_memory(&res.rss_kib, &res.pss_kib);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)agent_pid);
		if ((f = fopen(path, "re"))) {
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
					agent_rss = (double)kib / 1024;
			fclose(f);
		}
	}
	printf("# %s: agent path, N=%u: %u notify requests (add-complete of processor 0)"
	       " after %u warm-up, %.1f s%s\n", NAME, n, rounds, first - 1,
	       (double)(now_ns() - t_start) / 1e9,
	       n == 1 ? "; no libudev comparison: libudev has no such relay" : "");
	if (res.strays)
		printf("# %s: agent path, N=%u: %llu stray callbacks\n", NAME, n,
		       (unsigned long long)res.strays);
	print_delay_rows("agent relay delay", n, &res.delay, n > 1, NULL, NULL);
	print_delay_rows("agent round trip", n, &res.reply, n > 1, NULL, NULL);
	print_missed("agent", &res);
	if (n > 1) {
		bench_row("  RSS per program, agent path", res.rss_kib, 0, "KiB", "", "");
		bench_row("  PSS per program, agent path", res.pss_kib, 0, "KiB", "", "");
		bench_row("  dhp-agent's RSS", agent_rss, 1, "MiB", "", "");
	}
	r = 0;
out_block:
	block_stop();
out:
	stop_agent();
	free(t0);
	samples_release(&res.delay);
	samples_release(&res.reply);
	return r;
}

/* ---- main ------------------------------------------------------------------ */

/* build/bench/libdhp-latency -> build/dhp-agent */
static int find_agent(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(agent_path, sizeof(agent_path), "%s/../dhp-agent", self) >=
	    sizeof(agent_path))
		return -ENAMETOOLONG;
	return access(agent_path, X_OK) < 0 ? -errno : 0;
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
	if (bench_dir(workdir, sizeof(workdir), NAME) < 0)
		return 1;
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	snprintf(chan_path, sizeof(chan_path), "%s/chan.sock", workdir);
	snprintf(app_path, sizeof(app_path), "%s/apps.sock", workdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", workdir);
	make_tree();
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
	bench_rmdir(workdir);
	return failed;
}
