/* SPDX-License-Identifier: MIT */
/*
 * Waiting for a device to go: device_del, then QEMU's DEVICE_DELETED (or
 * the guest's refusal, DEVICE_UNPLUG_GUEST_ERROR) within unit_ms; a
 * missing event fails the call, and the engine rolls back. The event may
 * come before device_del's own answer: it is noted, and the answer goes
 * on (one answer at a time).
 */
#include "backend/qemu/unplug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/object.h"

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

void qunplug_begin(struct qcall *c, struct qunplug *u, const char *id)
{
	snprintf(u->id, sizeof(u->id), "%s", id);
	u->deleted = false;
	c->listen |= QCALL_ON_EVENT;	/* first: the event may come before the reply */
	qcall_qmp(c, "device_del", json_pack("{s:s}", "id", u->id), c->q->unit_ms);
}

int qunplug_step(struct qcall *c, struct qunplug *u)
{
	switch (c->wake) {
	case QCALL_EVENT:
		/* DEVICE_DELETED of the device (of its lapic child, for a vCPU:
		 * the vCPU's own never comes, DESIGN.md §9), or the guest's
		 * refusal. */
		if (!strcmp(c->event, "DEVICE_UNPLUG_GUEST_ERROR") && names_device(c->ret, u->id)) {
			c->listen &= ~QCALL_ON_EVENT;
			qcall_fail(c, -EAGAIN, "the OS of partition %u refused to give up %s",
				   c->partition, u->id);
			return -EAGAIN;
		}
		if (strcmp(c->event, "DEVICE_DELETED") || !names_device(c->ret, u->id))
			return 1;
		c->listen &= ~QCALL_ON_EVENT;
		u->deleted = true;
		if (c->inflight)	/* device_del's answer comes first */
			return 1;
		qcall_timer_stop(c);
		return 0;
	case QCALL_QMP:		/* device_del's answer */
		if (c->got) {
			c->listen &= ~QCALL_ON_EVENT;
			qcall_qmp_failed(c);
			return c->got;
		}
		if (u->deleted)	/* the event came first */
			return 0;
		qcall_after(c, c->q->unit_ms);
		return 1;
	case QCALL_TIMER:
		c->listen &= ~QCALL_ON_EVENT;
		qcall_fail(c, -ETIMEDOUT, "QEMU did not report %s removed from partition %u "
			   "within %u ms", u->id, c->partition, c->q->unit_ms);
		return -ETIMEDOUT;
	default:
		return 1;
	}
}
