/* SPDX-License-Identifier: MIT */
/*
 * Starting and stopping a partition's QEMU.
 *
 * start: plan where each unit sits (vCPU slots, root ports), spawn QEMU
 * (it daemonizes once its sockets listen), connect QMP, learn the vCPU
 * type and the DIMMs' addresses, wait for the agent's hello (the guest
 * has booted; a hello of a newer protocol fails the start at once), pin
 * vCPUs to host CPUs, answer. A failure after the spawn ends the QEMU: a
 * start either completes or leaves nothing running.
 *
 * stop: the ACPI power button (system_powerdown) and a grace period, then
 * QMP "quit" (busybox init does not act on the power button), then
 * SIGKILL; then the partition's units are detached and its files removed.
 */
#include "backend/qemu/internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAWN_POLL_MS 20u
#define SPAWN_MS 20000u		/* QEMU's own start-up, before it daemonizes */

/* A start the engine gave up on while QEMU daemonized: it still waits for
 * its child, to end the QEMU that comes of it (spawn_poll). */
bool qemu_spawning(struct qemu *q, uint32_t id, const struct qcall *self)
{
	for (const struct qcall *c = q->calls; c; c = c->next)
		if (c != self && c->partition == id && c->child > 0)
			return true;
	return false;
}

void qemu_remove_files(struct qemu *q, uint32_t id)
{
	static const char *const names[] = { "qmp.sock", "agent.sock", "qemu.pid" };
	char path[QEMU_PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* The pid file names the QEMU a cancelled start must end. */
		if (i == 2 && qemu_spawning(q, id, NULL))
			continue;
		if (qemu_part_path(q, id, names[i], path, sizeof(path)) == 0)
			unlink(path);
	}
}

/* End whatever QEMU the partition's pid file names. */
static void kill_pidfile(struct qemu *q, uint32_t id)
{
	char path[QEMU_PATH_MAX];
	uint64_t start;
	pid_t pid;

	if (qemu_part_path(q, id, "qemu.pid", path, sizeof(path)) == 0 &&
	    qemu_pid_read(path, &pid, &start) == 0)
		qemu_pid_kill(pid, start, SIGKILL);
}

/* Any failure after the spawn (c->on_fail): nothing of it stays. */
static void start_undo(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);

	if (rec && rec->pid > 0)
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	kill_pidfile(q, c->partition);
	if (part) {
		part->stopping = true;
		qpart_release(part);
	}
	qs_partition_clear(&q->state, c->partition);
	qemu_remove_files(q, c->partition);
	qcall_finish(c, 0, NULL);	/* ends with the failure */
}

/* QEMU ended while the guest booted. */
static void start_died(struct qcall *c)
{
	char log[QEMU_PATH_MAX], tail[160];

	qemu_part_path(c->q, c->partition, "qemu.log", log, sizeof(log));
	qemu_log_tail(log, tail, sizeof(tail));
	qcall_fail(c, -EHOSTDOWN, "the QEMU of partition %u ended while it booted%s%s",
		   c->partition, tail[0] ? ": " : "", tail);
}

/* ---- where the units go ---- */

static int plan(struct qcall *c, int *slots, int *ports, struct dhp_error *err)
{
	struct qemu *q = c->q;
	unsigned cpus = 0, mems = 0, bridges = 0;
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	size_t n_fns;
	int r;

	for (size_t i = 0; i < c->n_units; i++) {
		const struct dhp_unit *u = c->units[i];
		const struct qs_unit *s = qemu_unit_state(q, u);

		slots[i] = ports[i] = -1;
		if (!s->powered)
			return dhp_error_set(err, -EIO, "unit %s is not powered on", u->id);
		if (s->partition && s->partition != c->partition)
			return dhp_error_set(err, -EBUSY, "unit %s is wired to partition %u", u->id,
					     s->partition);
		if (u->type == DHP_UNIT_PROCESSOR) {
			if ((r = qemu_pin_check(q, c->partition, u, err)) < 0)
				return r;
			slots[i] = (int)cpus++;
		} else if (u->type == DHP_UNIT_MEMORY) {
			mems++;
		} else {
			if ((r = qemu_fn_kinds(u, kinds, &n_fns, err)) < 0)
				return r;
			ports[i] = (int)bridges++;
		}
	}
	if (cpus > q->sizing.maxcpus || bridges > q->sizing.n_ports ||
	    (mems && mems - 1 > q->sizing.mem_slots))
		return dhp_error_set(err, -ENOSPC, "partition %u has more units than its QEMU has "
				     "room for (%u vCPUs, %u DIMM slots, %u root ports)",
				     c->partition, q->sizing.maxcpus, q->sizing.mem_slots,
				     q->sizing.n_ports);
	return 0;
}

/* The units are wired as planned; online once the guest is up. */
static int record(struct qcall *c, const int *slots, const int *ports)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, true);
	bool boot_mem = false;

	if (!rec)
		return -ENOSPC;
	rec->maxcpus = q->sizing.maxcpus;
	for (size_t i = 0; i < c->n_units; i++) {
		const struct dhp_unit *u = c->units[i];
		struct qs_unit *s = qemu_unit_state(q, u);

		qs_unit_unwire(s);
		s->partition = c->partition;
		s->slot = (int16_t)slots[i];
		s->port = (int16_t)ports[i];
		if (u->type == DHP_UNIT_PROCESSOR) {
			rec->slot_state[slots[i]] = QS_SLOT_USED;
			rec->slot_unit[slots[i]] = (int32_t)dhp_server_unit_index(q->server, u);
			/* Boot processors are numbered in slot (APIC id) order. */
			rec->guest_cpu[slots[i]] = (int16_t)slots[i];
			s->boot = slots[i] == 0;
		} else if (u->type == DHP_UNIT_MEMORY && !boot_mem) {
			boot_mem = true;
			s->boot = 1;
		}
	}
	return 0;
}

/* ---- booting ---- */

static void started(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);

	for (size_t i = 0; i < c->n_units; i++)
		qemu_unit_state(q, c->units[i])->online = 1;
	if (part)
		part->started = true;
	c->on_fail = NULL;
	qemu_notice(q, "partition %u booted in %.1f s (QEMU %s, %s)", c->partition,
		    (double)(dhp_loop_now(q->loop) - c->t0) / 1000.0, q->version_text,
		    dhp_qemu_accel_name(q->accel));
	qcall_finish(c, 0, NULL);
}

static void hello_came(struct qcall *c)
{
	c->on_hello = NULL;
	c->on_refused = NULL;
	qcall_timer_stop(c);
	qemu_pin(c, started);
}

/* The guest booted, but its agent speaks a newer protocol: it would stay
 * absent, so the start fails now rather than at the boot deadline. */
static void hello_refused(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	struct dhp_error e = { 0 };

	c->on_hello = NULL;
	c->on_refused = NULL;
	dhp_error_set(&e, -EPROTONOSUPPORT, "the guest of partition %u booted, but its agent "
		      "is refused: %s", c->partition,
		      part ? part->agent_refused.message : "a newer protocol");
	if (part)
		dhp_error_resolve(&e, "%s", part->agent_refused.resolution);
	qcall_finish(c, e.code, &e);
}

static void hello_late(struct qcall *c)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	char console[QEMU_PATH_MAX];

	if (part && part->agent_refused.code) {
		hello_refused(c);
		return;
	}
	qemu_part_path(c->q, c->partition, "console.log", console, sizeof(console));
	qcall_fail(c, -ETIMEDOUT, "the guest of partition %u did not say hello within %u ms "
		   "(see %s)", c->partition, c->q->boot_ms, console);
}

static void got_mems(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qemu *q = c->q;
	struct qpart *part = qpart_find(q, c->partition);
	uint64_t now = dhp_loop_now(q->loop), size;

	if (rc) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	for (size_t i = 0; i < c->n_units; i++) {
		struct qs_unit *s = qemu_unit_state(q, c->units[i]);

		if (c->units[i]->type == DHP_UNIT_MEMORY && !s->boot)
			qdev_dimm_find(ret, c->units[i]->id, &s->phys_addr, &size);
	}
	if (part && part->agent_ready) {
		hello_came(c);
		return;
	}
	if (part && part->agent_refused.code) {
		hello_refused(c);
		return;
	}
	c->on_hello = hello_came;
	c->on_refused = hello_refused;
	qcall_after(c, (uint32_t)(c->until > now ? c->until - now : 1), hello_late);
}

static void got_cpus(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qpart *part = qpart_find(c->q, c->partition);
	const char *type = json_string_value(json_object_get(json_array_get(ret, 0), "type"));

	if (rc) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	if (part && type)
		snprintf(part->cpu_type, sizeof(part->cpu_type), "%s", type);
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms, got_mems);
}

static void qmp_up(struct qcall *c)
{
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, c->q->unit_ms, got_cpus);
}

static void spawn_poll(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qs_partition *rec;
	struct qpart *part;
	char path[QEMU_PATH_MAX], tail[200];
	uint64_t now = dhp_loop_now(q->loop);
	int status = 0, r = qemu_child_done(c->child, &status);

	if (r == 0 && now < c->t0 + SPAWN_MS) {
		qcall_after(c, SPAWN_POLL_MS, spawn_poll);
		return;
	}
	if (r == 0) {
		kill(c->child, SIGKILL);
		waitpid(c->child, &status, 0);
		status = -1;
	}
	c->child = -1;
	if (c->cancelled) {
		/* The engine gave up on this start: what it made must go. */
		qemu_notice(q, "partition %u: its start was given up while QEMU started; "
			    "that QEMU is ended", c->partition);
		kill_pidfile(q, c->partition);
		qemu_remove_files(q, c->partition);	/* c->child is -1 now: all of them */
		rec = qs_partition(&q->state, c->partition, false);
		if (rec && rec->pid < 0)
			qs_partition_clear(&q->state, c->partition);
		qcall_drop(c);
		return;
	}
	qemu_part_path(q, c->partition, "qemu.log", path, sizeof(path));
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		qemu_log_tail(path, tail, sizeof(tail));
		qcall_fail(c, -EIO, "QEMU could not start partition %u: %s", c->partition,
			   tail[0] ? tail : "no message (see qemu.log)");
		return;
	}
	rec = qs_partition(&q->state, c->partition, false);
	qemu_part_path(q, c->partition, "qemu.pid", path, sizeof(path));
	if (!rec || qemu_pid_read(path, &rec->pid, &rec->start_time) < 0) {
		qcall_fail(c, -EIO, "QEMU of partition %u left no pid file", c->partition);
		return;
	}
	rec->running = 1;
	c->on_down = start_died;
	part = qpart_find(q, c->partition);
	if (!part)
		part = qpart_new(q, c->partition);
	if (!part) {
		qcall_fail(c, -ENOMEM, "out of memory");
		return;
	}
	qpart_connect(c, part, (uint32_t)(c->until > now ? c->until - now : 1), qmp_up);
}

/* Already up with exactly these units: a repeated start is a success. */
static bool booted_with(struct qcall *c)
{
	size_t wired = 0;

	for (size_t i = 0; i < c->q->state.n_units; i++)
		wired += c->q->state.units[i].partition == c->partition;
	for (size_t i = 0; i < c->n_units; i++)
		if (qemu_unit_state(c->q, c->units[i])->partition != c->partition)
			return false;
	return wired == c->n_units;
}

static void start_begin(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qemu_argv argv = { 0 };
	struct dhp_error e = { 0 };
	char dir[QEMU_PATH_MAX], log[QEMU_PATH_MAX];
	int *slots = calloc(c->n_units + 1, sizeof(int)), *ports = calloc(c->n_units + 1, sizeof(int));
	struct qemu_launch l = {
		.binary = q->binary, .kernel = q->kernel, .initrd = q->initrd, .append = q->append,
		.dir = dir, .name = c->dev_id, .accel = q->accel, .sizing = &q->sizing,
		.units = c->units, .n_units = c->n_units, .slots = slots, .ports = ports,
	};
	int r = slots && ports ? 0 : dhp_error_set(&e, -ENOMEM, "out of memory");

	if (!r && qemu_spawning(q, c->partition, c)) {
		/* An earlier, cancelled start still ends its QEMU: after it. */
		qcall_after(c, SPAWN_POLL_MS, start_begin);
		goto out;
	}
	if (!r && qcall_part(c)) {
		r = booted_with(c) ? 0 : dhp_error_set(&e, -EBUSY, "partition %u runs with other "
						       "units", c->partition);
		qcall_finish(c, r, &e);
		goto out;
	}
	if (!r && rec && rec->pid > 0 && qemu_pid_alive(rec->pid, rec->start_time)) {
		qemu_notice(q, "partition %u: ending a QEMU left from before (pid %d)",
			    c->partition, (int)rec->pid);
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	}
	qs_partition_clear(&q->state, c->partition);
	r = r ?: plan(c, slots, ports, &e);
	if (!r && (qemu_part_path(q, c->partition, NULL, dir, sizeof(dir)) < 0 ||
		   qemu_part_path(q, c->partition, "qemu.log", log, sizeof(log)) < 0))
		r = dhp_error_set(&e, -ENAMETOOLONG, "state directory path too long");
	if (!r && mkdir(dir, 0700) < 0 && errno != EEXIST)
		r = dhp_error_set(&e, -errno, "cannot make %s: %s", dir, strerror(errno));
	if (!r) {
		qemu_remove_files(q, c->partition);
		r = qemu_cmdline(&l, &argv, &e);
	}
	if (!r && record(c, slots, ports) < 0)
		r = dhp_error_set(&e, -ENOSPC, "no room in the state file for partition %u",
				  c->partition);
	if (!r && (r = qemu_spawn(argv.argv, log, &c->child, &e)) < 0)
		qs_partition_clear(&q->state, c->partition);
	qemu_argv_release(&argv);
	if (r) {
		qcall_finish(c, r, &e);
		goto out;
	}
	c->t0 = dhp_loop_now(q->loop);
	c->until = c->t0 + q->boot_ms;
	c->on_fail = start_undo;
	qcall_after(c, SPAWN_POLL_MS, spawn_poll);
out:
	free(slots);
	free(ports);
}

int qemu_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			 const struct dhp_unit *const *units, size_t n_units,
			 struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, NULL);

	if (!c)
		return -ENOMEM;
	c->units = calloc(n_units ? n_units : 1, sizeof(*c->units));
	if (!c->units) {
		qcall_drop(c);
		return -ENOMEM;
	}
	memcpy(c->units, units, n_units * sizeof(*units));
	c->n_units = n_units;
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", p->name);
	qcall_after(c, 0, start_begin);
	return 0;
}
