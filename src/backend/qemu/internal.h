/* SPDX-License-Identifier: MIT */
/*
 * Shared by the files of the QEMU backend only.
 *
 *   qemu.c       the backend object, its queries, free
 *   call.c       a backend call in flight: one awaited answer at a time
 *                (QMP, agent, timer, event), cancel, the answer on the loop
 *   partition.c  a partition's QEMU at run time: connecting QMP and the
 *                agent, its events, its death
 *   start.c      partition start
 *   stop.c       partition stop
 *   ops.c        power, notify, online, offline
 *   attach.c     attach and detach, waiting for a device to go
 *   cpu.c        processors in and out, and the park path
 *   memory.c     memory modules in and out (attach, detach, move)
 *   bridge.c     attach and detach of I/O host bridges
 *   move.c       hot replace: move a processor or a memory module
 *   reconcile.c  what QEMU and the guest really have
 *   devices.c    unit <-> QEMU device mapping, ids, QMP arguments
 *   cmdline.c    the command line of a partition (cmdline.h)
 *   process.c    spawning QEMU, its pid, whether it lives
 *   pin.c        vCPU threads on host CPUs
 *   kvm.c        the accelerator: TCG, or KVM where a guest boots under it
 *   probe.c      how a processor leaves: unplug or park (probe.h)
 *   state-file.c the persistent state file (state-file.h)
 *   agent.c      the agent channel (agent.h)
 *   qmp.c        the QMP client (qmp.h)
 */
#ifndef DHP_BACKEND_QEMU_INTERNAL_H
#define DHP_BACKEND_QEMU_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "backend/qemu/agent.h"
#include "backend/qemu/cmdline.h"
#include "backend/qemu/probe.h"
#include "backend/qemu/qemu.h"
#include "backend/qemu/qmp.h"
#include "backend/qemu/state-file.h"

#define QEMU_PATH_MAX 4096
/* sun_path of a unix socket, with its NUL: STATE_DIR/qemu/<id>/agent.sock
 * must fit, which bounds STATE_DIR/qemu. */
#define QEMU_SOCKET_PATH_MAX 108
#define QEMU_DIR_MAX 128

struct qcall;

/* A partition's QEMU at run time. Freed later than released (deferred),
 * as QMP and agent callbacks may still be on the stack. */
struct qpart {
	struct qemu *q;
	uint32_t id;
	struct qmp *qmp;
	struct qagent *agent;
	bool up;		/* QMP answers: QEMU runs */
	bool started;		/* its start completed: report the agent's comings */
	bool stopping;		/* dhp ends it: its end is no failure */
	bool released;
	bool agent_ready;	/* a hello of our version came */
	unsigned caps;		/* the hello's capabilities */
	/* Why the agent is refused (a hello of a higher major version:
	 * -EPROTONOSUPPORT, the decoder's words and resolution); code 0 when
	 * it is not. Reset by a hello of our version and when the agent
	 * channel is opened again. */
	struct dhp_error agent_refused;
	char cpu_type[64];	/* "max-x86_64-cpu" */
	struct qpart *next;
};

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
	struct qpart *parts;
	struct qcall *calls;
	struct qtell *tells;			/* for the engine, from the loop */
	struct dhp_timer *tell_timer;
};

static inline struct qemu *to_qemu(struct dhp_backend *be)
{
	return (struct qemu *)be;
}

__attribute__((format(printf, 2, 3)))
void qemu_notice(struct qemu *q, const char *fmt, ...);

static inline struct qs_unit *qemu_unit_state(struct qemu *q, const struct dhp_unit *u)
{
	return &q->state.units[dhp_server_unit_index(q->server, u)];
}

/* ---- call.c ---- */

typedef void (*qcall_qmp_fn)(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err);
typedef void (*qcall_agent_fn)(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
			       const struct dhp_error *err);
typedef void (*qcall_fn)(struct qcall *c);

struct qcall {
	struct qemu *q;
	struct dhp_backend_cb cb;
	uint32_t partition;
	const struct dhp_unit *unit, *unit2;
	int note;
	/* The one answer awaited from QMP or the agent. */
	bool inflight;
	qcall_qmp_fn qmp_fn;
	qcall_agent_fn agent_fn;
	/* A timer: a pause, a poll or a deadline. */
	struct dhp_timer *timer;
	qcall_fn timer_fn;
	/* What it waits for from its partition (partition.c calls these). */
	void (*on_event)(struct qcall *c, const char *event, json_t *data);
	qcall_fn on_hello;
	/* An event of the partition's agent (qagent_config.on_event). */
	void (*on_agent_event)(struct qcall *c, const struct dhp_proto_event *event);
	qcall_fn on_refused;	/* the agent's hello was refused: part->agent_refused */
	qcall_fn on_down;
	/* A failure first runs this (once) to put things back, then the call
	 * ends with the failure's error; see qcall_finish(). */
	qcall_fn on_fail;
	bool unwinding;
	bool cancelled;		/* by the engine: never answered */
	bool finished;		/* answered, or about to be */
	int rc;
	struct dhp_error err;
	qcall_fn then;		/* where a shared sequence returns to */
	qcall_fn unplugged;	/* where a device_del returns to */
	bool deleted;		/* its DEVICE_DELETED came */
	qcall_fn otherwise;	/* where a failed connect goes (NULL: the call fails) */
	const struct dhp_unit *cur;	/* the unit a shared sequence acts on */
	bool on;
	char fn_slots[QEMU_FNS_MAX][DHP_PROTO_SLOT_MAX];	/* its PCI functions */
	unsigned n_fn_slots;
	/* Scratch of the call kinds. */
	uint64_t t0, until;
	int step, slot, port;
	pid_t child;
	bool *present;				/* CPUs present before device_add */
	int event_cpu;				/* cpu + 1 the agent said arrived
						 * while a report was asked; 0 */
	char dev_id[80];
	const struct dhp_unit **units;		/* start: owned */
	size_t n_units, iter;
	struct dhp_backend_view *view;		/* reconcile */
	json_t *j_cpus, *j_mems, *j_pci;	/* reconcile: what QEMU has */
	dhp_qemu_report_fn report_fn;		/* dhp_qemu_report */
	void *report_ctx;
	struct dhp_proto_state *state;		/* its answer */
	struct qcall *prev, *next;
};

/* A call for cb (cb.done NULL: an internal one). NULL on ENOMEM. */
struct qcall *qcall_new(struct qemu *q, struct dhp_backend_cb cb, uint32_t partition,
			const struct dhp_unit *unit);
/* Never answer it; free it once nothing it awaits can call back. */
void qcall_drop(struct qcall *c);
/* Answer it from the loop (never now), once; err may be NULL. A failure
 * of a call with on_fail runs on_fail instead, which puts things back and
 * finishes: the answer is then the first failure, whatever the undo did. */
void qcall_finish(struct qcall *c, int rc, const struct dhp_error *err);
__attribute__((format(printf, 3, 4)))
void qcall_fail(struct qcall *c, int rc, const char *fmt, ...);
/* The partition's QEMU, up, or NULL. */
struct qpart *qcall_part(struct qcall *c);
/* Send a QMP command to the call's partition (args taken); fn gets the
 * answer. On a failure to send, fn is called with it from the loop. */
void qcall_qmp(struct qcall *c, const char *cmd, json_t *args, uint32_t ms, qcall_qmp_fn fn);
void qcall_agent(struct qcall *c, const struct dhp_proto_request *req, uint32_t ms,
		 qcall_agent_fn fn);
/* Send a QMP command whose answer nobody awaits (clean-up after a
 * failure; QMP's order puts it before anything sent later). args taken. */
void qcall_qmp_forget(struct qcall *c, const char *cmd, json_t *args);
/* Call fn after ms; replaces any timer of the call. */
void qcall_after(struct qcall *c, uint32_t ms, qcall_fn fn);
void qcall_timer_stop(struct qcall *c);
/* The trampolines, for qmp_connect's ready callback. */
void qcall_qmp_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err);
/* Free every call (backend free). */
void qcall_free_all(struct qemu *q);
void qemu_cancel(struct dhp_backend *be, uint64_t token);

/* ---- partition.c ---- */

struct qpart *qpart_find(struct qemu *q, uint32_t id);
struct qpart *qpart_new(struct qemu *q, uint32_t id);
/* Connect QMP, then the agent, for call c; then(c) runs when QMP answers
 * (the agent's hello comes later: on_hello). A failure goes to
 * c->otherwise with c->err set, or fails c when that is NULL. */
void qpart_connect(struct qcall *c, struct qpart *part, uint32_t within_ms, qcall_fn then);
/* When c's partition runs with its agent refused (a hello of a newer
 * protocol version), fail c with -ENOTCONN, "no agent" and the reason
 * (what: the op it needed, "online"), and return true; else false, and
 * the caller asks the agent as usual. */
bool qpart_agent_refused(struct qcall *c, const char *what);
/* QEMU is gone (or dhp lets go of it): free the run-time part later. */
void qpart_release(struct qpart *part);
void qpart_free_all(struct qemu *q);
/* Tell the engine, from the loop, that a partition's OS went down on its
 * own (why), or that its agent came or went (ready). */
void qemu_tell_failed(struct qemu *q, uint32_t id, const struct dhp_error *why);
void qemu_tell_ready(struct qemu *q, uint32_t id, bool ready);
void qemu_tell_free_all(struct qemu *q);
int qemu_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			 const struct dhp_unit *const *units, size_t n_units,
			 struct dhp_backend_cb cb);
int qemu_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
			struct dhp_backend_cb cb);
/* A start the engine gave up on still ends the QEMU it spawned (start.c). */
bool qemu_spawning(struct qemu *q, uint32_t id, const struct qcall *self);
/* Remove a partition's sockets and pid file (not while qemu_spawning()). */
void qemu_remove_files(struct qemu *q, uint32_t id);
/* The directory of a partition, and a file in it. */
int qemu_part_path(struct qemu *q, uint32_t id, const char *name, char *buf, size_t size);

/* ---- ops.c ---- */

int qemu_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	       struct dhp_backend_cb cb);
int qemu_notify(struct dhp_backend *be, const struct dhp_partition *p,
		enum dhp_notification note, const struct dhp_unit *unit,
		struct dhp_backend_cb cb);
int qemu_online(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
int qemu_offline(struct dhp_backend *be, const struct dhp_partition *p,
		 const struct dhp_unit *unit, struct dhp_backend_cb cb);
/* Bring u online or offline through the agent; then(c) on success, else
 * c fails with a docs/errors.md code. Shared with move.c. */
void qemu_unit_set(struct qcall *c, const struct dhp_unit *u, bool on, qcall_fn then);

/* ---- attach.c, cpu.c, memory.c ---- */

void qemu_cpu_attach(struct qcall *c);
void qemu_cpu_detach(struct qcall *c);

int qemu_attach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
int qemu_detach(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
/* The attach and detach of a memory module, for move.c: then(c) on success. */
void qemu_memory_attach(struct qcall *c, const struct dhp_unit *u, qcall_fn then);
void qemu_memory_detach(struct qcall *c, const struct dhp_unit *u, qcall_fn then);
/* device_del of c->dev_id; unplugged(c) once QEMU reports it gone. */
void qemu_unplug(struct qcall *c, qcall_fn unplugged);
void qemu_qmp_failed(struct qcall *c, const struct dhp_error *err);

/* ---- bridge.c ---- */

void qemu_bridge_attach(struct qcall *c);
void qemu_bridge_detach(struct qcall *c);

/* ---- move.c ---- */

int qemu_move(struct dhp_backend *be, const struct dhp_partition *p,
	      const struct dhp_unit *from, const struct dhp_unit *to,
	      struct dhp_backend_cb cb);

/* ---- reconcile.c ---- */

int qemu_reconcile(struct dhp_backend *be, struct dhp_backend_view *view,
		   struct dhp_backend_cb cb);

/* ---- kvm.c ---- */

/* Set q->accel from what was asked: TCG, or KVM when it works here
 * (-ENODEV when it was asked for and does not). Blocking, start-up only. */
int qemu_pick_accel(struct qemu *q, enum dhp_qemu_accel asked, struct dhp_error *err);

/* ---- pin.c ---- */

/* Pin the vCPU threads of c's partition to their processors' host CPUs
 * (query-cpus-fast gives the threads), then then(c). A partition whose
 * processors map to no host CPU is left alone. */
void qemu_pin(struct qcall *c, qcall_fn then);
/* Pin one thread to one host CPU. */
int qemu_pin_tid(pid_t tid, int host_cpu);
/* -EBUSY when host CPU cpu is the processor's of another partition. */
int qemu_pin_check(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		   struct dhp_error *err);

/* ---- devices.c ---- */

/* Ids in QEMU, derived from unit ids so that reconcile maps back. */
void qdev_cpu_id_of(const struct dhp_unit *u, unsigned slot, char *buf, size_t size); /* <id>.<slot> */
void qdev_mem_object(const struct dhp_unit *u, char *buf, size_t size);	/* mem-<id> */
void qdev_fn_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size); /* <id>-d<fn> */
void qdev_node_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size); /* <id>-n<fn> */
/* The props of vCPU slot k (-smp sockets=1,cores=maxcpus). */
json_t *qdev_slot_props(unsigned slot);
/* The slot of an entry of query-hotpluggable-cpus/query-cpus-fast, -1. */
int qdev_slot_of(json_t *entry);
/* The entry of query-hotpluggable-cpus for a slot, borrowed, or NULL. */
json_t *qdev_cpu_entry(json_t *cpus, unsigned slot);
/* The device id of a plugged vCPU ("/machine/peripheral/<id>"), or NULL
 * (the boot vCPU has none). Points into entry. */
const char *qdev_cpu_id(json_t *entry);
/* The DIMM with this id in query-memory-devices: its address and size. */
bool qdev_dimm_find(json_t *mems, const char *id, uint64_t *ret_addr, uint64_t *ret_size);
/* Find the function with qdev id in query-pci: its guest address. */
bool qdev_pci_find(json_t *pci, const char *id, char *slot, size_t size);
/* How unit u looks to the agent of partition (which u may not be wired to
 * yet, or any more). */
void qdev_proto_unit(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		     struct dhp_proto_unit *ret);
/* Device_add arguments (props is taken). */
json_t *qdev_cpu_args(const char *type, const char *id, json_t *props);
json_t *qdev_fn_args(const struct dhp_unit *u, enum qemu_fn_kind kind, unsigned fn,
		     unsigned n_fns, unsigned port);

/* ---- process.c ---- */

/* Spawn QEMU (argv[0] found in PATH) in its own session with stdin
 * /dev/null and stdout/stderr appended to log; *ret_child is the process
 * that daemonizes and exits. */
int qemu_spawn(char *const *argv, const char *log, pid_t *ret_child, struct dhp_error *err);
/* 1 when child exited (status in *ret_status), 0 while it runs, <0. */
int qemu_child_done(pid_t child, int *ret_status);
/* The pid in a -pidfile, and its start time; -ENOENT. */
int qemu_pid_read(const char *path, pid_t *ret_pid, uint64_t *ret_start);
/* The process pid started at start lives (a zombie does not). */
bool qemu_pid_alive(pid_t pid, uint64_t start);
int qemu_pid_kill(pid_t pid, uint64_t start, int sig);
/* The last line of a log file, for error messages. */
void qemu_log_tail(const char *path, char *buf, size_t size);

#endif
