/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend object, shared by the files of the backend only: its
 * configuration, what it decided at start-up (the accelerator, how a
 * processor leaves), the persistent state file, the partitions' QEMUs at
 * run time (partition.h) and the calls in flight (call.h).
 *
 * The files of src/backend/qemu, by job:
 *
 *   qemu.c           the backend object: start-up, its ops table, queries, free
 *   call.c           the call primitive: one awaited thing at a time (a QMP
 *                    command, an agent request, a timer, an event), with a
 *                    deadline, cancel, and the answer delivered on the loop
 *   partition.c      a partition's QEMU at run time: connecting QMP and the
 *                    agent, its events, its death
 *   tell.c           what the engine is told from the loop (failed, ready)
 *   job-start.c      partition start (enum start_step)
 *   start-spawn.c    where a starting partition's units go; spawning its QEMU
 *   job-stop.c       partition stop (enum stop_step)
 *   attach.c         attach and detach: the checks, and which job does it
 *   job-cpu.c        a processor in and out, incl. the park path (enum cpu_step)
 *   job-memory.c     a memory module in and out (enum mem_step; also for move)
 *   job-bridge.c     an I/O host bridge in and out (enum bridge_step)
 *   job-move.c       hot replace of a processor or a memory module (enum move_step)
 *   job-reconcile.c  what QEMU and the guest really have (enum rec_step)
 *   reconcile-apply.c  what reconcile found, into the state file
 *   job-online.c     online and offline through the agent (enum online_step;
 *                    also for move)
 *   job-notify.c     power (simulated), notifications, the agent's report
 *   unplug.c         device_del and the wait for the device to go
 *   pin.c            vCPU threads on host CPUs
 *   devices.c        unit <-> QEMU device mapping, ids, QMP arguments
 *   cmdline.c        the command line of a partition (cmdline.h)
 *   process.c        spawning QEMU, its pid, whether it lives
 *   kvm.c            the accelerator: TCG, or KVM where a guest boots under it
 *   probe.c          how a processor leaves: unplug or park (probe.h)
 *   state-file.c     the persistent state file (state-file.h)
 *   agent.c          the agent channel (agent.h)
 *   qmp.c            the QMP client (qmp.h)
 */
#ifndef DHP_BACKEND_QEMU_OBJECT_H
#define DHP_BACKEND_QEMU_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/qemu/cmdline.h"
#include "backend/qemu/probe.h"
#include "backend/qemu/qemu.h"
#include "backend/qemu/state-file.h"

#define QEMU_PATH_MAX 4096
/* sun_path of a unix socket, with its NUL: STATE_DIR/qemu/<id>/agent.sock
 * must fit, which bounds STATE_DIR/qemu. */
#define QEMU_SOCKET_PATH_MAX 108
#define QEMU_DIR_MAX 128

struct qcall;
struct qpart;
struct qtell;

struct qemu {
	struct dhp_backend base;
	const struct dhp_server *server;
	struct dhp_loop *loop;
	char dir[QEMU_DIR_MAX];			/* STATE_DIR/qemu, absolute */
	char binary[QEMU_PATH_MAX];
	char kernel[QEMU_PATH_MAX];
	char initrd[QEMU_PATH_MAX];
	char append[1024];
	enum dhp_qemu_accel accel;		/* TCG or KVM, never AUTO */
	uint32_t boot_ms, cpu_ms, unit_ms, powerdown_ms;
	void (*notice)(void *ctx, const char *line);
	void *notice_ctx;
	struct qemu_version version;
	char version_text[32];
	enum dhp_qemu_cpu_remove cpu_remove;
	char cpu_remove_reason[DHP_ERROR_TEXT_MAX];
	struct qemu_sizing sizing;
	struct qs state;
	struct qpart *parts;			/* partition.c */
	struct qcall *calls;			/* call.c */
	struct qtell *tells;			/* tell.c: for the engine, from the loop */
	struct dhp_timer *tell_timer;
};

static inline struct qemu *to_qemu(struct dhp_backend *be)
{
	return (struct qemu *)be;
}

__attribute__((format(printf, 2, 3)))
void qemu_notice(struct qemu *q, const char *fmt, ...);

/* be is a QEMU backend (the public queries take any backend). */
bool qemu_is(struct dhp_backend *be);

static inline struct qs_unit *qemu_unit_state(struct qemu *q, const struct dhp_unit *u)
{
	return &q->state.units[dhp_server_unit_index(q->server, u)];
}

/* ---- tell.c ---- */

/* Tell the engine, from the loop, that a partition's OS went down on its
 * own (why), or that its agent came or went (ready). */
void qemu_tell_failed(struct qemu *q, uint32_t id, const struct dhp_error *why);
void qemu_tell_ready(struct qemu *q, uint32_t id, bool ready);
void qemu_tell_free_all(struct qemu *q);

/* ---- kvm.c ---- */

/* Set q->accel from what was asked: TCG, or KVM when it works here
 * (-ENODEV when it was asked for and does not). Blocking, start-up only. */
int qemu_pick_accel(struct qemu *q, enum dhp_qemu_accel asked, struct dhp_error *err);

#endif
