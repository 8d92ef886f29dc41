/* SPDX-License-Identifier: MIT */
/*
 * dhp-guard: critical work pinned to one processor, and a veto of any hot
 * remove of that processor. An example of libdhp (docs/examples.md): a
 * veto, and the simplest program structure, in which the helper thread
 * (dhp_start_thread) runs the callbacks while the main thread waits for
 * SIGTERM.
 *
 * Which processor: --cpu N pins the work to processor N (to the highest
 * one online until N is). Without it the work follows the newest
 * processor: at start the highest-numbered one online, then each processor
 * hot added (add-complete) as it arrives. So in the demo, where the
 * partition boots with cpu 0 and gets cpu 1 and then cpu 2, the work moves
 * to 1, then to 2, and a remove of cpu 1 is approved while one of cpu 2 is
 * vetoed.
 *
 *   remove-query of our processor  veto (-EBUSY) with the reason "critical
 *                                  work is pinned to cpu N": dhp rolls the
 *                                  remove back and names us in its error
 *   remove-complete of it          only with --uevents, where nothing can
 *                                  be vetoed: move to the highest online
 *   replace-complete of it         the same number on other hardware: pin
 *                                  again
 *
 * Build: cc -Iinclude dhp-guard.c -ldhp -pthread (or pkg-config dhp).
 */
#define _GNU_SOURCE
#include <dhp/dhp.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "dhp-guard"

struct guard {
	struct dhp *dhp;
	int64_t wanted;			/* --cpu N, or -1: follow the newest */
	uint32_t cpu;			/* where the work is pinned; UINT32_MAX: not yet */
	uint32_t possible;
	pthread_t worker;
	pthread_mutex_t lock;		/* stop and wake */
	pthread_cond_t wake;
	bool stop;
};

/* The critical work: a tick a second, on its processor only, until asked
 * to stop. (Not pthread_cancel: it needs libgcc_s, which a small image such
 * as dhp's guest lacks.) */
static void *critical_main(void *arg)
{
	struct guard *g = arg;
	struct timespec t;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec++;
		pthread_cond_timedwait(&g->wake, &g->lock, &t);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* Pin the critical thread to cpu; 0 or an errno. */
static int pin(struct guard *g, uint32_t cpu)
{
	cpu_set_t *set = CPU_ALLOC(g->possible);
	size_t size = CPU_ALLOC_SIZE(g->possible);
	int r;

	if (!set)
		return ENOMEM;
	CPU_ZERO_S(size, set);
	CPU_SET_S(cpu, size, set);
	r = pthread_setaffinity_np(g->worker, size, set);
	CPU_FREE(set);
	if (!r)
		g->cpu = cpu;
	return r;
}

/* The processor the work belongs on now: N of --cpu N when it is online;
 * else, following the newest, the one it is on while that is online; else
 * the highest-numbered online processor. -1 when unreadable. */
static int64_t choose(struct guard *g)
{
	uint32_t words = (g->possible + 63) / 64, count;
	uint64_t *mask = calloc(words, sizeof(*mask));
	int64_t highest = -1, pick = -1;

	if (mask && dhp_cpus_online(g->dhp, mask, words, &count) == 0) {
		for (uint32_t cpu = 0; cpu < g->possible; cpu++)
			if (mask[cpu / 64] >> (cpu % 64) & 1)
				highest = cpu;
		if (g->wanted >= 0 && g->wanted < g->possible && mask[g->wanted / 64] >> (g->wanted % 64) & 1)
			pick = g->wanted;
		else if (g->wanted < 0 && g->cpu < g->possible && mask[g->cpu / 64] >> (g->cpu % 64) & 1)
			pick = g->cpu;
	}
	free(mask);
	return pick >= 0 ? pick : highest;
}

/* Move the critical work to cpu; a message says what happened. */
static const char *move(struct guard *g, int64_t cpu)
{
	if (cpu < 0 || (uint32_t)cpu == g->cpu)
		return "";
	return pin(g, (uint32_t)cpu) ? ": cannot move the critical work" : ": the critical work moves";
}

static int on_processor(const struct dhp_change *c, char *reason, size_t reason_size,
			void *userdata)
{
	struct guard *g = userdata;
	uint32_t cpu = c->processor.cpu, from = g->cpu;
	bool ours = cpu == g->cpu;
	const char *what = "", *did = "";

	switch (c->phase) {
	case DHP_PHASE_REMOVE_QUERY:
		if (ours) {
			snprintf(reason, reason_size, "critical work is pinned to cpu %u", cpu);
			printf(NAME ": cpu %u may go: vetoed: %s [%s]\n", cpu, reason,
			       dhp_phase_name(c->phase));
			return -EBUSY;
		}
		what = "may go: approving";
		break;
	case DHP_PHASE_ADD_COMPLETE:
		what = "added";
		/* Follow the newest, or reach the one asked for. */
		if (g->wanted < 0 || cpu == g->wanted)
			did = move(g, cpu);
		break;
	case DHP_PHASE_REMOVE_COMPLETE:
		what = "removed";
		/* Ours only with --uevents (no veto): the kernel moved us. */
		if (ours)
			did = move(g, choose(g));
		break;
	case DHP_PHASE_REPLACE_COMPLETE:
		what = "replaced";
		if (ours)
			did = pin(g, cpu) ? ": cannot pin again" : ": the critical work is pinned again";
		break;
	default:
		what = dhp_phase_vetoable(c->phase) ? "is coming: approving" : "noted";
		break;
	}
	printf(NAME ": cpu %u %s%s; critical work on cpu %u", cpu, what, did, g->cpu);
	if (from != g->cpu)
		printf(" (was %u)", from);
	printf(" [%s%s]\n", dhp_phase_name(c->phase), c->flags & DHP_CHANGE_UEVENT ? ", uevent" : "");
	return 0;
}

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	struct guard *g = userdata;
	int64_t cpu;

	(void)dhp;
	printf(NAME ": transport %s%s%s\n", dhp_transport_name(transport), error ? ": " : "",
	       error ? strerror(-error) : "");
	/* Changes may have been missed: is ours still online? */
	if (error && (cpu = choose(g)) >= 0 && (uint32_t)cpu != g->cpu && pin(g, (uint32_t)cpu) == 0)
		printf(NAME ": critical work moved to cpu %u\n", g->cpu);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " NAME " [--cpu N] [--uevents] [--help]\n"
		"Critical work pinned to one processor, whose hot remove it vetoes\n"
		"(libdhp's example; docs/examples.md).\n"
		"  --cpu N    pin to processor N (default: follow the newest processor)\n"
		"  --uevents  kernel uevents only (DHP_OPEN_NO_AGENT): nothing can be vetoed\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' }, { "uevents", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct guard g = { .wanted = -1, .cpu = UINT32_MAX, .lock = PTHREAD_MUTEX_INITIALIZER,
			   .wake = PTHREAD_COND_INITIALIZER };
	struct dhp_registration *reg;
	uint32_t flags = 0;
	int opt, r, sig, status = 1;
	int64_t first;
	char *end;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c') {
			g.wanted = strtol(optarg, &end, 10);
			if (*end || end == optarg || g.wanted < 0 || g.wanted > 1 << 20) {
				fprintf(stderr, NAME ": --cpu takes a processor number\n");
				return 2;
			}
		} else if (opt == 'u') {
			flags |= DHP_OPEN_NO_AGENT;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* sigwait() takes them */

	if ((r = dhp_open(&g.dhp, NULL, flags)) < 0) {
		fprintf(stderr, NAME ": cannot open libdhp: %s\n", strerror(-r));
		return 1;
	}
	if ((r = dhp_cpus_possible(g.dhp, &g.possible)) < 0 || (first = choose(&g)) < 0) {
		fprintf(stderr, NAME ": cannot read the processors: %s\n", strerror(r < 0 ? -r : EIO));
		goto close_dhp;
	}
	if ((r = pthread_create(&g.worker, NULL, critical_main, &g))) {
		fprintf(stderr, NAME ": cannot start the critical work: %s\n", strerror(r));
		goto close_dhp;
	}
	if ((r = pin(&g, (uint32_t)first))) {
		fprintf(stderr, NAME ": cannot pin to cpu %u: %s\n", (uint32_t)first, strerror(r));
		goto stop_work;
	}
	printf(NAME ": transport %s\n", dhp_transport_name((uint32_t)dhp_transport(g.dhp)));
	printf(NAME ": critical work pinned to cpu %u (%s)\n", g.cpu,
	       g.wanted < 0 ? "following the newest processor"
	       : (int64_t)g.cpu == g.wanted ? "as asked" : "until the one asked for is added");
	dhp_set_transport_callback(g.dhp, on_transport, &g);
	if ((r = dhp_register(g.dhp, DHP_KIND_PROCESSOR, 0, on_processor, &g, &reg)) < 0 ||
	    (r = dhp_start_thread(g.dhp)) < 0) {
		fprintf(stderr, NAME ": cannot register: %s\n", strerror(-r));
		goto stop_work;
	}
	sigwait(&sigs, &sig);
	printf(NAME ": stopping\n");
	status = 0;
	dhp_stop_thread(g.dhp);
stop_work:
	pthread_mutex_lock(&g.lock);
	g.stop = true;
	pthread_cond_signal(&g.wake);
	pthread_mutex_unlock(&g.lock);
	pthread_join(g.worker, NULL);
close_dhp:
	dhp_close(g.dhp);
	return status;
}
