/* SPDX-License-Identifier: MIT */
/*
 * Memory modules in and out of a partition's QEMU: a pc-dimm "<unit>" on
 * its own memory-backend-ram "mem-<unit>" (object-add, device_add), and
 * out again (device_del, DEVICE_DELETED, object-del). Shared by attach,
 * detach and the hot replace of memory (move.c). The guest onlines and
 * offlines the module's blocks (ops.c); a module still online is never
 * unplugged.
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <string.h>

static void mem_then(struct qcall *c)
{
	qcall_fn then = c->then;

	c->then = NULL;
	then(c);
}

static void mem_recorded(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qs_unit *s = qemu_unit_state(c->q, c->cur);
	uint64_t addr = 0, size = 0;

	if (rc) {
		qemu_qmp_failed(c, err);
		return;
	}
	if (!qdev_dimm_find(ret, c->cur->id, &addr, &size) || !addr) {
		qcall_fail(c, -EIO, "QEMU of partition %u does not show %s after plugging it",
			   c->partition, c->cur->id);
		return;
	}
	s->partition = c->partition;
	s->phys_addr = addr;
	s->online = 0;
	s->boot = 0;
	mem_then(c);
}

static void dimm_added(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	char obj[DHP_UNIT_ID_MAX + 8];

	(void)ret;
	if (rc) {
		/* Leave nothing behind: its memory backend goes too. */
		qs_unit_unwire(qemu_unit_state(c->q, c->cur));
		qdev_mem_object(c->cur, obj, sizeof(obj));
		qcall_fail(c, rc == -EIO ? -ENOSPC : rc, "cannot plug %s into partition %u: %s",
			   c->cur->id, c->partition, err ? err->message : "");
		qcall_qmp_forget(c, "object-del", json_pack("{s:s}", "id", obj));
		return;
	}
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms, mem_recorded);
}

static void backend_added(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	char obj[DHP_UNIT_ID_MAX + 8];

	(void)ret;
	/* One left by a plug that failed half way is used as it is. */
	if (rc && !(err && strstr(err->message, "exists")) &&
	    !(err && strstr(err->message, "uplicate"))) {
		qs_unit_unwire(qemu_unit_state(c->q, c->cur));
		qcall_fail(c, rc == -EIO ? -ENOMEM : rc, "cannot back %s with host memory: %s",
			   c->cur->id, err ? err->message : "");
		return;
	}
	qdev_mem_object(c->cur, obj, sizeof(obj));
	qcall_qmp(c, "device_add", json_pack("{s:s, s:s, s:s}", "driver", "pc-dimm", "id",
					     c->cur->id, "memdev", obj),
		  c->q->unit_ms, dimm_added);
}

static void mem_present(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	char obj[DHP_UNIT_ID_MAX + 8];
	uint64_t addr, size;

	if (rc) {
		qemu_qmp_failed(c, err);
		return;
	}
	if (qdev_dimm_find(ret, c->cur->id, &addr, &size)) {
		mem_recorded(c, 0, ret, NULL);	/* plugged already */
		return;
	}
	/* Wired before it is plugged, so that an undo after a cancelled
	 * attach looks for it; unwired again when QEMU refuses it. */
	qemu_unit_state(c->q, c->cur)->partition = c->partition;
	qdev_mem_object(c->cur, obj, sizeof(obj));
	qcall_qmp(c, "object-add", json_pack("{s:s, s:s, s:I}", "qom-type", "memory-backend-ram",
					     "id", obj, "size", (json_int_t)c->cur->size_bytes),
		  c->q->unit_ms, backend_added);
}

void qemu_memory_attach(struct qcall *c, const struct dhp_unit *u, qcall_fn then)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	c->cur = u;
	c->then = then;
	if (s->partition && s->partition != c->partition) {
		qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", u->id, s->partition);
		return;
	}
	if (!s->powered) {
		qcall_fail(c, -EIO, "unit %s is not powered on", u->id);
		return;
	}
	if (!qcall_part(c)) {
		/* No QEMU: only the wiring (a rollback after a crash). */
		if (!qs_partition(&c->q->state, c->partition, false)) {
			qcall_fail(c, -EHOSTDOWN, "partition %u is not running", c->partition);
			return;
		}
		s->partition = c->partition;
		mem_then(c);
		return;
	}
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms, mem_present);
}

static void mem_object_gone(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)rc, (void)ret, (void)err;	/* already gone is gone */
	qs_unit_unwire(qemu_unit_state(c->q, c->cur));
	mem_then(c);
}

static void dimm_gone(struct qcall *c)
{
	char obj[DHP_UNIT_ID_MAX + 8];

	qdev_mem_object(c->cur, obj, sizeof(obj));
	qcall_qmp(c, "object-del", json_pack("{s:s}", "id", obj), c->q->unit_ms, mem_object_gone);
}

static void mem_plugged(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	uint64_t addr, size;

	if (rc) {
		qemu_qmp_failed(c, err);
		return;
	}
	if (!qdev_dimm_find(ret, c->cur->id, &addr, &size)) {
		dimm_gone(c);
		return;
	}
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", c->cur->id);
	qemu_unplug(c, dimm_gone);
}

void qemu_memory_detach(struct qcall *c, const struct dhp_unit *u, qcall_fn then)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	c->cur = u;
	c->then = then;
	if (s->partition != c->partition) {
		if (s->partition)
			qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", u->id,
				   s->partition);
		else
			mem_then(c);
		return;
	}
	if (s->boot) {
		qcall_fail(c, -EBUSY, "%s is the boot memory of partition %u", u->id,
			   c->partition);
		return;
	}
	if (!qcall_part(c)) {
		qs_unit_unwire(s);
		mem_then(c);
		return;
	}
	if (s->online) {
		qcall_fail(c, -EBUSY, "unit %s is still in use by the OS of partition %u", u->id,
			   c->partition);
		return;
	}
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms, mem_plugged);
}

