/* SPDX-License-Identifier: MIT */
/*
 * The simulated server: dhp's embedded default backend.
 *
 * The hardware (unit power, which partition each unit is attached to, which
 * units each partition's OS uses, which partitions run) lives in a small
 * memory-mapped file, like a service processor's NVRAM: it survives a crash
 * of the manager, so start-up recovery has real hardware to reconcile with.
 * Each partition runs a simulated OS that does what its OS profile says and
 * nothing more.
 *
 * Faults are injected deterministically: a fault matches a call (and
 * optionally a notification, unit and partition) and fails it, hangs it
 * (never answers: the engine's deadline fires), slows it, or crashes the
 * partition's OS during it. docs/sim.md lists the spec syntax.
 */
#ifndef DHP_BACKEND_SIM_H
#define DHP_BACKEND_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"
#include "core/backend.h"
#include "model/server.h"

enum dhp_sim_call {
	DHP_SIM_POWER_ON,
	DHP_SIM_POWER_OFF,
	DHP_SIM_START,
	DHP_SIM_STOP,
	DHP_SIM_NOTIFY,
	DHP_SIM_ATTACH,
	DHP_SIM_DETACH,
	DHP_SIM_ONLINE,
	DHP_SIM_OFFLINE,
	DHP_SIM_MOVE,
	DHP_SIM_CALL_MAX
};

enum dhp_sim_effect {
	DHP_SIM_FAIL,		/* answer rc (0: the call's usual failure) */
	DHP_SIM_HANG,		/* never answer */
	DHP_SIM_SLOW,		/* answer after delay_ms, normally */
	DHP_SIM_CRASH,		/* the partition's OS crashes during the call */
	DHP_SIM_EFFECT_MAX
};

#define DHP_SIM_ANY_NOTE (-1)

struct dhp_sim_fault {
	enum dhp_sim_call call;
	int note;			/* enum dhp_notification, or DHP_SIM_ANY_NOTE */
	char unit[DHP_UNIT_ID_MAX];	/* "" matches any unit */
	uint32_t partition;		/* 0 matches any partition */
	enum dhp_sim_effect effect;
	int rc;
	uint32_t delay_ms;
	int count;			/* fires this many times; < 0 forever */
	/* A veto's reason, as the OS or an application would give it ("":
	 * the usual text). It is the partition's text: clients must show it
	 * as text (the console's tests put markup in it). */
	char reason[96];
};

/*
 * A simulated backend for server. hw_path is the hardware state file
 * (created if missing; NULL keeps it in memory only). A file made for
 * another topology is refused with -ESTALE. The backend keeps pointers to
 * server and loop, which must outlive it. Free with dhp_backend_free().
 */
int dhp_sim_new(const struct dhp_server *server, struct dhp_loop *loop,
		const char *hw_path, struct dhp_backend **ret_backend,
		struct dhp_error *err);

/* Delay of every answer, in ms (default 0: the next turn of the loop). */
void dhp_sim_set_latency(struct dhp_backend *be, uint32_t ms);

int dhp_sim_fault_add(struct dhp_backend *be, const struct dhp_sim_fault *fault,
		      struct dhp_error *err);
void dhp_sim_fault_clear(struct dhp_backend *be);
/* How many times faults fired since the backend was made. */
unsigned dhp_sim_faults_fired(struct dhp_backend *be);

/*
 * Parse "CALL[:NOTE][@UNIT][/PARTITION]=EFFECT[:ARG][*COUNT]", e.g.
 * "power-on@s0-cpu1=fail", "notify:add-start=veto", "offline=fail",
 * "attach=hang", "online=slow:500*3", "move=crash". See docs/sim.md.
 */
int dhp_sim_fault_parse(const char *spec, struct dhp_sim_fault *ret_fault,
			struct dhp_error *err);
/* A comma-separated list of specs, each added to be. */
int dhp_sim_faults_configure(struct dhp_backend *be, const char *specs,
			     struct dhp_error *err);

/* The partition's OS stops (or resumes) taking part in online operations,
 * as when a real partition's agent goes away; the engine is told. */
void dhp_sim_set_os_ready(struct dhp_backend *be, uint32_t partition, bool ready);

const char *dhp_sim_call_name(enum dhp_sim_call call);

#endif
