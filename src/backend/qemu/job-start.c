/* SPDX-License-Identifier: MIT */
/*
 * Starting a partition's QEMU: plan where each unit sits and spawn QEMU
 * (start-spawn.c) (it daemonizes once its sockets listen), connect QMP, learn
 * the vCPU type and the DIMMs' addresses, wait for the agent's hello (the
 * guest has booted; a hello of a newer protocol fails the start at once),
 * pin vCPUs to host CPUs, answer. A failure after the spawn ends the QEMU
 * (START_UNDO): a start either completes or leaves nothing running.
 *
 * A start the engine gives up on while QEMU daemonizes still waits for
 * its child, and ends the QEMU that comes of it; a later start of the
 * same partition waits for that first.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/pin.h"
#include "backend/qemu/process.h"
#include "backend/qemu/start-spawn.h"

#define SPAWN_POLL_MS 20u
#define SPAWN_MS 20000u		/* QEMU's own start-up, before it daemonizes */

enum start_step {
	START_PLAN,		/* plan and spawn, once an earlier, cancelled start ended its QEMU */
	START_SPAWN,		/* QEMU daemonizes: its child polled */
	START_CONNECT,		/* QMP, then the agent's channel */
	START_CPUS,		/* query-hotpluggable-cpus: the vCPU type */
	START_MEMS,		/* query-memory-devices: the DIMMs' addresses */
	START_HELLO,		/* the agent's hello, until the boot deadline */
	START_PIN,		/* query-cpus-fast: the vCPU threads to pin */
};

struct start_job {
	struct qcall call;
	enum start_step step;
	const struct dhp_unit **units;	/* owned */
	size_t n_units;
	char name[80];
	char uuid[DHP_UUID_LEN];	/* the guest's SMBIOS system UUID */
	pid_t child;			/* the QEMU that daemonizes, -1 */
	uint64_t t0, until;		/* the spawn, the boot deadline */
	struct qconnect connect;
};

static void start_step(struct qcall *c);

bool qemu_start_spawning(struct qemu *q, uint32_t id, const struct qcall *self)
{
	for (const struct qcall *c = q->calls; c; c = c->next)
		if (c != self && c->partition == id && c->step == start_step &&
		    ((const struct start_job *)c)->child > 0)
			return true;
	return false;
}

/* The spawned process has exited, or should have (SPAWN_MS): 0 QEMU
 * runs, <0 the call has ended or was dropped. */
static int spawned(struct start_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	struct qs_partition *rec;
	char path[QEMU_PATH_MAX], tail[200];
	int status = 0, r = qemu_child_done(j->child, &status);

	if (r == 0 && dhp_loop_now(q->loop) < j->t0 + SPAWN_MS) {
		qcall_after(c, SPAWN_POLL_MS);
		return 1;
	}
	if (r == 0) {
		kill(j->child, SIGKILL);
		waitpid(j->child, &status, 0);
		status = -1;
	}
	j->child = -1;
	c->outlive_cancel = false;
	if (c->cancelled) {
		/* The engine gave up on this start: what it made must go. */
		qemu_notice(q, "partition %u: its start was given up while QEMU started; "
			    "that QEMU is ended", c->partition);
		qemu_kill_pidfile(q, c->partition);
		qemu_remove_files(q, c->partition);	/* j->child is -1 now: all of them */
		rec = qs_partition(&q->state, c->partition, false);
		if (rec && rec->pid < 0)
			qs_partition_clear(&q->state, c->partition);
		qcall_drop(c);
		return -ECANCELED;
	}
	qemu_part_path(q, c->partition, "qemu.log", path, sizeof(path));
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		qemu_log_tail(path, tail, sizeof(tail));
		qcall_fail(c, -EIO, "QEMU could not start partition %u: %s", c->partition,
			   tail[0] ? tail : "no message (see qemu.log)");
		return -EIO;
	}
	rec = qs_partition(&q->state, c->partition, false);
	qemu_part_path(q, c->partition, "qemu.pid", path, sizeof(path));
	if (!rec || qemu_pid_read(path, &rec->pid, &rec->start_time) < 0) {
		qcall_fail(c, -EIO, "QEMU of partition %u left no pid file", c->partition);
		return -EIO;
	}
	rec->running = 1;
	return 0;
}

/* Any failure after the spawn: nothing of it stays. */
static void start_undo(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);

	if (rec && rec->pid > 0)
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	qemu_kill_pidfile(q, c->partition);
	if (part) {
		part->stopping = true;
		qpart_release(part);
	}
	qs_partition_clear(&q->state, c->partition);
	qemu_remove_files(q, c->partition);
	qcall_end(c, 0, NULL);	/* ends with the failure */
}

/* The guest booted, but its agent speaks a newer protocol: it would stay
 * absent, so the start fails now rather than at the boot deadline. */
static void hello_refused(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	struct dhp_error e = { 0 };

	dhp_error_set(&e, -EPROTONOSUPPORT, "the guest of partition %u booted, but its agent "
		      "is refused: %s", c->partition,
		      part ? part->agent_refused.message : "a newer protocol");
	if (part)
		dhp_error_resolve(&e, "%s", part->agent_refused.resolution);
	qcall_end(c, e.code, &e);
}

static void started(struct start_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);

	for (size_t i = 0; i < j->n_units; i++)
		qemu_unit_state(q, j->units[i])->online = 1;
	if (part)
		part->started = true;
	c->undo = false;
	qemu_notice(q, "partition %u booted in %.1f s (QEMU %s, %s)", c->partition,
		    (double)(dhp_loop_now(q->loop) - j->t0) / 1000.0, q->version_text,
		    dhp_qemu_accel_name(q->accel));
	qcall_end(c, 0, NULL);
}

/* Plan and spawn, unless an earlier, cancelled start still ends its QEMU
 * (then after it) or the partition runs already. */
static void spawn(struct start_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	struct dhp_error e = { 0 };
	int r;

	if (qemu_start_spawning(q, c->partition, c)) {
		qcall_after(c, SPAWN_POLL_MS);
		return;
	}
	if (qcall_part(c)) {
		r = qemu_start_booted_with(q, c->partition, j->units, j->n_units) ? 0 :
			dhp_error_set(&e, -EBUSY, "partition %u runs with other units", c->partition);
		qcall_end(c, r, &e);
		return;
	}
	r = qemu_start_spawn(q, c->partition, j->name, j->uuid, j->units, j->n_units,
			     &j->child, &e);
	if (r) {
		qcall_end(c, r, &e);
		return;
	}
	j->t0 = dhp_loop_now(q->loop);
	j->until = j->t0 + q->boot_ms;
	c->undo = true;
	c->outlive_cancel = true;
	j->step = START_SPAWN;
	qcall_after(c, SPAWN_POLL_MS);
}

/* QEMU ended while the guest booted. */
static void died(struct qcall *c)
{
	char log[QEMU_PATH_MAX], tail[160];

	qemu_part_path(c->q, c->partition, "qemu.log", log, sizeof(log));
	qemu_log_tail(log, tail, sizeof(tail));
	qcall_fail(c, -EHOSTDOWN, "the QEMU of partition %u ended while it booted%s%s",
		   c->partition, tail[0] ? ": " : "", tail);
}

static void hello_late(struct qcall *c)
{
	char console[QEMU_PATH_MAX];

	qemu_part_path(c->q, c->partition, "console.log", console, sizeof(console));
	qcall_fail(c, -ETIMEDOUT, "the guest of partition %u did not say hello within %u ms "
		   "(see %s)", c->partition, c->q->boot_ms, console);
}

/* The agent said hello: the guest has booted. */
static void pin(struct start_job *j)
{
	j->step = START_PIN;
	if (qemu_pin_begin(&j->call) == 0)
		started(j);
}

static void start_step(struct qcall *c)
{
	struct start_job *j = (struct start_job *)c;
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);
	uint64_t now = dhp_loop_now(q->loop), size;
	const char *type;
	int r = 1;

	if (c->wake == QCALL_UNDO) {
		start_undo(c);
		return;
	}
	if (c->wake == QCALL_DOWN) {
		died(c);
		return;
	}
	switch (j->step) {
	case START_PLAN:
		spawn(j);
		return;

	case START_SPAWN:
		if (spawned(j))
			return;
		c->listen = QCALL_ON_DOWN;
		if (!part)
			part = qpart_new(q, c->partition);
		if (!part) {
			qcall_fail(c, -ENOMEM, "out of memory");
			return;
		}
		j->step = START_CONNECT;
		r = qpart_connect_begin(c, &j->connect, (uint32_t)(j->until > now ? j->until - now : 1));
		break;

	case START_CONNECT:
		r = qpart_connect_step(c, &j->connect);
		break;

	case START_CPUS:
		if (c->got) {
			qcall_fail_got(c);
			return;
		}
		type = json_string_value(json_object_get(json_array_get(c->ret, 0), "type"));
		if (part && type)
			snprintf(part->cpu_type, sizeof(part->cpu_type), "%s", type);
		j->step = START_MEMS;
		qcall_qmp(c, "query-memory-devices", NULL, q->unit_ms);
		return;

	case START_MEMS:
		if (c->got) {
			qcall_fail_got(c);
			return;
		}
		for (size_t i = 0; i < j->n_units; i++) {
			struct qs_unit *s = qemu_unit_state(q, j->units[i]);

			if (j->units[i]->type == DHP_UNIT_MEMORY && !s->boot)
				qdev_dimm_find(c->ret, j->units[i]->id, &s->phys_addr, &size);
		}
		if (part && part->agent_ready)
			pin(j);
		else if (part && part->agent_refused.code)
			hello_refused(c);
		else {
			j->step = START_HELLO;
			c->listen |= QCALL_ON_HELLO | QCALL_ON_REFUSED;
			qcall_after(c, (uint32_t)(j->until > now ? j->until - now : 1));
		}
		return;

	case START_HELLO:
		c->listen &= ~(QCALL_ON_HELLO | QCALL_ON_REFUSED);
		if (c->wake == QCALL_REFUSED || (c->wake == QCALL_TIMER && part &&
						 part->agent_refused.code)) {
			hello_refused(c);
		} else if (c->wake == QCALL_TIMER) {
			hello_late(c);
		} else {
			qcall_timer_stop(c);
			pin(j);
		}
		return;

	case START_PIN:
		if (qemu_pin_apply(c) == 0)
			started(j);
		return;
	}

	/* START_SPAWN and START_CONNECT go on here: connecting. */
	if (r < 0) {
		qcall_end(c, j->connect.err.code, &j->connect.err);
		return;
	}
	if (r > 0)
		return;
	j->step = START_CPUS;
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, q->unit_ms);
}

static void start_release(struct qcall *c)
{
	free(((struct start_job *)c)->units);
}

int qemu_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			 const struct dhp_unit *const *units, size_t n_units,
			 struct dhp_backend_cb cb)
{
	struct start_job *j = (struct start_job *)qcall_new(to_qemu(be), sizeof(*j), cb, p->id,
							    start_step);

	if (!j)
		return -ENOMEM;
	j->call.release = start_release;
	j->child = -1;
	j->units = calloc(n_units ? n_units : 1, sizeof(*j->units));
	if (!j->units) {
		qcall_drop(&j->call);
		return -ENOMEM;
	}
	memcpy(j->units, units, n_units * sizeof(*units));
	j->n_units = n_units;
	snprintf(j->name, sizeof(j->name), "%s", p->name);
	snprintf(j->uuid, sizeof(j->uuid), "%s", p->uuid);
	return 0;
}
