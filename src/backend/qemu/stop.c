/* SPDX-License-Identifier: MIT */
/*
 * Stopping a partition's QEMU: the ACPI power button (system_powerdown)
 * and a grace period (powerdown_ms), in which the guest powers itself off
 * (its acpid runs an orderly poweroff: about 2 s, docs/guest.md); then
 * QMP "quit", then SIGKILL. Then its units are detached and its files
 * removed (console.log and qemu.log stay, for people). A QEMU dhpd has no
 * QMP connection to (found running at start-up but unreachable) gets
 * SIGKILL at once. Which of these ended it is a notice: "powered off by
 * its OS ... after the power button" is a graceful stop.
 */
#include "backend/qemu/internal.h"

#include <signal.h>

#define QUIT_MS 5000u
#define KILL_MS 5000u
#define KILL_POLL_MS 50u

/* How far a stop went (c->step): what ended QEMU. */
enum stop_step {
	STOP_GONE,		/* nothing: it was not running */
	STOP_BUTTON,		/* the power button: the guest powered off */
	STOP_QUIT,		/* QMP quit, after the grace */
	STOP_KILL,		/* SIGKILL */
};

static void say_how(struct qcall *c)
{
	struct qemu *q = c->q;
	double s = (double)(dhp_loop_now(q->loop) - c->t0) / 1000;

	switch ((enum stop_step)c->step) {
	case STOP_BUTTON:
		qemu_notice(q, "partition %u powered off by its OS %.1f s after the power button",
			    c->partition, s);
		break;
	case STOP_QUIT:
		qemu_notice(q, "partition %u did not power off within %.1f s of the power button: "
			    "QEMU was told to quit (stopped in %.1f s)", c->partition,
			    (double)q->powerdown_ms / 1000, s);
		break;
	case STOP_KILL:
		qemu_notice(q, "partition %u: its QEMU was killed (stopped in %.1f s)", c->partition,
			    s);
		break;
	case STOP_GONE:
		break;
	}
}

static void stopped(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);

	say_how(c);
	c->on_down = NULL;
	if (part) {
		part->stopping = true;
		qpart_release(part);
	}
	qs_partition_clear(&c->q->state, c->partition);
	qemu_remove_files(c->q, c->partition);
	qcall_finish(c, 0, NULL);
}

static void wait_dead(struct qcall *c)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	if (!rec || !qemu_pid_alive(rec->pid, rec->start_time)) {
		stopped(c);
		return;
	}
	if (dhp_loop_now(c->q->loop) >= c->until) {
		qcall_fail(c, -EIO, "the QEMU of partition %u (pid %d) does not end", c->partition,
			   (int)rec->pid);
		return;
	}
	qcall_after(c, KILL_POLL_MS, wait_dead);
}

static void kill_it(struct qcall *c)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	if (rec)
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	c->step = STOP_KILL;
	c->until = dhp_loop_now(c->q->loop) + KILL_MS;
	wait_dead(c);
}

static void quit_sent(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)rc, (void)ret, (void)err;
	/* Its end (on_down) or, failing that, SIGKILL. */
	qcall_after(c, QUIT_MS, kill_it);
}

static void send_quit(struct qcall *c)
{
	if (!qcall_part(c)) {
		c->step = STOP_GONE;	/* QMP went, its end unseen: no claim */
		stopped(c);
		return;
	}
	c->step = STOP_QUIT;
	qcall_qmp(c, "quit", NULL, QUIT_MS, quit_sent);
}

static void powerdown_sent(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)rc, (void)ret, (void)err;
	qcall_after(c, c->q->powerdown_ms, send_quit);
}

static void stop_begin(struct qcall *c)
{
	struct qpart *part = qcall_part(c);
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	c->t0 = dhp_loop_now(c->q->loop);
	if (part) {
		part->stopping = true;
		c->on_down = stopped;
		c->step = STOP_BUTTON;
		qcall_qmp(c, "system_powerdown", NULL, c->q->unit_ms, powerdown_sent);
		return;
	}
	/* No QMP (dhpd restarted and could not reconnect): a signal only. */
	if (rec && qemu_pid_alive(rec->pid, rec->start_time)) {
		kill_it(c);
		return;
	}
	stopped(c);
}

int qemu_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
			struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, NULL);

	if (!c)
		return -ENOMEM;
	qcall_after(c, 0, stop_begin);
	return 0;
}
