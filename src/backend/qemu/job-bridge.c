/* SPDX-License-Identifier: MIT */
/*
 * An I/O host bridge in and out of a partition's QEMU. Each partition's
 * QEMU has a pcie-root-port per I/O host bridge of the server (up to
 * QEMU_PORTS_CAP); a bridge that joins takes a free one, and its devices
 * become the functions "<unit>-d<f>" at 0.f behind it (virtio-blk on a
 * null-co block node "<unit>-n<f>": the point is the device, not a disk).
 * Function 0 is plugged last, as it is the one that announces the slot to
 * the guest; its device_del takes the whole slot. The guest finds them by
 * itself (ACPI PCI hotplug); the agent's online is a PCI rescan.
 */
#include <errno.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/unplug.h"

enum bridge_step {
	/* in: function n-1 first, function 0 last */
	BRIDGE_IN_NODE,		/* blockdev-add of a virtio-blk function's node */
	BRIDGE_IN_FN,		/* device_add of function fn */
	/* out */
	BRIDGE_OUT_PCI,		/* query-pci: which functions are left */
	BRIDGE_OUT_UNPLUG,	/* device_del of one, DEVICE_DELETED */
	BRIDGE_OUT_NODE,	/* blockdev-del of each block node in turn */
};

struct bridge_job {
	struct qcall call;
	enum bridge_step step;
	const struct dhp_unit *unit;
	bool in;			/* attach; else detach */
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	size_t n_fns;
	int port;			/* in: its root port */
	unsigned fn;			/* the function at hand */
	unsigned rounds;		/* out: unplugs so far */
	struct qunplug unplug;		/* out */
};

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

/* Function j->fn: its block node first, if it has one and with_node. */
static void plug(struct bridge_job *j, bool with_node)
{
	struct qcall *c = &j->call;
	char node[DHP_UNIT_ID_MAX + 8];

	if (j->kinds[j->fn] == QEMU_FN_VIRTIO_BLK && with_node) {
		qdev_node_id(j->unit, j->fn, node, sizeof(node));
		j->step = BRIDGE_IN_NODE;
		qcall_qmp(c, "blockdev-add",
			  json_pack("{s:s, s:s, s:I, s:b}", "driver", "null-co", "node-name", node,
				    "size", (json_int_t)QEMU_NULL_BLK_SIZE, "read-zeroes", 1),
			  c->q->unit_ms);
		return;
	}
	j->step = BRIDGE_IN_FN;
	qcall_qmp(c, "device_add", qdev_fn_args(j->unit, j->kinds[j->fn], j->fn,
						(unsigned)j->n_fns, (unsigned)j->port),
		  c->q->unit_ms);
}

/* A function QEMU refused: the call fails, and the functions plugged
 * before it go, best effort, in QMP's order after the failure. */
static void plug_failed(struct bridge_job *j)
{
	struct qcall *c = &j->call;
	char id[DHP_UNIT_ID_MAX + 8];

	qcall_fail(c, c->got == -EIO ? -ENOSPC : c->got, "cannot plug %s into partition %u: %s",
		   j->unit->id, c->partition, c->got_err ? c->got_err->message : "");
	for (unsigned f = (unsigned)j->n_fns - 1; f > j->fn; f--) {
		qdev_fn_id(j->unit, f, id, sizeof(id));
		qcall_qmp_forget(c, "device_del", json_pack("{s:s}", "id", id));
	}
	qs_unit_unwire(qemu_unit_state(c->q, j->unit));
}

/* Each block node in turn, from j->fn on; errors (already gone) are no
 * matter. Then the bridge is out. */
static void del_nodes(struct bridge_job *j)
{
	struct qcall *c = &j->call;
	char node[DHP_UNIT_ID_MAX + 8];

	while (j->fn < QEMU_FNS_MAX) {
		unsigned f = j->fn++;

		if (f < j->n_fns && j->kinds[f] == QEMU_FN_VIRTIO_BLK) {
			qdev_node_id(j->unit, f, node, sizeof(node));
			j->step = BRIDGE_OUT_NODE;
			qcall_qmp(c, "blockdev-del", json_pack("{s:s}", "node-name", node),
				  c->q->unit_ms);
			return;
		}
	}
	qs_unit_unwire(qemu_unit_state(c->q, j->unit));
	qcall_end(c, 0, NULL);
}

static void bridge_in_begin(struct bridge_job *j)
{
	struct qcall *c = &j->call;
	struct qs_unit *s = qemu_unit_state(c->q, j->unit);
	struct dhp_error e = { 0 };

	if (!qemu_attach_checks(c, j->unit))
		return;
	if (qemu_fn_kinds(j->unit, j->kinds, &j->n_fns, &e) < 0) {
		qcall_end(c, e.code, &e);
		return;
	}
	j->port = free_port(c);
	if (j->port < 0) {
		qcall_fail(c, -ENOSPC, "the QEMU of partition %u has no free root port",
			   c->partition);
		return;
	}
	/* Wired first, so that an undo after a cancel looks for it. */
	s->partition = c->partition;
	s->port = (int16_t)j->port;
	if (!j->n_fns) {	/* a bridge with nothing behind it */
		qcall_end(c, 0, NULL);
		return;
	}
	j->fn = (unsigned)j->n_fns - 1;
	plug(j, true);
}

static void bridge_out_begin(struct bridge_job *j)
{
	struct qcall *c = &j->call;

	if (!qemu_detach_checks(c, j->unit))
		return;
	qemu_fn_kinds(j->unit, j->kinds, &j->n_fns, NULL);
	if (!qcall_part(c)) {
		qs_unit_unwire(qemu_unit_state(c->q, j->unit));
		qcall_end(c, 0, NULL);
		return;
	}
	j->step = BRIDGE_OUT_PCI;
	qcall_qmp(c, "query-pci", NULL, c->q->unit_ms);
}

static void bridge_step(struct qcall *c)
{
	struct bridge_job *j = (struct bridge_job *)c;
	char id[DHP_UNIT_ID_MAX + 8], slot[DHP_PROTO_SLOT_MAX];

	if (c->wake == QCALL_BEGIN) {
		if (j->in)
			bridge_in_begin(j);
		else
			bridge_out_begin(j);
		return;
	}
	switch (j->step) {
	case BRIDGE_IN_NODE:
		/* A node left by an earlier attempt is used as it is. */
		if (c->got && !(c->got_err && strstr(c->got_err->message, "uplicate")) &&
		    !(c->got_err && strstr(c->got_err->message, "exists"))) {
			plug_failed(j);
			return;
		}
		plug(j, false);
		return;

	case BRIDGE_IN_FN:
		if (c->got) {
			plug_failed(j);
			return;
		}
		if (j->fn == 0) {
			qcall_end(c, 0, NULL);
			return;
		}
		j->fn--;
		plug(j, true);
		return;

	case BRIDGE_OUT_PCI:
		/* Unplug what is left: function 0 first (it takes the slot with it). */
		if (c->got) {
			qcall_qmp_failed(c);
			return;
		}
		for (unsigned f = 0; f < QEMU_FNS_MAX; f++) {
			qdev_fn_id(j->unit, f, id, sizeof(id));
			if (!qdev_pci_find(c->ret, id, slot, sizeof(slot)))
				continue;
			if (j->rounds++ > QEMU_FNS_MAX) {
				qcall_fail(c, -EIO, "%s stays in partition %u after its unplug", id,
					   c->partition);
				return;
			}
			j->step = BRIDGE_OUT_UNPLUG;
			qunplug_begin(c, &j->unplug, id);
			return;
		}
		j->fn = 0;
		del_nodes(j);
		return;

	case BRIDGE_OUT_UNPLUG:
		if (qunplug_step(c, &j->unplug) == 0) {
			j->step = BRIDGE_OUT_PCI;
			qcall_qmp(c, "query-pci", NULL, c->q->unit_ms);
		}
		return;

	case BRIDGE_OUT_NODE:
		del_nodes(j);
		return;
	}
}

static int bridge_job(struct qemu *q, uint32_t partition, const struct dhp_unit *unit, bool in,
		      struct dhp_backend_cb cb)
{
	struct bridge_job *j = (struct bridge_job *)qcall_new(q, sizeof(*j), cb, partition,
							      bridge_step);

	if (!j)
		return -ENOMEM;
	j->unit = unit;
	j->in = in;
	j->port = -1;
	return 0;
}

int qemu_bridge_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb)
{
	return bridge_job(q, partition, unit, true, cb);
}

int qemu_bridge_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb)
{
	return bridge_job(q, partition, unit, false, cb);
}
