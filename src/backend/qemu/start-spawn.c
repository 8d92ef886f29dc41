/* SPDX-License-Identifier: MIT */
/*
 * Spawning a starting partition's QEMU, for job-start.c. First where its
 * units go: the first processor takes vCPU slot 0 (-smp puts vCPU 0 there,
 * whatever processor boots: the slot is bound to that processor's node),
 * the others the first free slots of their sockets' ranges (cmdline.h), so
 * that each is in its socket's node; I/O host bridges
 * root ports 0, 1, ...; the first memory module is the boot memory (-m).
 * Units must be powered and free, and fit the QEMU's sizing (cmdline.c).
 * They are recorded in the state file before the spawn, so that the
 * start's undo finds them.
 */
#include "backend/qemu/start-spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/pin.h"
#include "backend/qemu/process.h"

static int plan(struct qemu *q, uint32_t partition, const struct dhp_unit *const *units,
		size_t n_units, int *slots, int *ports, struct dhp_error *err)
{
	unsigned cpus = 0, mems = 0, bridges = 0;
	uint8_t taken[QS_SLOTS_MAX + 1] = { 0 };
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	size_t n_fns;
	int r;

	for (size_t i = 0; i < n_units; i++) {
		const struct dhp_unit *u = units[i];
		const struct qs_unit *s = qemu_unit_state(q, u);

		slots[i] = ports[i] = -1;
		if (!s->powered)
			return dhp_error_set(err, -EIO, "unit %s is not powered on", u->id);
		if (s->partition && s->partition != partition)
			return dhp_error_set(err, -EBUSY, "unit %s is wired to partition %u", u->id,
					     s->partition);
		if (u->type == DHP_UNIT_PROCESSOR) {
			if ((r = qemu_pin_check(q, partition, u, err)) < 0)
				return r;
			slots[i] = cpus++ ? qemu_slot_pick(&q->sizing, u->socket, taken) : 0;
			if (slots[i] < 0)
				return dhp_error_set(err, -ENOSPC, "partition %u has more processors "
						     "of socket %u than its QEMU has vCPU slots for",
						     partition, (unsigned)u->socket);
			taken[slots[i]] = 1;
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
				     partition, q->sizing.maxcpus, q->sizing.mem_slots,
				     q->sizing.n_ports);
	return 0;
}

/* The units are wired as planned; online once the guest is up. */
static int record(struct qemu *q, uint32_t partition, const struct dhp_unit *const *units,
		  size_t n_units, const int *slots, const int *ports)
{
	struct qs_partition *rec = qs_partition(&q->state, partition, true);
	bool boot_mem = false, boot_slot[QS_SLOTS_MAX + 1] = { 0 };
	int16_t guest = 0;

	if (!rec)
		return -ENOSPC;
	rec->maxcpus = q->sizing.maxcpus;
	for (size_t i = 0; i < n_units; i++)
		if (units[i]->type == DHP_UNIT_PROCESSOR)
			boot_slot[slots[i]] = true;
	/* The guest numbers its boot processors in APIC id (slot) order. */
	for (unsigned k = 0; k <= QS_SLOTS_MAX; k++)
		rec->guest_cpu[k] = boot_slot[k] ? guest++ : rec->guest_cpu[k];
	for (size_t i = 0; i < n_units; i++) {
		const struct dhp_unit *u = units[i];
		struct qs_unit *s = qemu_unit_state(q, u);

		qs_unit_unwire(s);
		s->partition = partition;
		s->slot = (int16_t)slots[i];
		s->port = (int16_t)ports[i];
		if (u->type == DHP_UNIT_PROCESSOR) {
			rec->slot_state[slots[i]] = QS_SLOT_USED;
			rec->slot_unit[slots[i]] = (int32_t)dhp_server_unit_index(q->server, u);
			s->boot = slots[i] == 0;
		} else if (u->type == DHP_UNIT_MEMORY && !boot_mem) {
			boot_mem = true;
			s->boot = 1;
		}
	}
	return 0;
}

/* Already up with exactly these units: a repeated start is a success. */
bool qemu_start_booted_with(struct qemu *q, uint32_t partition,
			    const struct dhp_unit *const *units, size_t n_units)
{
	size_t wired = 0;

	for (size_t i = 0; i < q->state.n_units; i++)
		wired += q->state.units[i].partition == partition;
	for (size_t i = 0; i < n_units; i++)
		if (qemu_unit_state(q, units[i])->partition != partition)
			return false;
	return wired == n_units;
}

void qemu_kill_pidfile(struct qemu *q, uint32_t id)
{
	char path[QEMU_PATH_MAX];
	uint64_t start;
	pid_t pid;

	if (qemu_part_path(q, id, "qemu.pid", path, sizeof(path)) == 0 &&
	    qemu_pid_read(path, &pid, &start) == 0)
		qemu_pid_kill(pid, start, SIGKILL);
}

int qemu_start_spawn(struct qemu *q, uint32_t partition, const char *name, const char *uuid,
		     const struct dhp_unit *const *units, size_t n_units, pid_t *ret_child,
		     struct dhp_error *err)
{
	struct qs_partition *rec = qs_partition(&q->state, partition, false);
	struct qemu_argv argv = { 0 };
	char dir[QEMU_PATH_MAX], log[QEMU_PATH_MAX];
	int *slots = calloc(n_units + 1, sizeof(int)), *ports = calloc(n_units + 1, sizeof(int));
	struct qemu_launch l = {
		.binary = q->binary, .kernel = q->kernel, .initrd = q->initrd, .append = q->append,
		.dir = dir, .name = name, .uuid = uuid, .accel = q->accel, .sizing = &q->sizing,
		.server = q->server, .units = units, .n_units = n_units, .slots = slots, .ports = ports,
	};
	int r = slots && ports ? 0 : dhp_error_set(err, -ENOMEM, "out of memory");

	if (!r && rec && rec->pid > 0 && qemu_pid_alive(rec->pid, rec->start_time)) {
		qemu_notice(q, "partition %u: ending a QEMU left from before (pid %d)",
			    partition, (int)rec->pid);
		qemu_pid_kill(rec->pid, rec->start_time, SIGKILL);
	}
	qs_partition_clear(&q->state, partition);
	r = r ?: plan(q, partition, units, n_units, slots, ports, err);
	if (!r && (qemu_part_path(q, partition, NULL, dir, sizeof(dir)) < 0 ||
		   qemu_part_path(q, partition, "qemu.log", log, sizeof(log)) < 0))
		r = dhp_error_set(err, -ENAMETOOLONG, "state directory path too long");
	if (!r && mkdir(dir, 0700) < 0 && errno != EEXIST)
		r = dhp_error_set(err, -errno, "cannot make %s: %s", dir, strerror(errno));
	if (!r) {
		qemu_remove_files(q, partition);
		r = qemu_cmdline(&l, &argv, err);
	}
	if (!r && record(q, partition, units, n_units, slots, ports) < 0)
		r = dhp_error_set(err, -ENOSPC, "no room in the state file for partition %u",
				  partition);
	if (!r && (r = qemu_spawn(argv.argv, log, ret_child, err)) < 0)
		qs_partition_clear(&q->state, partition);
	qemu_argv_release(&argv);
	free(slots);
	free(ports);
	return r;
}
