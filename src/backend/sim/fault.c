/* SPDX-License-Identifier: MIT */
/* Fault injection for the simulated backend: matching and the spec syntax. */
#include "backend/sim/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const call_names[DHP_SIM_CALL_MAX] = {
	[DHP_SIM_POWER_ON] = "power-on",
	[DHP_SIM_POWER_OFF] = "power-off",
	[DHP_SIM_START] = "start",
	[DHP_SIM_STOP] = "stop",
	[DHP_SIM_NOTIFY] = "notify",
	[DHP_SIM_ATTACH] = "attach",
	[DHP_SIM_DETACH] = "detach",
	[DHP_SIM_ONLINE] = "online",
	[DHP_SIM_OFFLINE] = "offline",
	[DHP_SIM_MOVE] = "move",
};

const char *dhp_sim_call_name(enum dhp_sim_call call)
{
	return (unsigned)call < DHP_SIM_CALL_MAX ? call_names[call] : "?";
}

static bool fault_matches(const struct dhp_sim_fault *f, enum dhp_sim_call call, int note,
			  const struct dhp_unit *unit, uint32_t partition)
{
	if (f->count == 0 || f->call != call)
		return false;
	if (f->note != DHP_SIM_ANY_NOTE && f->note != note)
		return false;
	if (f->unit[0] && (!unit || strcmp(f->unit, unit->id)))
		return false;
	return !f->partition || f->partition == partition;
}

struct sim_fault_hit sim_fault_match(struct sim *sim, enum dhp_sim_call call, int note,
				     const struct dhp_unit *unit, uint32_t partition)
{
	struct sim_fault_hit hit = { .effect = DHP_SIM_EFFECT_MAX };

	for (size_t i = 0; i < sim->n_faults; i++) {
		struct dhp_sim_fault *f = &sim->faults[i];

		if (!fault_matches(f, call, note, unit, partition))
			continue;
		if (f->count > 0)
			f->count--;
		sim->fired++;
		hit.effect = f->effect;
		hit.rc = f->rc;
		hit.delay_ms = f->delay_ms;
		snprintf(hit.reason, sizeof(hit.reason), "%s", f->reason);
		break;
	}
	return hit;
}

int dhp_sim_fault_add(struct dhp_backend *be, const struct dhp_sim_fault *fault,
		      struct dhp_error *err)
{
	struct sim *sim = to_sim(be);
	struct dhp_sim_fault *v;

	if ((unsigned)fault->call >= DHP_SIM_CALL_MAX ||
	    (unsigned)fault->effect >= DHP_SIM_EFFECT_MAX || fault->rc > 0 ||
	    (fault->note != DHP_SIM_ANY_NOTE && (unsigned)fault->note >= DHP_NOTIFY_MAX))
		return dhp_error_set(err, -EINVAL, "invalid fault");
	v = realloc(sim->faults, (sim->n_faults + 1) * sizeof(*v));
	if (!v)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	sim->faults = v;
	sim->faults[sim->n_faults++] = *fault;
	return 0;
}

void dhp_sim_fault_clear(struct dhp_backend *be)
{
	struct sim *sim = to_sim(be);

	free(sim->faults);
	sim->faults = NULL;
	sim->n_faults = 0;
}

unsigned dhp_sim_faults_fired(struct dhp_backend *be)
{
	return to_sim(be)->fired;
}

static int parse_effect(const char *text, struct dhp_sim_fault *f)
{
	char word[16];
	unsigned long arg = 0;
	int n = 0;

	if (sscanf(text, "%15[a-z]%n", word, &n) != 1)
		return -EINVAL;
	if (!strcmp(word, "veto") && text[n] == ':') {	/* veto:REASON, any text */
		if (!text[n + 1] || strlen(text + n + 1) >= sizeof(f->reason))
			return -EINVAL;
		snprintf(f->reason, sizeof(f->reason), "%s", text + n + 1);
		f->effect = DHP_SIM_FAIL;
		f->rc = -EPERM;
		return 0;
	}
	if (text[n] == ':') {
		char *end;

		arg = strtoul(text + n + 1, &end, 10);
		if (end == text + n + 1 || *end || arg > 3600000)
			return -EINVAL;
	} else if (text[n]) {
		return -EINVAL;
	}
	if (!strcmp(word, "fail") || !strcmp(word, "veto")) {
		f->effect = DHP_SIM_FAIL;
		f->rc = !strcmp(word, "veto") ? -EPERM : 0;
	} else if (!strcmp(word, "hang")) {
		f->effect = DHP_SIM_HANG;
	} else if (!strcmp(word, "slow")) {
		f->effect = DHP_SIM_SLOW;
		f->delay_ms = (uint32_t)(arg ? arg : 1000);
	} else if (!strcmp(word, "crash")) {
		f->effect = DHP_SIM_CRASH;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_call(char *text, struct dhp_sim_fault *f)
{
	char *slash = strchr(text, '/'), *at, *colon;

	if (slash) {
		char *end;
		unsigned long id = strtoul(slash + 1, &end, 10);

		if (end == slash + 1 || *end || id == 0 || id > UINT32_MAX)
			return -EINVAL;
		f->partition = (uint32_t)id;
		*slash = '\0';
	}
	at = strchr(text, '@');
	if (at) {
		if (strlen(at + 1) == 0 || strlen(at + 1) >= sizeof(f->unit))
			return -EINVAL;
		snprintf(f->unit, sizeof(f->unit), "%s", at + 1);
		*at = '\0';
	}
	colon = strchr(text, ':');
	if (colon) {
		*colon = '\0';
		for (int i = 0; i < DHP_NOTIFY_MAX; i++)
			if (!strcmp(colon + 1, dhp_notification_name((enum dhp_notification)i)))
				f->note = i;
		if (f->note == DHP_SIM_ANY_NOTE)
			return -EINVAL;
	}
	for (int i = 0; i < DHP_SIM_CALL_MAX; i++)
		if (!strcmp(text, call_names[i])) {
			f->call = (enum dhp_sim_call)i;
			return colon && f->call != DHP_SIM_NOTIFY ? -EINVAL : 0;
		}
	return -EINVAL;
}

int dhp_sim_fault_parse(const char *spec, struct dhp_sim_fault *ret_fault,
			struct dhp_error *err)
{
	struct dhp_sim_fault f = { .note = DHP_SIM_ANY_NOTE, .count = -1 };
	char buf[128], *eq, *star;

	if (!spec || strlen(spec) >= sizeof(buf))
		return dhp_error_set(err, -EINVAL, "fault spec too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	star = strrchr(buf, '*');
	if (star) {
		char *end;
		long count = strtol(star + 1, &end, 10);

		if (end == star + 1 || *end || count < 1 || count > 1000000)
			goto bad;
		f.count = (int)count;
		*star = '\0';
	}
	eq = strchr(buf, '=');
	if (!eq)
		goto bad;
	*eq = '\0';
	if (parse_call(buf, &f) || parse_effect(eq + 1, &f))
		goto bad;
	*ret_fault = f;
	return 0;
bad:
	dhp_error_set(err, -EINVAL, "invalid fault \"%s\"", spec);
	dhp_error_resolve(err, "write CALL[:NOTE][@UNIT][/PARTITION]=EFFECT[:ARG][*COUNT], "
			  "e.g. notify:add-start=veto or offline@s0-mem1=fail; see docs/sim.md");
	return -EINVAL;
}

int dhp_sim_faults_configure(struct dhp_backend *be, const char *specs,
			     struct dhp_error *err)
{
	char *copy = strdup(specs ? specs : ""), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		struct dhp_sim_fault f;

		r = dhp_sim_fault_parse(tok, &f, err);
		if (!r)
			r = dhp_sim_fault_add(be, &f, err);
	}
	free(copy);
	return r;
}
