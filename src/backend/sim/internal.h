/* SPDX-License-Identifier: MIT */
/* Shared by the files of the simulated backend only. */
#ifndef DHP_BACKEND_SIM_INTERNAL_H
#define DHP_BACKEND_SIM_INTERNAL_H

#include "backend/sim/hw.h"
#include "backend/sim/sim.h"

struct sim_answer;

struct sim {
	struct dhp_backend base;
	const struct dhp_server *server;
	struct dhp_loop *loop;
	struct sim_hw hw;
	uint32_t latency_ms;
	struct dhp_sim_fault *faults;
	size_t n_faults;
	unsigned fired;
	struct sim_answer *answers;	/* calls not yet answered */
};

static inline struct sim *to_sim(struct dhp_backend *be)
{
	return (struct sim *)be;
}

/* What a matching fault asks of one call; effect MAX when none matched. */
struct sim_fault_hit {
	enum dhp_sim_effect effect;
	int rc;
	uint32_t delay_ms;
	char reason[96];		/* a veto's, copied: faults may move */
};

struct sim_fault_hit sim_fault_match(struct sim *sim, enum dhp_sim_call call, int note,
				     const struct dhp_unit *unit, uint32_t partition);

/* One backend call, done when its answer is due (not when asked), as
 * hardware takes its time: a manager killed in between finds it undone. */
struct sim_work {
	enum dhp_sim_call call;
	int note;				/* DHP_SIM_NOTIFY */
	uint32_t partition;
	const struct dhp_os_profile *profile;
	const struct dhp_unit *unit, *unit2;	/* unit2: move destination */
	const struct dhp_unit **units;		/* start: owned, freed with the work */
	size_t n_units;
};

/*
 * Apply injected faults to work and answer it later from the loop: after
 * the latency (plus any slow-down) the work is done and cb told the outcome.
 * Takes ownership of work->units even on failure.
 */
int sim_schedule(struct sim *sim, struct dhp_backend_cb cb, struct sim_work *work);

/* Do the work now; 0 or a negative errno with err set. (ops.c) */
int sim_work_run(struct sim *sim, const struct sim_work *work, struct dhp_error *err);

/* The default failure of a call for a "fail" fault, with a veto's reason
 * when it has one (reason may be ""). (ops.c) */
int sim_work_fail(struct sim *sim, const struct sim_work *work, int rc, const char *reason,
		  struct dhp_error *err);

/* The partition's OS crashes: its units drop out of use and the engine is
 * told on the next turn of the loop. */
void sim_os_crash(struct sim *sim, uint32_t partition, const char *during);

/* The calls of the ops table (ops.c). */
int sim_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	      struct dhp_backend_cb cb);
int sim_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			const struct dhp_unit *const *units, size_t n_units,
			struct dhp_backend_cb cb);
int sim_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
		       struct dhp_backend_cb cb);
int sim_notify(struct dhp_backend *be, const struct dhp_partition *p,
	       enum dhp_notification note, const struct dhp_unit *unit,
	       struct dhp_backend_cb cb);
int sim_attach(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb);
int sim_detach(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb);
int sim_online(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb);
int sim_offline(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb);
int sim_move(struct dhp_backend *be, const struct dhp_partition *p,
	     const struct dhp_unit *from, const struct dhp_unit *to,
	     struct dhp_backend_cb cb);

#endif
