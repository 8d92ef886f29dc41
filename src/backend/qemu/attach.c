/* SPDX-License-Identifier: MIT */
/*
 * Attach and detach: a unit's device comes into, or leaves, its
 * partition's QEMU (processors: cpu.c; memory modules: memory.c; I/O host
 * bridges: bridge.c), and the wait for a device to go: QEMU's
 * DEVICE_DELETED (or the guest's refusal, DEVICE_UNPLUG_GUEST_ERROR)
 * within a deadline; a missing event fails the call, and the engine
 * rolls back.
 *
 * A QEMU that is not running (a partition that crashed) takes no device:
 * then only the wiring in the state file changes, as a rollback after a
 * crash needs (the units are freed when the partition is stopped).
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <string.h>

static void done_ok(struct qcall *c)
{
	qcall_finish(c, 0, NULL);
}

void qemu_qmp_failed(struct qcall *c, const struct dhp_error *err)
{
	qcall_fail(c, err && err->code ? err->code : -EIO, "%s",
		   err ? err->message : "QEMU failed");
}

/* ---- waiting for a device to go ---- */

static void unplug_late(struct qcall *c)
{
	c->on_event = NULL;
	qcall_fail(c, -ETIMEDOUT, "QEMU did not report %s removed from partition %u within "
		   "%u ms", c->dev_id, c->partition, c->q->unit_ms);
}

static bool names_device(json_t *data, const char *id)
{
	char path[128];
	const char *dev = json_string_value(json_object_get(data, "device"));
	const char *qom = json_string_value(json_object_get(data, "path"));
	size_t n;

	if (dev && !strcmp(dev, id))
		return true;
	n = (size_t)snprintf(path, sizeof(path), "/machine/peripheral/%s", id);
	return qom && !strncmp(qom, path, n) && (qom[n] == '\0' || qom[n] == '/');
}

/* DEVICE_DELETED of the device (of its lapic child, for a vCPU: the
 * vCPU's own never comes, DESIGN.md §9), or the guest's refusal. */
static void unplug_event(struct qcall *c, const char *event, json_t *data)
{
	qcall_fn then = c->unplugged;

	if (!strcmp(event, "DEVICE_UNPLUG_GUEST_ERROR") && names_device(data, c->dev_id)) {
		c->on_event = NULL;
		qcall_fail(c, -EAGAIN, "the OS of partition %u refused to give up %s", c->partition,
			   c->dev_id);
		return;
	}
	if (strcmp(event, "DEVICE_DELETED") || !names_device(data, c->dev_id))
		return;
	c->on_event = NULL;
	c->deleted = true;
	/* One answer at a time: before device_del's reply, the reply goes on. */
	if (c->inflight)
		return;
	c->unplugged = NULL;
	qcall_timer_stop(c);
	then(c);
}

static void unplug_sent(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	qcall_fn then = c->unplugged;

	(void)ret;
	if (rc) {
		c->on_event = NULL;
		qemu_qmp_failed(c, err);
		return;
	}
	if (c->deleted) {	/* the event came first */
		c->unplugged = NULL;
		then(c);
		return;
	}
	qcall_after(c, c->q->unit_ms, unplug_late);
}

void qemu_unplug(struct qcall *c, qcall_fn unplugged)
{
	c->unplugged = unplugged;
	c->deleted = false;
	c->on_event = unplug_event;	/* first: the event may come before the reply */
	qcall_qmp(c, "device_del", json_pack("{s:s}", "id", c->dev_id), c->q->unit_ms,
		  unplug_sent);
}

/* ---- the calls ---- */

static void attach_run(struct qcall *c)
{
	struct qs_unit *s = qemu_unit_state(c->q, c->unit);

	if (c->unit->type == DHP_UNIT_MEMORY) {
		qemu_memory_attach(c, c->unit, done_ok);
		return;
	}
	if (s->partition == c->partition) {
		qcall_finish(c, 0, NULL);	/* attached already */
		return;
	}
	if (s->partition) {
		qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", c->unit->id, s->partition);
		return;
	}
	if (!s->powered) {
		qcall_fail(c, -EIO, "unit %s is not powered on", c->unit->id);
		return;
	}
	if (!qcall_part(c)) {
		if (!qs_partition(&c->q->state, c->partition, false)) {
			qcall_fail(c, -EHOSTDOWN, "partition %u is not running", c->partition);
			return;
		}
		s->partition = c->partition;	/* wiring only: see above */
		qcall_finish(c, 0, NULL);
		return;
	}
	if (c->unit->type == DHP_UNIT_PROCESSOR)
		qemu_cpu_attach(c);
	else
		qemu_bridge_attach(c);
}

static void detach_run(struct qcall *c)
{
	struct qs_unit *s = qemu_unit_state(c->q, c->unit);

	if (c->unit->type == DHP_UNIT_MEMORY) {
		qemu_memory_detach(c, c->unit, done_ok);
		return;
	}
	if (s->partition != c->partition) {
		if (s->partition)
			qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", c->unit->id,
				   s->partition);
		else
			qcall_finish(c, 0, NULL);
		return;
	}
	if (s->online && qcall_part(c)) {
		qcall_fail(c, -EBUSY, "unit %s is still in use by the OS of partition %u",
			   c->unit->id, c->partition);
		return;
	}
	if (c->unit->type == DHP_UNIT_PROCESSOR)
		qemu_cpu_detach(c);
	else
		qemu_bridge_detach(c);
}

int qemu_attach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, unit);

	if (!c)
		return -ENOMEM;
	qcall_after(c, 0, attach_run);
	return 0;
}

int qemu_detach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, unit);

	if (!c)
		return -ENOMEM;
	qcall_after(c, 0, detach_run);
	return 0;
}
