/* SPDX-License-Identifier: MIT */
/*
 * The agent path (main.c says what it measures): dhp-agent started against
 * a fake dhpd (agent.c), a block of programs registered on its socket, and
 * one notify request per round, timed to each callback and to the reply.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

/* dhp-agent's resident set in MiB; NAN if unknown. */
static double agent_rss_mib(void)
{
	char path[64], line[128];
	unsigned long long kib;
	double rss = NAN;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)agent_pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
				rss = (double)kib / 1024;
		fclose(f);
	}
	return rss;
}

/* N programs registered through the agent; warm-up rounds until one
 * reaches all of them (a program's hello may still be on its way to the
 * agent when its own hello arrived), then rounds measured. */
int agent_path_run(uint32_t n, uint32_t rounds, double pause_s)
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
		block_memory(&res.rss_kib, &res.pss_kib);
		agent_rss = agent_rss_mib();
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
		row("  RSS per program, agent path", res.rss_kib, 0, "KiB", "", "");
		row("  PSS per program, agent path", res.pss_kib, 0, "KiB", "", "");
		row("  dhp-agent's RSS", agent_rss, 1, "MiB", "", "");
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
