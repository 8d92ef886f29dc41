/* SPDX-License-Identifier: MIT */
/*
 * A partition as a Redfish ComputerSystem, and the one rule that links
 * units to systems (rf_unit_system), which resource blocks use too, so the
 * two directions of a link always agree.
 */
#include "redfish/resources/resources.h"
#include "model/locality.h"

#include <stdio.h>

uint32_t rf_unit_system(struct dhp_core *core, const struct dhp_unit *u)
{
	const struct dhp_op *op;

	if (u->partition)
		return u->partition;
	if (u->staged_partition)
		return u->staged_partition;
	/* A create is answered (201) before its commit has run: its units
	 * are shown in the system from the start, as the answer says. */
	op = u->busy_op ? dhp_core_active_op(core, u->busy_op) : NULL;
	if (op && op->kind == DHP_OP_CREATE && !dhp_op_state_final(op->state))
		return op->partition;
	return 0;
}

struct dhp_partition *rf_partition(struct redfish *rf, const char *name)
{
	return dhp_server_partition_by_name(dhp_core_server(rf_core(rf)), name);
}

/* What the units the partition owns add up to. */
struct tally {
	unsigned cpus;
	uint64_t mem_bytes;
	const char *cpu_model;
	const char *health;
	const struct dhp_unit *boot;
	bool powered;
};

static const char *power_state(const struct dhp_partition *p, const struct tally *t)
{
	switch (p->state) {
	case DHP_PARTITION_STARTING:
		return "PoweringOn";
	case DHP_PARTITION_RUNNING:
		return "On";
	case DHP_PARTITION_STOPPING:
		return "PoweringOff";
	case DHP_PARTITION_FAILED:
		/* The OS is down; its units stay powered until it is stopped. */
		return t->powered ? "On" : "Off";
	default:
		return "Off";
	}
}

static json_t *status(const struct dhp_partition *p, const struct tally *t)
{
	static const char *const states[DHP_PARTITION_STATE_MAX] = {
		[DHP_PARTITION_STOPPED] = "StandbyOffline",	/* can be started */
		[DHP_PARTITION_STARTING] = "Starting",
		[DHP_PARTITION_RUNNING] = "Enabled",
		[DHP_PARTITION_STOPPING] = "Enabled",	/* runs until it has stopped */
		[DHP_PARTITION_FAILED] = "UnavailableOffline",
	};
	const char *health = p->state == DHP_PARTITION_FAILED ? "Critical" : t->health;

	return rf_status(states[p->state < DHP_PARTITION_STATE_MAX ? p->state : 0], health);
}

/* The actions and where to post them. */
/* The partition's actions: they depend on its name only (rf_cached). */
static json_t *make_actions(const char *name)
{
	char reset[160], add[160], rm[160], replace[160], info[160];
	char resize[160], resize_info[160], move[160], move_info[160];

	snprintf(reset, sizeof(reset), RF_SYSTEMS "/%s/Actions/ComputerSystem.Reset", name);
	snprintf(add, sizeof(add), RF_SYSTEMS "/%s/Actions/ComputerSystem.AddResourceBlock", name);
	snprintf(rm, sizeof(rm), RF_SYSTEMS "/%s/Actions/ComputerSystem.RemoveResourceBlock", name);
	snprintf(replace, sizeof(replace), RF_SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Replace",
		 name);
	snprintf(info, sizeof(info), RF_SYSTEMS "/%s/ReplaceActionInfo", name);
	snprintf(resize, sizeof(resize), RF_SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Resize",
		 name);
	snprintf(resize_info, sizeof(resize_info), RF_SYSTEMS "/%s/ResizeActionInfo", name);
	snprintf(move, sizeof(move), RF_SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Move", name);
	snprintf(move_info, sizeof(move_info), RF_SYSTEMS "/%s/MoveActionInfo", name);
	return json_pack("{s:{s:s, s:[s,s,s,s,s]}, s:{s:s}, s:{s:s},"
			 " s:{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}}",
			 "#ComputerSystem.Reset", "target", reset,
			 "ResetType@Redfish.AllowableValues", "On", "ForceOff",
			 "GracefulShutdown", "ForceRestart", "GracefulRestart",
			 "#ComputerSystem.AddResourceBlock", "target", add,
			 "#ComputerSystem.RemoveResourceBlock", "target", rm,
			 "Oem", "#DhpComputerSystem.Replace", "target", replace,
			 "@Redfish.ActionInfo", info,
			 "#DhpComputerSystem.Resize", "target", resize,
			 "@Redfish.ActionInfo", resize_info,
			 "#DhpComputerSystem.Move", "target", move,
			 "@Redfish.ActionInfo", move_info);
}

/*
 * Links.ResourceBlocks lists every unit rf_unit_system() gives the
 * partition: owned now (including those staged to leave) and staged to
 * join, so a client can PATCH back the list it read with one change.
 * Oem.Dhp.StagedResourceBlocks says which of them wait for a restart.
 */
static void add_units(struct dhp_core *core, const struct dhp_partition *p, json_t *links,
		      json_t *staged, struct tally *t)
{
	struct dhp_server *server = dhp_core_server(core);

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];

		if (rf_unit_system(core, u) != p->id)
			continue;
		rf_members_add(links, "ResourceBlocks", rf_link(RF_BLOCKS "/%s", u->id));
		if (u->staged_partition == p->id) {
			json_array_append_new(json_object_get(staged, "Add"),
					      rf_link(RF_BLOCKS "/%s", u->id));
			continue;
		}
		/* Owned, or being created with it: counted as owned. */
		if (u->staged_remove)
			json_array_append_new(json_object_get(staged, "Remove"),
					      rf_link(RF_BLOCKS "/%s", u->id));
		if (u->type == DHP_UNIT_PROCESSOR && !t->cpus++)
			t->cpu_model = u->model;
		if (u->type == DHP_UNIT_MEMORY)
			t->mem_bytes += u->size_bytes;
		if (u->boot)
			t->boot = u;
		t->powered |= u->powered;
		t->health = rf_health_worst(t->health, rf_health(u->health));
	}
}

/*
 * What the partition's OS can do online: for each online action, the unit
 * types its profile allows (model/profile.c, in the ResourceBlocks'
 * Oem.Dhp.Type words). Clients (the web console) show it and disable what
 * it forbids without a copy of the table; the engine refuses it anyway.
 */
static json_t *make_online_caps(const char *profile_name)
{
	const struct dhp_os_profile *profile = dhp_profile_find(profile_name);
	static const char *const keys[DHP_ONLINE_ACTION_MAX] = {
		[DHP_ONLINE_ADD] = "HotAdd",
		[DHP_ONLINE_REMOVE] = "HotRemove",
		[DHP_ONLINE_REPLACE] = "HotReplace",
	};
	json_t *caps = json_object();

	for (int a = 0; caps && a < DHP_ONLINE_ACTION_MAX; a++) {
		json_t *types = json_array();

		for (int t = 0; types && t < DHP_UNIT_TYPE_MAX; t++)
			if (dhp_profile_can(profile, (enum dhp_online_action)a, (enum dhp_unit_type)t))
				json_array_append_new(types, json_string(dhp_unit_type_name((enum dhp_unit_type)t)));
		json_object_set_new(caps, keys[a], types);
	}
	return caps;
}

/* Oem.Dhp.Locality (model/locality.h) over the units owned now, to three
 * decimals: finer is noise to a reader, and a figure that prints the
 * same keeps the ETag. null without a processor or memory. */
static json_t *locality(const struct dhp_server *server, const struct dhp_partition *p)
{
	double v = dhp_server_locality(server, p->id);

	if (v < 0)
		return json_null();
	return json_real((double)(long long)(v * 1000 + 0.5) / 1000);
}

json_t *rf_system_json(struct redfish *rf, const struct dhp_partition *p)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);
	struct tally t = { .health = "OK" };
	json_t *sys = rf_resource(RF_T_SYSTEM, p->name, p->name, RF_SYSTEMS "/%s", p->name);
	json_t *links = json_pack("{s:[], s:i, s:[o]}", "ResourceBlocks",
				  "ResourceBlocks@odata.count", 0, "Chassis", rf_chassis_link(server));
	json_t *staged = json_pack("{s:[], s:[]}", "Add", "Remove");
	json_t *summary;

	if (!sys || !links || !staged) {
		json_decref(sys), json_decref(links), json_decref(staged);
		return NULL;
	}
	add_units(core, p, links, staged, &t);
	json_object_set_new(sys, "Description", json_sprintf("dhp partition %u", p->id));
	/* Kept by the store for the partition's life; under QEMU it is also
	 * the guest's SMBIOS system UUID (docs/qemu.md). */
	json_object_set_new(sys, "UUID", json_string(p->uuid));
	json_object_set_new(sys, "SystemType", json_string("PhysicallyPartitioned"));
	json_object_set_new(sys, "PowerState", json_string(power_state(p, &t)));
	json_object_set_new(sys, "Status", status(p, &t));
	summary = json_pack("{s:I}", "Count", (json_int_t)t.cpus);
	if (summary && t.cpu_model)
		json_object_set_new(summary, "Model", json_string(t.cpu_model));
	json_object_set_new(sys, "ProcessorSummary", summary);
	json_object_set_new(sys, "MemorySummary",
			    json_pack("{s:f}", "TotalSystemMemoryGiB",
				      (double)t.mem_bytes / (double)(1ull << 30)));
	/* A partition boots the OS its profile names, from its own boot
	 * memory: there is no boot source to override. Clients such as sushy
	 * expect the property all the same. */
	json_object_set_new(sys, "Boot", json_pack("{s:s, s:s, s:[s]}",
		"BootSourceOverrideEnabled", "Disabled", "BootSourceOverrideTarget", "None",
		"BootSourceOverrideTarget@Redfish.AllowableValues", "None"));
	json_object_set_new(sys, "Processors", rf_link(RF_SYSTEMS "/%s/Processors", p->name));
	json_object_set_new(sys, "Memory", rf_link(RF_SYSTEMS "/%s/Memory", p->name));
	json_object_set_new(sys, "Links", links);
	json_object_set_new(sys, "Actions", rf_cached(rf, "actions", p->name, make_actions));
	json_object_set_new(sys, "@Redfish.OperationApplyTimeSupport",
			    json_pack("{s:s, s:[s,s]}", "@odata.type", RF_T_APPLYTIME,
				      "SupportedValues", "Immediate", "OnReset"));
	json_object_set_new(sys, "Oem", rf_oem(RF_T_OEM_SYSTEM, json_pack("{s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:o}",
		"OsProfile", p->profile ? p->profile->name : "linux",
		"OnlineCapabilities", rf_cached(rf, "caps", p->profile ? p->profile->name : "linux",
						make_online_caps),
		"State", dhp_partition_state_name(p->state),
		"PartitionId", (json_int_t)p->id,
		"BootMemory", t.boot ? rf_link(RF_BLOCKS "/%s", t.boot->id) : json_null(),
		"StagedResourceBlocks", staged,
		"Locality", locality(server, p),
		"Task", p->busy_op ? rf_link(RF_TASKS "/%llu", (unsigned long long)p->busy_op)
				   : json_null())));
	return sys;
}

bool rf_system_etag(struct redfish *rf, const struct dhp_partition *p, char *buf, size_t len)
{
	json_t *body = rf_system_json(rf, p);

	if (!body)
		return false;
	http_etag(body, buf, len);
	json_decref(body);
	return true;
}
