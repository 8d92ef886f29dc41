/* SPDX-License-Identifier: MIT */
/*
 * I/O host bridges in and out of a partition's QEMU. Each partition's
 * QEMU has a pcie-root-port per I/O host bridge of the server (up to
 * QEMU_PORTS_CAP); a bridge that joins takes a free one, and its devices
 * become the functions "<unit>-d<f>" at 0.f behind it (virtio-blk on a
 * null-co block node "<unit>-n<f>": the point is the device, not a disk).
 * Function 0 is plugged last, as it is the one that announces the slot to
 * the guest; its device_del takes the whole slot. The guest finds them by
 * itself (ACPI PCI hotplug); the agent's online is a PCI rescan.
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <string.h>

static void bridge_done(struct qcall *c)
{
	qcall_finish(c, 0, NULL);
}

static int free_port(struct qcall *c)
{
	struct qemu *q = c->q;

	for (unsigned port = 0; port < q->sizing.n_ports; port++) {
		bool used = false;

		for (size_t i = 0; i < q->state.n_units && !used; i++)
			used = q->state.units[i].partition == c->partition &&
			       q->state.units[i].port == (int)port;
		if (!used)
			return (int)port;
	}
	return -1;
}

/* ---- attach: function n-1 first, function 0 last ---- */

static void plug_next(struct qcall *c);

static void undo_plug(struct qcall *c)
{
	char id[DHP_UNIT_ID_MAX + 8];

	/* Best effort, in QMP's order, after the failure is answered. */
	for (int f = (int)c->n_units - 1; f > c->step; f--) {
		qdev_fn_id(c->unit, (unsigned)f, id, sizeof(id));
		qcall_qmp_forget(c, "device_del", json_pack("{s:s}", "id", id));
	}
	qs_unit_unwire(qemu_unit_state(c->q, c->unit));
}

static void fn_plugged(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)ret;
	if (rc) {
		qcall_fail(c, rc == -EIO ? -ENOSPC : rc, "cannot plug %s into partition %u: %s",
			   c->unit->id, c->partition, err ? err->message : "");
		undo_plug(c);
		return;
	}
	if (c->step == 0) {
		bridge_done(c);
		return;
	}
	c->step--;
	c->iter = 0;
	plug_next(c);
}

static void node_added(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)ret;
	/* A node left by an earlier attempt is used as it is. */
	if (rc && !(err && strstr(err->message, "uplicate")) &&
	    !(err && strstr(err->message, "exists"))) {
		fn_plugged(c, rc, NULL, err);
		return;
	}
	c->iter = 1;
	plug_next(c);
}

static void plug_next(struct qcall *c)
{
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	char node[DHP_UNIT_ID_MAX + 8];
	size_t n;

	qemu_fn_kinds(c->unit, kinds, &n, NULL);
	if (kinds[c->step] == QEMU_FN_VIRTIO_BLK && c->iter == 0) {
		qdev_node_id(c->unit, (unsigned)c->step, node, sizeof(node));
		qcall_qmp(c, "blockdev-add",
			  json_pack("{s:s, s:s, s:I, s:b}", "driver", "null-co", "node-name", node,
				    "size", (json_int_t)QEMU_NULL_BLK_SIZE, "read-zeroes", 1),
			  c->q->unit_ms, node_added);
		return;
	}
	qcall_qmp(c, "device_add", qdev_fn_args(c->unit, kinds[c->step], (unsigned)c->step,
						(unsigned)n, (unsigned)c->port),
		  c->q->unit_ms, fn_plugged);
}

void qemu_bridge_attach(struct qcall *c)
{
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	struct qs_unit *s = qemu_unit_state(c->q, c->unit);
	struct dhp_error e = { 0 };
	size_t n = 0;

	if (qemu_fn_kinds(c->unit, kinds, &n, &e) < 0) {
		qcall_finish(c, e.code, &e);
		return;
	}
	c->port = free_port(c);
	if (c->port < 0) {
		qcall_fail(c, -ENOSPC, "the QEMU of partition %u has no free root port",
			   c->partition);
		return;
	}
	if (!n) {	/* a bridge with nothing behind it */
		s->partition = c->partition;
		s->port = (int16_t)c->port;
		bridge_done(c);
		return;
	}
	/* Wired first, so that an undo after a cancel looks for it. */
	s->partition = c->partition;
	s->port = (int16_t)c->port;
	c->n_units = n;
	c->step = (int)n - 1;
	c->iter = 0;
	plug_next(c);
}

/* ---- detach ---- */

static void nodes_gone(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err);

static void del_nodes(struct qcall *c)
{
	char node[DHP_UNIT_ID_MAX + 8];

	/* Each block node in turn; errors (already gone) are no matter. */
	while (c->step < QEMU_FNS_MAX) {
		enum qemu_fn_kind kinds[QEMU_FNS_MAX];
		size_t n = 0;
		unsigned f = (unsigned)c->step++;

		qemu_fn_kinds(c->unit, kinds, &n, NULL);
		if (f < n && kinds[f] == QEMU_FN_VIRTIO_BLK) {
			qdev_node_id(c->unit, f, node, sizeof(node));
			qcall_qmp(c, "blockdev-del", json_pack("{s:s}", "node-name", node),
				  c->q->unit_ms, nodes_gone);
			return;
		}
	}
	qs_unit_unwire(qemu_unit_state(c->q, c->unit));
	bridge_done(c);
}

static void nodes_gone(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)rc, (void)ret, (void)err;
	del_nodes(c);
}

static void fns_left(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err);

static void slot_gone(struct qcall *c)
{
	qcall_qmp(c, "query-pci", NULL, c->q->unit_ms, fns_left);
}

/* Unplug what is left: function 0 first (it takes the slot with it). */
static void fns_left(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	char id[DHP_UNIT_ID_MAX + 8], slot[DHP_PROTO_SLOT_MAX];

	if (rc) {
		qemu_qmp_failed(c, err);
		return;
	}
	for (unsigned f = 0; f < QEMU_FNS_MAX; f++) {
		qdev_fn_id(c->unit, f, id, sizeof(id));
		if (qdev_pci_find(ret, id, slot, sizeof(slot))) {
			if (c->iter++ > QEMU_FNS_MAX) {
				qcall_fail(c, -EIO, "%s stays in partition %u after its unplug",
					   id, c->partition);
				return;
			}
			snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
			qemu_unplug(c, slot_gone);
			return;
		}
	}
	c->step = 0;
	del_nodes(c);
}

void qemu_bridge_detach(struct qcall *c)
{
	if (!qcall_part(c)) {
		qs_unit_unwire(qemu_unit_state(c->q, c->unit));
		bridge_done(c);
		return;
	}
	c->iter = 0;
	slot_gone(c);
}
