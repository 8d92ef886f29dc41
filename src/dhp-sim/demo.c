/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim's demo: a scripted scenario on the demo server that shows every
 * kind of online change, a refusal, a staged change and a rollback. Each
 * step says what it expects; the demo stops at the first surprise.
 */
#include "dhp-sim/dhp-sim.h"

#include <errno.h>
#include <stdio.h>

enum demo_expect {
	DEMO_COMPLETED,
	DEMO_REFUSED,
	DEMO_ROLLED_BACK,
	DEMO_OTHER,
};

static const char *const demo_expect_names[] = {
	[DEMO_COMPLETED] = "completed",
	[DEMO_REFUSED] = "refused",
	[DEMO_ROLLED_BACK] = "rolled back",
	[DEMO_OTHER] = "failed",
};

struct demo_step {
	const char *heading;		/* starts a section, or NULL */
	const char *note;		/* what to look for, or NULL */
	const char *fault;		/* injected just before, or NULL */
	enum dhp_verb verb;
	const char *partition;
	const char *profile;
	const char *units[4];		/* NULL-terminated */
	bool on_restart;
	enum demo_expect expect;
};

static const struct demo_step demo_steps[] = {
	{ .heading = "create two partitions",
	  .note = "web runs Linux with dhp-agent: it hot adds, removes and replaces units.",
	  .verb = DHP_VERB_CREATE, .partition = "web", .profile = "linux",
	  .units = { "s0-cpu0", "s0-mem0", "s0-cpu1" } },
	{ .note = "legacy runs Windows Server 2008 x64: hot add and replace, no hot remove.",
	  .verb = DHP_VERB_CREATE, .partition = "legacy", .profile = "windows-server-2008-x64",
	  .units = { "s1-cpu0", "s1-mem0" } },
	{ .heading = "start both",
	  .verb = DHP_VERB_START, .partition = "web" },
	{ .verb = DHP_VERB_START, .partition = "legacy" },
	{ .heading = "hot add a processor and a memory module to web",
	  .note = "power on, ask the OS (add-start), attach, online, commit, tell it (add-complete).",
	  .verb = DHP_VERB_ADD, .partition = "web", .units = { "s0-cpu2" } },
	{ .verb = DHP_VERB_ADD, .partition = "web", .units = { "s0-mem1" } },
	{ .heading = "hot replace web's boot memory",
	  .note = "a spare is picked among the free identical modules; the contents move\n"
		  "while the OS runs, which keeps its memory size throughout.",
	  .verb = DHP_VERB_REPLACE, .partition = "web", .units = { "s0-mem0" } },
	{ .heading = "hot remove a processor from web",
	  .note = "ask the OS (remove-query), offline, detach, power off, commit.",
	  .verb = DHP_VERB_REMOVE, .partition = "web", .units = { "s0-cpu1" } },
	{ .heading = "legacy: hot add yes, hot remove no",
	  .note = "Windows Server 2008 x64 hot adds a processor...",
	  .verb = DHP_VERB_ADD, .partition = "legacy", .units = { "s1-cpu1" } },
	{ .note = "...but cannot hot remove one: refused before anything changes.",
	  .verb = DHP_VERB_REMOVE, .partition = "legacy", .units = { "s1-cpu0" },
	  .expect = DEMO_REFUSED },
	{ .heading = "stage the remove for legacy's next restart",
	  .verb = DHP_VERB_REMOVE, .partition = "legacy", .units = { "s1-cpu0" },
	  .on_restart = true },
	{ .note = "the restart applies the staged change.",
	  .verb = DHP_VERB_RESTART, .partition = "legacy" },
	{ .heading = "a fault: web's OS vetoes a hot add",
	  .note = "the done phases are undone in reverse; the operation says why.",
	  .fault = "notify:add-start@s0-cpu3=veto*1",
	  .verb = DHP_VERB_ADD, .partition = "web", .units = { "s0-cpu3" },
	  .expect = DEMO_ROLLED_BACK },
	{ .heading = "stop both",
	  .verb = DHP_VERB_STOP, .partition = "web" },
	{ .verb = DHP_VERB_STOP, .partition = "legacy" },
};

struct demo_tally {
	unsigned section;
	unsigned n[DEMO_OTHER + 1];
};

static struct dhp_request demo_request(const struct demo_step *st)
{
	struct dhp_request req = {
		.verb = st->verb, .partition = st->partition, .profile = st->profile,
		.units = st->units, .on_restart = st->on_restart,
	};

	while (req.n_units < sizeof(st->units) / sizeof(st->units[0]) && st->units[req.n_units])
		req.n_units++;
	return req;
}

/* The step as the one-shot command that does the same. */
static void demo_echo(const struct dhp_request *req)
{
	printf("$ " PROG " %s", dhp_verb_name(req->verb));
	if (req->partition)
		printf(" %s", req->partition);
	if (req->profile)
		printf(" --os %s", req->profile);
	for (size_t i = 0; i < req->n_units; i++)
		printf(" %s", req->units[i]);
	printf("%s\n", req->on_restart ? " --on-restart" : "");
}

static int demo_fault(struct sim *s, const char *spec)
{
	struct dhp_error err = { 0 };

	if (dhp_sim_faults_configure(s->backend, spec, &err) < 0) {
		sim_print_error(&err);
		return SIM_EXIT_FAILED;
	}
	printf("fault injected: %s   (--faults takes the same spec)\n", spec);
	return SIM_EXIT_OK;
}

static enum demo_expect demo_outcome(int rc, const struct dhp_op *op)
{
	if (rc == SIM_EXIT_OK)
		return DEMO_COMPLETED;
	if (rc == SIM_EXIT_REFUSED)
		return DEMO_REFUSED;
	if (rc == SIM_EXIT_FAILED && op->state == DHP_OP_ROLLED_BACK)
		return DEMO_ROLLED_BACK;
	return DEMO_OTHER;
}

static int demo_step(struct sim *s, const struct demo_step *st, struct demo_tally *tally)
{
	struct dhp_request req = demo_request(st);
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	enum demo_expect got;
	int rc;

	if (st->heading)
		printf("\n== %u. %s ==\n", ++tally->section, st->heading);
	if (st->note)
		printf("%s\n", st->note);
	if (st->fault && (rc = demo_fault(s, st->fault)))
		return rc;
	demo_echo(&req);
	rc = sim_run(s, &req, &op, &err);
	got = demo_outcome(rc, &op);
	tally->n[got]++;
	if (got == DEMO_REFUSED) {
		printf("refused (%s): %s\n", dhp_error_name(err.code), err.message);
		if (err.resolution[0])
			printf("  hint: %s\n", err.resolution);
	}
	if (got == st->expect)
		return SIM_EXIT_OK;
	dhp_error_clear(&err);
	dhp_error_set(&err, -EPROTO, "demo: the step above was expected to be %s, but it was %s",
		      demo_expect_names[st->expect], demo_expect_names[got]);
	sim_print_error(&err);
	return rc == SIM_EXIT_STATE ? rc : SIM_EXIT_FAILED;
}

static void demo_intro(struct sim *s)
{
	printf("dhp-sim demo: server %s (%s partitioning, %u sockets, %zu units)\n",
	       s->server->name, dhp_mode_name(s->server->mode), s->server->n_sockets,
	       s->server->n_units);
	printf("simulated hardware answers in %u ms; state in %s\n", s->opt.latency_ms,
	       s->opt.state_dir);
}

static void demo_outro(struct sim *s, struct demo_tally *tally, uint64_t start)
{
	printf("\n== %u. summary ==\n", ++tally->section);
	show_summary(s);
	printf("\noperations: %u completed, %u rolled back, %u refused; %.1f s in all.\n",
	       tally->n[DEMO_COMPLETED], tally->n[DEMO_ROLLED_BACK], tally->n[DEMO_REFUSED],
	       (double)(dhp_loop_now(s->loop) - start) / 1000.0);
	printf("The state stays in %s; look around with\n"
	       "  " PROG " --state-dir %s units|partitions|ops|events\n",
	       s->opt.state_dir, s->opt.state_dir);
}

int demo_run(struct sim *s)
{
	uint64_t start = dhp_loop_now(s->loop);
	struct demo_tally tally = { 0 };
	struct dhp_error err = { 0 };
	int rc;

	if (s->server->n_partitions) {
		dhp_error_set(&err, -EEXIST, "the demo needs a state without partitions; %s has %zu",
			      s->opt.state_dir, s->server->n_partitions);
		dhp_error_resolve(&err, "add --fresh, or use another --state-dir");
		sim_print_error(&err);
		return SIM_EXIT_REFUSED;
	}
	demo_intro(s);
	for (size_t i = 0; i < sizeof(demo_steps) / sizeof(demo_steps[0]); i++) {
		rc = demo_step(s, &demo_steps[i], &tally);
		if (rc)
			return rc;
	}
	demo_outro(s, &tally, start);
	return SIM_EXIT_OK;
}
