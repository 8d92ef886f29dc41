/* SPDX-License-Identifier: MIT */
/*
 * Stopping a partition's QEMU: the ACPI power button (system_powerdown)
 * and a grace period, then QMP "quit" (the guest's busybox init does not
 * act on the power button), then SIGKILL. Then its units are detached
 * and its files removed (console.log and qemu.log stay, for people).
 * A QEMU dhpd has no QMP connection to (found running at start-up but
 * unreachable) gets SIGKILL at once.
 */
#include "backend/qemu/internal.h"

#include <signal.h>

#define QUIT_MS 5000u
#define KILL_MS 5000u
#define KILL_POLL_MS 50u

static void stopped(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);

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
		stopped(c);
		return;
	}
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

	if (part) {
		part->stopping = true;
		c->on_down = stopped;
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
