/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend: real partitions. Each running partition is one
 * qemu-system-x86_64 -M q35 process booting the guest image (docs/guest.md),
 * with dhp-agent inside; docs/qemu.md is its manual.
 *
 *   processor       a vCPU (QMP device_add of a CPU device; removal: a
 *                   real device_del where CPU unplug is safe, else the vCPU
 *                   is parked: see dhp_qemu_cpu_remove_method())
 *   memory module   a pc-dimm on its own memory-backend-ram (the first
 *                   module of a partition is its boot memory, -m)
 *   I/O host bridge the devices of the unit behind a pcie-root-port
 *
 * Per partition, under STATE_DIR/qemu/<partition id>/: qmp.sock,
 * agent.sock (the guest's ttyS1), console.log (ttyS0), qemu.log (QEMU's
 * own messages), qemu.pid. QEMU runs in its own session (-daemonize), so
 * partitions outlive dhpd: after a restart, reconcile reconnects to them.
 * STATE_DIR/qemu/state holds what QEMU cannot tell (unit power, which vCPU
 * slot a processor uses, parked vCPUs), like the sim backend's hardware
 * file.
 *
 * Unit power is simulated: QEMU has no per-unit power, so the flag is
 * kept in that file and reported by reconcile.
 */
#ifndef DHP_BACKEND_QEMU_QEMU_H
#define DHP_BACKEND_QEMU_QEMU_H

#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"
#include "core/backend.h"
#include "model/server.h"
#include "proto/proto.h"

enum dhp_qemu_accel {
	DHP_QEMU_ACCEL_AUTO,	/* KVM where a guest boots under it, else TCG */
	DHP_QEMU_ACCEL_TCG,
	DHP_QEMU_ACCEL_KVM,	/* asked for: it must work, or -ENODEV */
	DHP_QEMU_ACCEL_MAX
};

const char *dhp_qemu_accel_name(enum dhp_qemu_accel accel);
/* -EINVAL when name is not tcg, kvm or auto. */
int dhp_qemu_accel_parse(const char *name, enum dhp_qemu_accel *ret_accel);

/* How a processor leaves a running partition. */
enum dhp_qemu_cpu_remove {
	DHP_QEMU_CPU_REMOVE_UNPLUG,	/* device_del of the vCPU */
	DHP_QEMU_CPU_REMOVE_PARK,	/* offline in the guest, vCPU parked and fenced */
	DHP_QEMU_CPU_REMOVE_MAX
};

const char *dhp_qemu_cpu_remove_name(enum dhp_qemu_cpu_remove method);

struct dhp_qemu_config {
	const char *state_dir;		/* required; STATE_DIR/qemu/ is made 0700 */
	const char *qemu;		/* NULL: "qemu-system-x86_64" from PATH */
	const char *kernel;		/* NULL: build/guest/vmlinuz */
	const char *initrd;		/* NULL: build/guest/initrd.gz */
	const char *append;		/* more kernel parameters, may be NULL */
	enum dhp_qemu_accel accel;
	/* Time limits in ms; 0 takes the default in brackets. */
	uint32_t boot_ms;		/* QEMU up and the agent's hello [60000] */
	uint32_t cpu_ms;		/* a processor phase in the guest [30000] */
	uint32_t unit_ms;		/* any other phase [30000] */
	uint32_t powerdown_ms;		/* ACPI power button before "quit" [5000] */
	/* Informational lines (hot replace measurements, parked vCPUs, a
	 * partition found dead); may be NULL. The library prints nothing. */
	void (*notice)(void *ctx, const char *line);
	void *notice_ctx;
};

/*
 * A QEMU backend for server. Runs `qemu --version` (blocking, at start-up
 * only) to learn the version, checks the guest image (-ENOENT) and the
 * accelerator (KVM: /dev/kvm and, once per QEMU version, a guest booted
 * under it, up to 15 s; -ENODEV when KVM was asked for and does not work),
 * opens the state file (-ESTALE when it was made for another topology)
 * and decides the processor removal method (probe.c). Keeps pointers to
 * server and loop, which must outlive it. Free with dhp_backend_free():
 * running partitions keep running.
 */
int dhp_qemu_new(const struct dhp_server *server, struct dhp_loop *loop,
		 const struct dhp_qemu_config *cfg, struct dhp_backend **ret_backend,
		 struct dhp_error *err);

/* Queries of a QEMU backend; NULL (or -1, 0, -EINVAL) for another one. */
/* The accelerator partitions run under ("tcg" or "kvm"). */
const char *dhp_qemu_accel(struct dhp_backend *be);
/* "unplug" or "park", and why (for the API and the logs). */
const char *dhp_qemu_cpu_remove_method(struct dhp_backend *be);
const char *dhp_qemu_cpu_remove_reason(struct dhp_backend *be);
/* "7.2.22". */
const char *dhp_qemu_version(struct dhp_backend *be);

/* The QEMU process of a running partition, or -1. */
int dhp_qemu_partition_pid(struct dhp_backend *be, uint32_t partition);
/* vCPUs parked in a running partition's QEMU. */
unsigned dhp_qemu_parked(struct dhp_backend *be, uint32_t partition);

/*
 * Ask a running partition's agent what the guest has (online processors,
 * memory blocks, PCI functions). fn is called once from the loop with rc
 * 0 and the state (borrowed for the call), or a negative errno and err.
 * For tests and diagnostics; not part of any operation.
 */
typedef void (*dhp_qemu_report_fn)(void *ctx, int rc, const struct dhp_proto_state *state,
				   const struct dhp_error *err);
int dhp_qemu_report(struct dhp_backend *be, uint32_t partition, dhp_qemu_report_fn fn,
		    void *ctx);

#endif
