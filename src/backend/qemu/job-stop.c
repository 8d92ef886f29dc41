/* SPDX-License-Identifier: MIT */
/*
 * Stopping a partition's QEMU: the ACPI power button (system_powerdown)
 * and a grace period (powerdown_ms), in which the guest powers itself off
 * (its acpid runs an orderly poweroff: about 2 s, docs/guest.md); then
 * QMP "quit" (busybox init does not act on the power button), then
 * SIGKILL. Then its units are detached and its files removed (console.log
 * and qemu.log stay, for people). A QEMU dhpd has no QMP connection to
 * (found running at start-up but unreachable) gets SIGKILL at once. Which
 * of these ended it is a notice: "powered off by its OS ... after the
 * power button" is a graceful stop.
 *
 * QEMU's end (its QMP connection closing) is awaited from the power
 * button on, whatever the step: it ends the stop.
 */
#include <errno.h>
#include <signal.h>

#include "backend/qemu/call.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/process.h"

#define QUIT_MS 5000u
#define KILL_MS 5000u
#define KILL_POLL_MS 50u

enum stop_step {
	STOP_BUTTON,		/* system_powerdown's answer */
	STOP_GRACE,		/* powerdown_ms for the guest to power off */
	STOP_QUIT,		/* QMP quit's answer */
	STOP_QUIT_WAIT,		/* QUIT_MS for QEMU to end */
	STOP_KILL_WAIT,		/* SIGKILL sent: until the process is gone, KILL_MS */
};

/* What ended QEMU, for the notice. */
enum stop_how {
	STOP_HOW_GONE,		/* nothing: it was not running */
	STOP_HOW_BUTTON,	/* the power button: the guest powered off */
	STOP_HOW_QUIT,		/* QMP quit, after the grace */
	STOP_HOW_KILL,		/* SIGKILL */
};

struct stop_job {
	struct qcall call;
	enum stop_step step;
	enum stop_how how;
	uint64_t t0, until;
};

static void say_how(struct stop_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	double s = (double)(dhp_loop_now(q->loop) - j->t0) / 1000;

	switch (j->how) {
	case STOP_HOW_BUTTON:
		qemu_notice(q, "partition %u powered off by its OS %.1f s after the power button",
			    c->partition, s);
		break;
	case STOP_HOW_QUIT:
		qemu_notice(q, "partition %u did not power off within %.1f s of the power button: "
			    "QEMU was told to quit (stopped in %.1f s)", c->partition,
			    (double)q->powerdown_ms / 1000, s);
		break;
	case STOP_HOW_KILL:
		qemu_notice(q, "partition %u: its QEMU was killed (stopped in %.1f s)", c->partition,
			    s);
		break;
	case STOP_HOW_GONE:
		break;
	}
}

/* QEMU has ended: the partition's run-time part and files go. */
static void stopped(struct stop_job *j)
{
	struct qcall *c = &j->call;
	struct qpart *part = qpart_find(c->q, c->partition);

	say_how(j);
	if (part) {
		part->stopping = true;
		qpart_release(part);
	}
	qs_partition_clear(&c->q->state, c->partition);
	qemu_remove_files(c->q, c->partition);
	qcall_end(c, 0, NULL);
}

static void kill_it(struct stop_job *j)
{
	struct qcall *c = &j->call;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	if (rec)
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	j->how = STOP_HOW_KILL;
	j->until = dhp_loop_now(c->q->loop) + KILL_MS;
	j->step = STOP_KILL_WAIT;
}

static void stop_step(struct qcall *c)
{
	struct stop_job *j = (struct stop_job *)c;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct qpart *part;

	if (c->wake == QCALL_DOWN) {
		stopped(j);
		return;
	}
	if (c->wake == QCALL_BEGIN) {
		part = qcall_part(c);
		j->t0 = dhp_loop_now(c->q->loop);
		if (part) {
			part->stopping = true;
			c->listen = QCALL_ON_DOWN;
			j->how = STOP_HOW_BUTTON;
			j->step = STOP_BUTTON;
			qcall_qmp(c, "system_powerdown", NULL, c->q->unit_ms);
			return;
		}
		/* No QMP (dhpd restarted and could not reconnect): a signal only. */
		if (!rec || !qemu_pid_alive(rec->pid, rec->start_time)) {
			stopped(j);
			return;
		}
		kill_it(j);
	}
	switch (j->step) {
	case STOP_BUTTON:	/* its answer does not matter */
		j->step = STOP_GRACE;
		qcall_after(c, c->q->powerdown_ms);
		return;
	case STOP_GRACE:
		if (!qcall_part(c)) {
			j->how = STOP_HOW_GONE;	/* QMP went, its end unseen: no claim */
			stopped(j);
			return;
		}
		j->how = STOP_HOW_QUIT;
		j->step = STOP_QUIT;
		qcall_qmp(c, "quit", NULL, QUIT_MS);
		return;
	case STOP_QUIT:		/* its end (QCALL_DOWN) or, failing that, SIGKILL */
		j->step = STOP_QUIT_WAIT;
		qcall_after(c, QUIT_MS);
		return;
	case STOP_QUIT_WAIT:
		kill_it(j);
		/* fall through */
	case STOP_KILL_WAIT:
		if (!rec || !qemu_pid_alive(rec->pid, rec->start_time)) {
			stopped(j);
			return;
		}
		if (dhp_loop_now(c->q->loop) >= j->until) {
			qcall_fail(c, -EIO, "the QEMU of partition %u (pid %d) does not end",
				   c->partition, (int)rec->pid);
			return;
		}
		qcall_after(c, KILL_POLL_MS);
		return;
	}
}

int qemu_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
			struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), sizeof(struct stop_job), cb, p->id, stop_step);

	return c ? 0 : -ENOMEM;
}
