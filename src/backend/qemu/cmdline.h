/* SPDX-License-Identifier: MIT */
/*
 * The QEMU command line of a partition, and how large each QEMU is made
 * so that every unit of the server could join it later. Pure: tested
 * without QEMU (tests/t1300-qemu.c).
 */
#ifndef DHP_BACKEND_QEMU_CMDLINE_H
#define DHP_BACKEND_QEMU_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/qemu/qemu.h"
#include "common/error.h"
#include "model/unit.h"

/* q35 without x2APIC (TCG in QEMU 7.2 has none): APIC ids < 255. */
#define QEMU_MAXCPUS_CAP 255
/* Below 9 possible CPUs Linux drives the APIC in flat logical mode, and a
 * processor onlined in a TCG guest then takes 12 s instead of 0.9 s
 * (measured: maxcpus 8 vs 9, docs/qemu.md). */
#define QEMU_MAXCPUS_MIN 16
#define QEMU_MEM_SLOTS_CAP 256		/* QEMU's limit of DIMM slots */
/* TCG's "max" CPU has 40 physical address bits: with 256 slots QEMU
 * refuses maxmem above about 512 GiB. */
#define QEMU_MAXMEM_CAP (512ull << 30)
/* Root ports: 8 functions on each of bus 0's slots 1-28; a bus number each. */
#define QEMU_PORTS_CAP 224
#define QEMU_FNS_MAX 8			/* PCI functions behind one root port */
#define QEMU_NULL_BLK_SIZE (64ull << 20)
/* QEMU's MAX_NODES: a server with more sockets gets no NUMA nodes. */
#define QEMU_NODES_MAX 128

struct qemu_sizing {
	unsigned maxcpus;	/* vCPU slots */
	unsigned mem_slots;	/* DIMM slots (boot memory is not in one) */
	uint64_t maxmem;	/* bytes */
	unsigned n_ports;	/* pcie-root-ports */
	/* NUMA nodes, one per socket of the server (node N is socket N);
	 * 0: none (more sockets than QEMU_NODES_MAX, or no server). */
	unsigned n_nodes;
	/* Slots 1 .. maxcpus - 1 are split into one range per socket:
	 * socket s has slots node_first[s] .. node_first[s + 1] - 1, bound to
	 * node s. Slot 0 (-smp's own vCPU) is bound at start to the socket
	 * of the processor that boots. */
	uint16_t node_first[QEMU_NODES_MAX + 1];
};

/* Sizes for a server: every unit could join one partition (within the
 * caps above), with room for as many parked vCPUs as processors, socket
 * by socket. */
void qemu_sizing_of(const struct dhp_server *server, struct qemu_sizing *ret);

/* The first free slot (slot_state[k] == 0) of socket's range, or of every
 * slot but 0 without nodes; -1 when there is none. */
int qemu_slot_pick(const struct qemu_sizing *z, unsigned socket, const uint8_t *slot_state);

/* What an I/O host bridge's device names become. */
enum qemu_fn_kind {
	QEMU_FN_VIRTIO_NET,
	QEMU_FN_VIRTIO_BLK,
	QEMU_FN_KIND_MAX
};

const char *qemu_fn_driver(enum qemu_fn_kind kind);
/* Parse u->devices ("virtio-net,virtio-blk") into kinds; -EOPNOTSUPP for
 * a device the backend cannot make, -E2BIG for more than QEMU_FNS_MAX. */
int qemu_fn_kinds(const struct dhp_unit *u, enum qemu_fn_kind *kinds, size_t *ret_n,
		  struct dhp_error *err);
/* Where root port N sits on bus 0: slot 1 + N / 8, function N % 8. */
void qemu_port_addr(unsigned port, unsigned *ret_slot, unsigned *ret_fn);

/* A partition's QEMU, at its start. units are those it boots with: the
 * first processor is vCPU 0, the first memory module the boot memory. */
struct qemu_launch {
	const char *binary, *kernel, *initrd, *append;
	const char *dir;			/* STATE_DIR/qemu/<id>, absolute */
	const char *name;			/* for -name */
	const char *uuid;			/* for -uuid; NULL or "": none */
	enum dhp_qemu_accel accel;		/* TCG or KVM */
	const struct qemu_sizing *sizing;
	const struct dhp_server *server;	/* its distances; NULL: no nodes */
	const struct dhp_unit *const *units;
	size_t n_units;
	const int *slots;			/* per unit: vCPU slot, or -1 */
	const int *ports;			/* per unit: root port, or -1 */
};

struct qemu_argv {
	char **argv;		/* NULL terminated */
	size_t n, cap;
};

/* Build the command line; release with qemu_argv_release(). -EINVAL when
 * the units cannot boot (no processor or memory), -EOPNOTSUPP for a
 * device the backend cannot make. */
int qemu_cmdline(const struct qemu_launch *l, struct qemu_argv *ret_argv,
		 struct dhp_error *err);
void qemu_argv_release(struct qemu_argv *a);
/* The words joined by spaces (for logs and tests); caller frees. */
char *qemu_argv_join(const struct qemu_argv *a);

#endif
