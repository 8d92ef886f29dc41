/* SPDX-License-Identifier: MIT */
/*
 * What each call does to the simulated hardware, and how the simulated OS
 * of a partition answers: exactly what its OS profile allows, no more.
 */
#include "backend/sim/internal.h"

#include <stdlib.h>
#include <string.h>

#include "model/profile.h"

static struct sim_hw_unit *hw_unit(struct sim *sim, const struct dhp_unit *unit)
{
	return &sim->hw.units[dhp_server_unit_index(sim->server, unit)];
}

/* The OS of a partition when it is up, else NULL. */
static struct sim_hw_partition *os_up(struct sim *sim, uint32_t partition)
{
	struct sim_hw_partition *hp = sim_hw_partition(&sim->hw, partition, 0);

	return hp && hp->running ? hp : NULL;
}

/* The OS refuses what its profile cannot do online. */
static int os_can(const struct sim_work *w, enum dhp_online_action action,
		  struct dhp_error *err)
{
	if (dhp_profile_can(w->profile, action, w->unit->type))
		return 0;
	return dhp_error_set(err, -EOPNOTSUPP, "%s cannot %s a %s",
			     w->profile ? w->profile->description : "this OS",
			     dhp_online_action_name(action), dhp_unit_type_name(w->unit->type));
}

static int do_power(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *u = hw_unit(sim, w->unit);
	bool on = w->call == DHP_SIM_POWER_ON;

	if (!on && u->partition && os_up(sim, u->partition) && u->online)
		return dhp_error_set(err, -EBUSY, "unit %s is in use by partition %u",
				     w->unit->id, u->partition);
	u->powered = on;
	return 0;
}

/* Already up with exactly these units: a repeated start is a success. */
static bool booted_with(struct sim *sim, const struct sim_work *w)
{
	size_t wired = 0;

	for (size_t i = 0; i < sim->hw.n_units; i++)
		wired += sim->hw.units[i].partition == w->partition;
	for (size_t i = 0; i < w->n_units; i++)
		if (hw_unit(sim, w->units[i])->partition != w->partition)
			return false;
	return wired == w->n_units;
}

static int do_start(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_partition *hp;

	if (os_up(sim, w->partition))
		return booted_with(sim, w) ? 0 :
		       dhp_error_set(err, -EBUSY, "partition %u runs with other units",
				     w->partition);
	for (size_t i = 0; i < w->n_units; i++) {
		const struct sim_hw_unit *u = hw_unit(sim, w->units[i]);

		if (!u->powered)
			return dhp_error_set(err, -EIO, "unit %s is not powered on",
					     w->units[i]->id);
		if (u->partition && u->partition != w->partition)
			return dhp_error_set(err, -EBUSY, "unit %s is wired to partition %u",
					     w->units[i]->id, u->partition);
	}
	hp = sim_hw_partition(&sim->hw, w->partition, 1);
	if (!hp)
		return dhp_error_set(err, -ENOSPC, "no room for another partition");
	for (size_t i = 0; i < w->n_units; i++) {
		struct sim_hw_unit *u = hw_unit(sim, w->units[i]);

		u->partition = w->partition;
		u->online = 1;
	}
	hp->running = 1;
	hp->os_ready = 1;
	return 0;
}

static int do_stop(struct sim *sim, const struct sim_work *w)
{
	struct sim_hw_partition *hp = sim_hw_partition(&sim->hw, w->partition, 0);

	for (size_t i = 0; i < sim->hw.n_units; i++)
		if (sim->hw.units[i].partition == w->partition) {
			sim->hw.units[i].partition = 0;
			sim->hw.units[i].online = 0;
		}
	if (hp)
		memset(hp, 0, sizeof(*hp));
	return 0;
}

static bool note_needs_os(enum dhp_notification note, enum dhp_online_action *ret_action)
{
	switch (note) {
	case DHP_NOTIFY_ADD_START:
		*ret_action = DHP_ONLINE_ADD;
		return true;
	case DHP_NOTIFY_REMOVE_QUERY:
		*ret_action = DHP_ONLINE_REMOVE;
		return true;
	case DHP_NOTIFY_REPLACE_START:
		*ret_action = DHP_ONLINE_REPLACE;
		return true;
	default:
		return false;
	}
}

static int do_notify(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	enum dhp_online_action action;

	/* Completion and failure notices to an OS that is down reach nobody,
	 * which is fine; a start or a query needs an OS to answer. */
	if (!note_needs_os((enum dhp_notification)w->note, &action))
		return 0;
	if (!os_up(sim, w->partition))
		return dhp_error_set(err, -EHOSTDOWN, "the OS of partition %u is not running",
				     w->partition);
	return os_can(w, action, err);
}

static int do_attach(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *u = hw_unit(sim, w->unit);

	if (u->partition == w->partition)
		return 0;
	if (u->partition)
		return dhp_error_set(err, -EBUSY, "unit %s is wired to partition %u",
				     w->unit->id, u->partition);
	if (!u->powered)
		return dhp_error_set(err, -EIO, "unit %s is not powered on", w->unit->id);
	/* Wiring is the hardware's: it works into a crashed partition too
	 * (rollback after a crash), but not into one that never started. */
	if (!sim_hw_partition(&sim->hw, w->partition, 0))
		return dhp_error_set(err, -EHOSTDOWN, "partition %u is not running",
				     w->partition);
	u->partition = w->partition;
	u->online = 0;
	return 0;
}

static int do_detach(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *u = hw_unit(sim, w->unit);

	/* Not wired to this partition: it is detached from it already. A
	 * move's rollback undoes its attach to the target while the unit is
	 * still wired to the source, and must change nothing. */
	if (u->partition != w->partition)
		return 0;
	if (u->online && os_up(sim, w->partition))
		return dhp_error_set(err, -EBUSY, "unit %s is still in use by the OS",
				     w->unit->id);
	u->partition = 0;
	u->online = 0;
	return 0;
}

static int do_online(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *u = hw_unit(sim, w->unit);

	if (u->partition != w->partition)
		return dhp_error_set(err, -EIO, "unit %s is not wired to partition %u",
				     w->unit->id, w->partition);
	if (u->online)
		return 0;
	if (!os_up(sim, w->partition))
		return dhp_error_set(err, -EHOSTDOWN, "the OS of partition %u is not running",
				     w->partition);
	/* Onlining again after a failed removal is part of removing. */
	if (!dhp_profile_can(w->profile, DHP_ONLINE_REMOVE, w->unit->type)) {
		int r = os_can(w, DHP_ONLINE_ADD, err);

		if (r)
			return r;
	}
	u->online = 1;
	return 0;
}

static int do_offline(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *u = hw_unit(sim, w->unit);
	int r;

	if (!u->online || u->partition != w->partition)
		return 0;
	if (!os_up(sim, w->partition))
		return dhp_error_set(err, -EHOSTDOWN, "the OS of partition %u is not running",
				     w->partition);
	if (w->unit->boot)
		return dhp_error_set(err, -EAGAIN, "%s is the boot memory of partition %u",
				     w->unit->id, w->partition);
	r = os_can(w, DHP_ONLINE_REMOVE, err);
	if (r)
		return r;
	u->online = 0;
	return 0;
}

static int do_move(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	struct sim_hw_unit *from = hw_unit(sim, w->unit), *to = hw_unit(sim, w->unit2);
	int r;

	if (to->partition == w->partition && from->partition != w->partition)
		return 0;	/* already moved */
	if (!os_up(sim, w->partition)) {
		/* No OS to move state for: only the wiring moves (a rollback
		 * after a crash). */
		if (from->partition != w->partition || !to->powered || to->partition)
			return dhp_error_set(err, -EIO, "cannot rewire %s to %s", w->unit->id,
					     w->unit2->id);
		to->partition = w->partition;
		from->partition = 0;
		from->online = 0;
		return 0;
	}
	if (from->partition != w->partition || !from->online)
		return dhp_error_set(err, -EIO, "unit %s is not in use by partition %u",
				     w->unit->id, w->partition);
	if (!to->powered || to->partition)
		return dhp_error_set(err, -EIO, "unit %s is not a powered, free spare",
				     w->unit2->id);
	r = os_can(w, DHP_ONLINE_REPLACE, err);
	if (r)
		return r;
	to->partition = w->partition;
	to->online = 1;
	from->partition = 0;
	from->online = 0;
	return 0;
}

int sim_work_run(struct sim *sim, const struct sim_work *w, struct dhp_error *err)
{
	switch (w->call) {
	case DHP_SIM_POWER_ON:
	case DHP_SIM_POWER_OFF:	return do_power(sim, w, err);
	case DHP_SIM_START:	return do_start(sim, w, err);
	case DHP_SIM_STOP:	return do_stop(sim, w);
	case DHP_SIM_NOTIFY:	return do_notify(sim, w, err);
	case DHP_SIM_ATTACH:	return do_attach(sim, w, err);
	case DHP_SIM_DETACH:	return do_detach(sim, w, err);
	case DHP_SIM_ONLINE:	return do_online(sim, w, err);
	case DHP_SIM_OFFLINE:	return do_offline(sim, w, err);
	case DHP_SIM_MOVE:	return do_move(sim, w, err);
	default:		return dhp_error_set(err, -EINVAL, "unknown call");
	}
}

int sim_work_fail(struct sim *sim, const struct sim_work *w, int rc, const char *reason,
		  struct dhp_error *err)
{
	const char *id = w->unit ? w->unit->id : "";

	(void)sim;
	switch (w->call) {
	case DHP_SIM_POWER_ON:
		return dhp_error_set(err, rc ? rc : -EIO, "unit %s failed to power on", id);
	case DHP_SIM_NOTIFY:
		if (reason && reason[0])
			return dhp_error_set(err, rc ? rc : -EPERM, "the OS of partition %u vetoed %s of %s: %s",
					     w->partition,
					     dhp_notification_name((enum dhp_notification)w->note), id, reason);
		return dhp_error_set(err, rc ? rc : -EPERM, "the OS of partition %u vetoed %s of %s",
				     w->partition, dhp_notification_name((enum dhp_notification)w->note), id);
	case DHP_SIM_ONLINE:
		return dhp_error_set(err, rc ? rc : -EAGAIN, "the OS could not bring %s online", id);
	case DHP_SIM_OFFLINE:
		if (w->unit && w->unit->type == DHP_UNIT_MEMORY)
			return dhp_error_set(err, rc ? rc : -EAGAIN,
					     "memory module %s is still in use: its pages could not be migrated",
					     id);
		return dhp_error_set(err, rc ? rc : -EAGAIN, "the OS could not take %s offline", id);
	default:
		return dhp_error_set(err, rc ? rc : -EIO, "%s of %s failed in the hardware",
				     dhp_sim_call_name(w->call), w->unit ? id : "the partition");
	}
}

static int schedule_unit(struct dhp_backend *be, enum dhp_sim_call call,
			 const struct dhp_partition *p, const struct dhp_unit *unit,
			 const struct dhp_unit *unit2, struct dhp_backend_cb cb)
{
	struct sim_work w = {
		.call = call,
		.note = DHP_SIM_ANY_NOTE,
		.partition = p ? p->id : unit->partition,
		.profile = p ? p->profile : NULL,
		.unit = unit,
		.unit2 = unit2,
	};

	return sim_schedule(to_sim(be), cb, &w);
}

int sim_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	      struct dhp_backend_cb cb)
{
	return schedule_unit(be, on ? DHP_SIM_POWER_ON : DHP_SIM_POWER_OFF, NULL, unit, NULL, cb);
}

int sim_partition_start(struct dhp_backend *be, const struct dhp_partition *p,
			const struct dhp_unit *const *units, size_t n_units,
			struct dhp_backend_cb cb)
{
	struct sim_work w = {
		.call = DHP_SIM_START, .note = DHP_SIM_ANY_NOTE,
		.partition = p->id, .profile = p->profile, .n_units = n_units,
	};

	w.units = calloc(n_units ? n_units : 1, sizeof(*w.units));
	if (!w.units)
		return -ENOMEM;
	memcpy(w.units, units, n_units * sizeof(*w.units));
	return sim_schedule(to_sim(be), cb, &w);
}

int sim_partition_stop(struct dhp_backend *be, const struct dhp_partition *p,
		       struct dhp_backend_cb cb)
{
	struct sim_work w = {
		.call = DHP_SIM_STOP, .note = DHP_SIM_ANY_NOTE,
		.partition = p->id, .profile = p->profile,
	};

	return sim_schedule(to_sim(be), cb, &w);
}

int sim_notify(struct dhp_backend *be, const struct dhp_partition *p,
	       enum dhp_notification note, const struct dhp_unit *unit,
	       struct dhp_backend_cb cb)
{
	struct sim_work w = {
		.call = DHP_SIM_NOTIFY, .note = (int)note,
		.partition = p->id, .profile = p->profile, .unit = unit,
	};

	return sim_schedule(to_sim(be), cb, &w);
}

int sim_attach(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return schedule_unit(be, DHP_SIM_ATTACH, p, unit, NULL, cb);
}

int sim_detach(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return schedule_unit(be, DHP_SIM_DETACH, p, unit, NULL, cb);
}

int sim_online(struct dhp_backend *be, const struct dhp_partition *p,
	       const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return schedule_unit(be, DHP_SIM_ONLINE, p, unit, NULL, cb);
}

int sim_offline(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return schedule_unit(be, DHP_SIM_OFFLINE, p, unit, NULL, cb);
}

int sim_move(struct dhp_backend *be, const struct dhp_partition *p,
	     const struct dhp_unit *from, const struct dhp_unit *to,
	     struct dhp_backend_cb cb)
{
	return schedule_unit(be, DHP_SIM_MOVE, p, from, to, cb);
}
