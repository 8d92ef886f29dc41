/* SPDX-License-Identifier: MIT */
/*
 * The simulated backend object: creation, the queue of answers still to
 * give (with the faults that shape them), crashes of a partition's OS and
 * reconciliation. What each call does is in ops.c.
 */
#include "backend/sim/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_answer {
	struct sim *sim;
	struct dhp_backend_cb cb;
	struct sim_work work;
	struct sim_fault_hit hit;
	struct dhp_timer *timer;
	struct sim_answer *prev, *next;
};

static void answer_unlink(struct sim *sim, struct sim_answer *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		sim->answers = a->next;
	if (a->next)
		a->next->prev = a->prev;
}

static void answer_free(struct sim_answer *a)
{
	free(a->work.units);
	free(a);
}

static int answer_outcome(struct sim *sim, struct sim_answer *a, struct dhp_error *err)
{
	const struct sim_work *w = &a->work;

	switch (a->hit.effect) {
	case DHP_SIM_FAIL:
		return sim_work_fail(sim, w, a->hit.rc, a->hit.reason, err);
	case DHP_SIM_CRASH:
		/* An OS crashes when it runs, or while it boots. */
		if (w->partition && (w->call == DHP_SIM_START ||
				     (sim_hw_partition(&sim->hw, w->partition, 0) &&
				      sim_hw_partition(&sim->hw, w->partition, 0)->running))) {
			sim_os_crash(sim, w->partition, dhp_sim_call_name(w->call));
			return dhp_error_set(err, -EHOSTDOWN,
					     "the OS of partition %u crashed during %s",
					     w->partition, dhp_sim_call_name(w->call));
		}
		return sim_work_run(sim, w, err);
	default:
		return sim_work_run(sim, w, err);
	}
}

static void answer_fire(void *arg)
{
	struct sim_answer *a = arg;
	struct sim *sim = a->sim;
	struct dhp_error err = { 0 };
	int rc;

	answer_unlink(sim, a);
	rc = answer_outcome(sim, a, &err);
	a->cb.done(a->cb.ctx, a->cb.token, rc, rc ? &err : NULL);
	answer_free(a);
}

int sim_schedule(struct sim *sim, struct dhp_backend_cb cb, struct sim_work *work)
{
	const struct dhp_unit *unit = work->unit ? work->unit : work->unit2;
	struct sim_answer *a = calloc(1, sizeof(*a));
	uint32_t delay = sim->latency_ms;

	if (!a) {
		free(work->units);
		return -ENOMEM;
	}
	a->sim = sim;
	a->cb = cb;
	a->work = *work;
	a->hit = sim_fault_match(sim, work->call, work->note, unit, work->partition);
	a->next = sim->answers;
	if (sim->answers)
		sim->answers->prev = a;
	sim->answers = a;
	if (a->hit.effect == DHP_SIM_HANG)
		return 0;	/* stays queued, unanswered, until the backend is freed */
	if (a->hit.effect == DHP_SIM_SLOW)
		delay += a->hit.delay_ms;
	a->timer = dhp_timer_add(sim->loop, delay, answer_fire, a);
	if (!a->timer) {
		answer_unlink(sim, a);
		answer_free(a);
		return -ENOMEM;
	}
	return 0;
}

struct crash_report {
	struct sim *sim;
	uint32_t partition;
	struct dhp_error why;
};

static void crash_report_fire(void *arg)
{
	struct crash_report *c = arg;
	struct dhp_backend_listener *l = &c->sim->base.listener;

	if (l->partition_failed)
		l->partition_failed(l->ctx, c->partition, &c->why);
	free(c);
}

void sim_os_crash(struct sim *sim, uint32_t partition, const char *during)
{
	struct sim_hw_partition *hp = sim_hw_partition(&sim->hw, partition, 0);
	struct crash_report *c;

	if (hp) {
		hp->running = 0;
		hp->os_ready = 0;
	}
	/* The hardware stays powered and wired; the OS no longer uses it. */
	for (size_t i = 0; i < sim->hw.n_units; i++)
		if (sim->hw.units[i].partition == partition)
			sim->hw.units[i].online = 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->sim = sim;
	c->partition = partition;
	dhp_error_set(&c->why, -EHOSTDOWN, "the OS of partition %u crashed during %s",
		      partition, during);
	if (!dhp_timer_add(sim->loop, 0, crash_report_fire, c))
		free(c);
}

static void reconcile_fire(void *arg)
{
	struct sim_answer *a = arg;

	answer_unlink(a->sim, a);
	a->cb.done(a->cb.ctx, a->cb.token, 0, NULL);
	answer_free(a);
}

/* The view is filled at once (the hardware is at hand) and answered on the
 * next turn, as every call is. */
static int sim_reconcile(struct dhp_backend *be, struct dhp_backend_view *view,
			 struct dhp_backend_cb cb)
{
	struct sim *sim = to_sim(be);
	struct sim_answer *a;

	if (view->n_units != sim->hw.n_units)
		return -EINVAL;
	for (size_t i = 0; i < view->n_units; i++) {
		const struct sim_hw_unit *u = &sim->hw.units[i];

		view->units[i] = (struct dhp_unit_view){
			.partition = u->partition, .powered = u->powered, .online = u->online,
		};
	}
	for (size_t i = 0; i < view->n_partitions; i++) {
		struct dhp_partition_view *pv = &view->partitions[i];
		const struct sim_hw_partition *hp = sim_hw_partition(&sim->hw, pv->id, 0);

		pv->running = hp && hp->running;
		pv->os_ready = hp && hp->os_ready;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->sim = sim;
	a->cb = cb;
	a->next = sim->answers;
	if (sim->answers)
		sim->answers->prev = a;
	sim->answers = a;
	a->timer = dhp_timer_add(sim->loop, 0, reconcile_fire, a);
	if (!a->timer) {
		answer_unlink(sim, a);
		free(a);
		return -ENOMEM;
	}
	return 0;
}

/* A call given up by the engine never happens: drop it unanswered. */
static void sim_cancel(struct dhp_backend *be, uint64_t token)
{
	struct sim *sim = to_sim(be);

	for (struct sim_answer *a = sim->answers; a; a = a->next)
		if (a->cb.token == token && a->cb.done) {
			answer_unlink(sim, a);
			dhp_timer_cancel(sim->loop, a->timer);
			answer_free(a);
			return;
		}
}

static void sim_free(struct dhp_backend *be)
{
	struct sim *sim = to_sim(be);

	while (sim->answers) {
		struct sim_answer *a = sim->answers;

		answer_unlink(sim, a);
		dhp_timer_cancel(sim->loop, a->timer);
		answer_free(a);
	}
	sim_hw_close(&sim->hw);
	free(sim->faults);
	free(sim);
}

/* No hypervisor, nothing to unplug: a processor leaves as the simulated
 * OS and the hardware file say. There are no consoles (console_open NULL):
 * a simulated OS prints nothing. */
static void sim_info(struct dhp_backend *be, struct dhp_backend_info *ret_info)
{
	(void)be;
	*ret_info = (struct dhp_backend_info){
		.cpu_remove = "simulated",
		.cpu_remove_reason = "the simulated server: the simulated OS takes the processor "
				     "offline and the hardware file detaches it",
	};
}

const struct dhp_backend_ops sim_ops = {
	.name = "sim",
	.power = sim_power,
	.partition_start = sim_partition_start,
	.partition_stop = sim_partition_stop,
	.notify = sim_notify,
	.attach = sim_attach,
	.detach = sim_detach,
	.online = sim_online,
	.offline = sim_offline,
	.move = sim_move,
	.cancel = sim_cancel,
	.reconcile = sim_reconcile,
	.info = sim_info,
	.free = sim_free,
};

int dhp_sim_new(const struct dhp_server *server, struct dhp_loop *loop,
		const char *hw_path, struct dhp_backend **ret_backend,
		struct dhp_error *err)
{
	struct sim *sim = calloc(1, sizeof(*sim));
	size_t n_slots = 0;
	int r;

	if (!sim)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	/* Every partition needs a processor: that bounds how many can run. */
	for (size_t i = 0; i < server->n_units; i++)
		n_slots += server->units[i].type == DHP_UNIT_PROCESSOR;
	r = sim_hw_open(&sim->hw, hw_path, server->n_units, n_slots,
			dhp_server_digest(server), err);
	if (r < 0) {
		free(sim);
		return r;
	}
	sim->base.ops = &sim_ops;
	sim->server = server;
	sim->loop = loop;
	*ret_backend = &sim->base;
	return 0;
}

void dhp_sim_set_os_ready(struct dhp_backend *be, uint32_t partition, bool ready)
{
	struct sim *sim = to_sim(be);
	struct sim_hw_partition *hp = sim_hw_partition(&sim->hw, partition, 0);

	if (!hp || !hp->running)
		return;
	hp->os_ready = ready;
	if (sim->base.listener.os_ready)
		sim->base.listener.os_ready(sim->base.listener.ctx, partition, ready);
}

void dhp_sim_set_latency(struct dhp_backend *be, uint32_t ms)
{
	to_sim(be)->latency_ms = ms;
}
