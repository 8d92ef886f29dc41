/* SPDX-License-Identifier: MIT */
/*
 * Attach and detach: which job brings a unit's device into, or out of,
 * its partition's QEMU (processors: job-cpu.c; memory modules:
 * job-memory.c; I/O host bridges: job-bridge.c), and the checks that the
 * processor and bridge jobs make first.
 *
 * A QEMU that is not running (a partition that crashed) takes no device:
 * then only the wiring in the state file changes, as a rollback after a
 * crash needs (the units are freed when the partition is stopped).
 */
#include <errno.h>

#include "backend/qemu/call.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"

bool qemu_attach_checks(struct qcall *c, const struct dhp_unit *u)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	if (s->partition == c->partition) {
		qcall_end(c, 0, NULL);	/* attached already */
		return false;
	}
	if (s->partition) {
		qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", u->id, s->partition);
		return false;
	}
	if (!s->powered) {
		qcall_fail(c, -EIO, "unit %s is not powered on", u->id);
		return false;
	}
	if (qcall_part(c))
		return true;
	if (!qs_partition(&c->q->state, c->partition, false)) {
		qcall_fail(c, -EHOSTDOWN, "partition %u is not running", c->partition);
		return false;
	}
	s->partition = c->partition;	/* wiring only: see above */
	qcall_end(c, 0, NULL);
	return false;
}

bool qemu_detach_checks(struct qcall *c, const struct dhp_unit *u)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	/* Not wired to this partition: detached from it already, whoever has
	 * it now (a move's rollback undoes its attach to the target while the
	 * unit is still the source's, and must change nothing). */
	if (s->partition != c->partition) {
		qcall_end(c, 0, NULL);
		return false;
	}
	if (s->online && qcall_part(c)) {
		qcall_fail(c, -EBUSY, "unit %s is still in use by the OS of partition %u", u->id,
			   c->partition);
		return false;
	}
	return true;
}

int qemu_attach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	switch (unit->type) {
	case DHP_UNIT_PROCESSOR:
		return qemu_cpu_attach(to_qemu(be), p->id, unit, cb);
	case DHP_UNIT_MEMORY:
		return qemu_memory_attach(to_qemu(be), p->id, unit, cb);
	default:
		return qemu_bridge_attach(to_qemu(be), p->id, unit, cb);
	}
}

int qemu_detach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	switch (unit->type) {
	case DHP_UNIT_PROCESSOR:
		return qemu_cpu_detach(to_qemu(be), p->id, unit, cb);
	case DHP_UNIT_MEMORY:
		return qemu_memory_detach(to_qemu(be), p->id, unit, cb);
	default:
		return qemu_bridge_detach(to_qemu(be), p->id, unit, cb);
	}
}
