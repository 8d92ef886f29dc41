/* SPDX-License-Identifier: MIT */
/*
 * dhp-workers: a pool with one worker thread per online processor, each
 * pinned to its processor, that follows the processors dhp hot adds, hot
 * removes and hot replaces. An example of libdhp (docs/examples.md): a
 * program with its own event loop, poll() on dhp_get_fd() and a signalfd,
 * calling dhp_dispatch() when the first is readable; callbacks then run on
 * the main thread, so the pool needs no lock of its own.
 *
 *   add-complete     the processor runs code now: start its worker
 *   remove-query     stop its worker first, then approve, so that nothing
 *                    of ours is pinned to a processor that goes away
 *   remove-failure   the processor stays after all: start its worker again
 *   remove-complete  gone; its worker was stopped at the query (with
 *                    --uevents no query comes: it is stopped now)
 *   replace-complete the same number runs on other hardware: pin the worker
 *                    again (a real pool would also refresh what it knows of
 *                    the processor: node, caches)
 * The processors online at start come through the same callback
 * (DHP_REGISTER_ADD_EXISTING): one code path for both.
 *
 * Build: cc -Iinclude dhp-workers.c -ldhp -pthread (or pkg-config dhp).
 */
#define _GNU_SOURCE
#include <dhp/dhp.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define NAME "dhp-workers"
#define BIT(mask, i) ((mask)[(i) / 64] >> ((i) % 64) & 1)

struct worker {
	struct pool *pool;
	pthread_t thread;
	bool stop;			/* under pool->lock */
	pthread_cond_t wake;
};

struct pool {
	struct dhp *dhp;
	pthread_mutex_t lock;		/* what workers share with the main thread */
	uint32_t n;			/* dhp_cpus_possible(): the size of both */
	struct worker *workers;		/* by processor number */
	uint64_t *running;		/* bit mask: a worker runs there */
};

/* A worker: a job a second. A real pool takes work off a queue here; what
 * matters is that it is pinned and stops at once when asked. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec t;

	pthread_mutex_lock(&w->pool->lock);
	while (!w->stop) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec++;
		pthread_cond_timedwait(&w->wake, &w->pool->lock, &t);
	}
	pthread_mutex_unlock(&w->pool->lock);
	return NULL;
}

/* Pin a thread, or with attr the thread about to be made, to cpu. A plain
 * cpu_set_t holds 1,024 processors; CPU_ALLOC holds as many as the machine
 * can have. Returns 0 or an errno. */
static int pin(pthread_t thread, pthread_attr_t *attr, uint32_t cpu, uint32_t possible)
{
	cpu_set_t *set = CPU_ALLOC(possible);
	size_t size = CPU_ALLOC_SIZE(possible);
	int r;

	if (!set)
		return ENOMEM;
	CPU_ZERO_S(size, set);
	CPU_SET_S(cpu, size, set);
	r = attr ? pthread_attr_setaffinity_np(attr, size, set)
		 : pthread_setaffinity_np(thread, size, set);
	CPU_FREE(set);
	return r;
}

static int worker_start(struct pool *pool, uint32_t cpu)
{
	struct worker *w = &pool->workers[cpu];
	pthread_attr_t attr;
	int r;

	if (BIT(pool->running, cpu))
		return 0;
	w->pool = pool;
	w->stop = false;
	pthread_attr_init(&attr);
	/* Pinned in its attributes: it never runs anywhere else. */
	r = pin(0, &attr, cpu, pool->n);
	if (!r)
		r = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (!r)
		pool->running[cpu / 64] |= 1ull << (cpu % 64);
	return r;
}

/* Returns at once (the worker only waits on its condition): well within
 * the 2 s the agent gives all programs to answer. */
static void worker_stop(struct pool *pool, uint32_t cpu)
{
	struct worker *w = &pool->workers[cpu];

	if (!BIT(pool->running, cpu))
		return;
	pthread_mutex_lock(&pool->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&pool->lock);
	pthread_join(w->thread, NULL);
	pool->running[cpu / 64] &= ~(1ull << (cpu % 64));
}

/* The processors online now, from the kernel; NULL when unreadable.
 * Caller frees. */
static uint64_t *online_mask(struct pool *pool)
{
	uint64_t *mask = calloc((pool->n + 63) / 64, sizeof(*mask));
	uint32_t count;

	if (mask && dhp_cpus_online(pool->dhp, mask, (pool->n + 63) / 64, &count) < 0) {
		free(mask);
		mask = NULL;
	}
	return mask;
}

/* A mask as a cpulist ("0-2,5") into buf; returns how many bits are set. */
static uint32_t cpulist(char *buf, size_t size, const uint64_t *mask, uint32_t n)
{
	uint32_t count = 0, j;
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i = j + 1) {
		j = i;
		if (!BIT(mask, i))
			continue;
		while (j + 1 < n && BIT(mask, j + 1))
			j++;
		count += j - i + 1;
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, j > i ? "%s%u-%u" : "%s%u",
						 used ? "," : "", i, j);
	}
	return count;
}

/* "NAME: WHAT: 3 workers on cpus 0-2; online 0-2 [PHASE, how]": what we
 * did, our workers, and the kernel's own view. */
static void report(struct pool *pool, const struct dhp_change *c, const char *what)
{
	uint64_t *online = online_mask(pool);
	char workers[256], kernel[256] = "?";
	uint32_t count = cpulist(workers, sizeof(workers), pool->running, pool->n);

	if (online)
		cpulist(kernel, sizeof(kernel), online, pool->n);
	printf(NAME ": %s: %u worker%s%s%s; online %s", what, count, count == 1 ? "" : "s",
	       count == 1 ? " on cpu " : count ? " on cpus " : "", workers, kernel);
	if (c)
		printf(" [%s%s]", dhp_phase_name(c->phase),
		       c->flags & DHP_CHANGE_EXISTING ? ", existing"
		       : c->flags & DHP_CHANGE_UEVENT ? ", uevent" : "");
	printf("\n");
	free(online);
}

static int on_processor(const struct dhp_change *c, char *reason, size_t reason_size,
			void *userdata)
{
	struct pool *pool = userdata;
	uint32_t cpu = c->processor.cpu;
	const char *what = NULL;
	uint64_t *online;
	char buf[96];
	int r = 0;

	(void)reason, (void)reason_size;	/* this program never vetoes */
	if (cpu >= pool->n)
		return 0;
	switch (c->phase) {
	case DHP_PHASE_ADD_COMPLETE:
		r = worker_start(pool, cpu);
		what = c->flags & DHP_CHANGE_EXISTING ? "online" : "added";
		break;
	case DHP_PHASE_REMOVE_QUERY:
		worker_stop(pool, cpu);
		what = "may go: its worker stopped, approving";
		break;
	case DHP_PHASE_REMOVE_FAILURE:
		r = worker_start(pool, cpu);
		what = "stays: its worker restarted";
		break;
	case DHP_PHASE_REMOVE_COMPLETE:
		/* The kernel has the last word: a wrong stop wastes a processor. */
		if ((online = online_mask(pool)) && !BIT(online, cpu))
			worker_stop(pool, cpu);
		free(online);
		what = "removed";
		break;
	case DHP_PHASE_REPLACE_COMPLETE:
		if (BIT(pool->running, cpu))
			r = pin(pool->workers[cpu].thread, NULL, cpu, pool->n);
		what = "replaced: its worker pinned again";
		break;
	case DHP_PHASE_ADD_START:
		what = "is coming: approving";
		break;
	default:	/* add-failure, replace-start, replace-failure */
		what = "nothing to do";
		break;
	}
	if (r)
		printf(NAME ": cpu %u: cannot start or pin its worker: %s\n", cpu, strerror(r));
	snprintf(buf, sizeof(buf), "cpu %u %s", cpu, what);
	report(pool, c, buf);
	return 0;
}

/* Notifications may have been missed: follow the kernel's view. */
static void resync(struct pool *pool)
{
	uint64_t *online = online_mask(pool);

	for (uint32_t cpu = 0; online && cpu < pool->n; cpu++) {
		if (BIT(online, cpu))
			worker_start(pool, cpu);
		else
			worker_stop(pool, cpu);
	}
	free(online);
	report(pool, NULL, "read the processors again");
}

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	(void)dhp;
	printf(NAME ": transport %s%s%s\n", dhp_transport_name(transport), error ? ": " : "",
	       error ? strerror(-error) : "");
	if (error)
		resync(userdata);
}

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: " NAME " [--uevents] [--help]\n"
		"A worker thread per online processor, pinned to it, following hot add,\n"
		"remove and replace (libdhp's example; docs/examples.md).\n"
		"  --uevents  kernel uevents only (DHP_OPEN_NO_AGENT): complete phases, no vetoes\n");
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uevents", no_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	struct pool pool = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct dhp_registration *reg;
	uint32_t flags = 0;
	int c, r, sfd, status = 1;
	sigset_t sigs;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'u')
			return c == 'h' ? usage(stdout, 0) : usage(stderr, 2);
		flags |= DHP_OPEN_NO_AGENT;
	}
	if (optind < argc)
		return usage(stderr, 2);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a line at a time, also into a pipe */

	/* SIGTERM and SIGINT come through a descriptor in the loop. Blocked
	 * before any thread starts, as threads inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, NAME ": signalfd: %s\n", strerror(errno));
		return 1;
	}
	if ((r = dhp_open(&pool.dhp, NULL, flags)) < 0) {
		fprintf(stderr, NAME ": cannot open libdhp: %s\n", strerror(-r));
		goto close_signals;
	}
	if ((r = dhp_cpus_possible(pool.dhp, &pool.n)) < 0 ||
	    !(pool.workers = calloc(pool.n, sizeof(*pool.workers))) ||
	    !(pool.running = calloc((pool.n + 63) / 64, sizeof(*pool.running)))) {
		fprintf(stderr, NAME ": cannot size the pool: %s\n", strerror(r < 0 ? -r : ENOMEM));
		goto free_pool;
	}
	for (uint32_t i = 0; i < pool.n; i++)
		pthread_cond_init(&pool.workers[i].wake, NULL);
	printf(NAME ": transport %s\n", dhp_transport_name((uint32_t)dhp_transport(pool.dhp)));
	dhp_set_transport_callback(pool.dhp, on_transport, &pool);
	/* Told add-complete (EXISTING) for each processor online now. */
	r = dhp_register(pool.dhp, DHP_KIND_PROCESSOR, DHP_REGISTER_ADD_EXISTING, on_processor,
			 &pool, &reg);
	if (r < 0) {
		fprintf(stderr, NAME ": cannot register: %s\n", strerror(-r));
		goto stop_workers;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = dhp_get_fd(pool.dhp), .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents && (r = dhp_dispatch(pool.dhp)) < 0)
			printf(NAME ": dispatch: %s\n", strerror(-r));
	}
	printf(NAME ": stopping\n");
	status = 0;
	dhp_unregister(reg);	/* no callback runs after this: the workers are ours */
stop_workers:
	for (uint32_t i = 0; i < pool.n; i++)
		worker_stop(&pool, i);
free_pool:
	free(pool.running);
	free(pool.workers);
	dhp_close(pool.dhp);
close_signals:
	close(sfd);
	return status;
}
