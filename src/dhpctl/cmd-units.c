/* SPDX-License-Identifier: MIT */
/*
 * The hardware: `server` (the Chassis, its backend and a count of its units),
 * `units` (the ResourceBlocks), `power-on` and `power-off` (a free unit).
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define BLOCKS "/redfish/v1/CompositionService/ResourceBlocks"
/* What unit_row() and count_units() read of a resource block. */
#define UNIT_PROPERTIES "Id,ResourceBlockType,Status/Health,"				\
			"CompositionStatus/CompositionState,Links/ComputerSystems,"	\
			"Oem/Dhp/Type,Oem/Dhp/Model,Oem/Dhp/SizeMiB,Oem/Dhp/Powered,"	\
			"Oem/Dhp/Spare"

static const struct col unit_cols[] = {
	{ "id", "UNIT", COL_TEXT, false },
	{ "type", "TYPE", COL_TEXT, false },
	{ "model", "MODEL", COL_TEXT, false },
	{ "size_mib", "SIZE", COL_MIB, true },
	{ "power", "POWER", COL_TEXT, false },
	{ "health", "HEALTH", COL_TEXT, false },
	{ "state", "STATE", COL_TEXT, false },
	{ "partition", "PARTITION", COL_TEXT, false },
};

static const char *const unit_types[] = { "processor", "memory", "io-host-bridge" };

/* dhp's type word, from Oem.Dhp.Type or else the ResourceBlockType. */
static const char *unit_type(const json_t *rb)
{
	const char *t = jstr(rb, "Oem/Dhp/Type", NULL);
	const char *rt = json_string_value(json_array_get(jget(rb, "ResourceBlockType"), 0));

	if (t)
		return t;
	if (rt && !strcmp(rt, "Processor"))
		return "processor";
	if (rt && !strcmp(rt, "Memory"))
		return "memory";
	if (rt && !strcmp(rt, "Expansion"))
		return "io-host-bridge";
	return "-";
}

/* Redfish's Health in dhp's words (docs/glossary.md). */
static const char *unit_health(const json_t *rb)
{
	const char *h = jstr(rb, "Status/Health", NULL);

	if (!h)
		return "-";
	return !strcmp(h, "OK") ? "ok" : !strcmp(h, "Warning") ? "degraded" :
	       !strcmp(h, "Critical") ? "failed" : h;
}

/* The CompositionState in lowercase; "Unused" is what dhp calls free, or
 * spare for a free unit of the spare pool. */
static void unit_state(const json_t *rb, char *buf, size_t len)
{
	const char *s = jstr(rb, "CompositionStatus/CompositionState", "-");

	snprintf(buf, len, "%s", strcmp(s, "Unused") ? s :
		 json_is_true(jget(rb, "Oem/Dhp/Spare")) ? "spare" : "free");
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

static json_t *unit_row(const json_t *rb)
{
	const json_t *powered = jget(rb, "Oem/Dhp/Powered");
	const json_t *size = jget(rb, "Oem/Dhp/SizeMiB");
	const char *owner = ref_id(json_array_get(jget(rb, "Links/ComputerSystems"), 0));
	char state[32];

	unit_state(rb, state, sizeof(state));
	return json_pack("{ss ss ss so ss ss ss ss?}",
			 "id", jstr(rb, "Id", ref_id(rb) ? ref_id(rb) : "?"),
			 "type", unit_type(rb),
			 "model", jstr(rb, "Oem/Dhp/Model", "-"),
			 "size_mib", json_is_number(size) ? json_copy((json_t *)size) : json_null(),
			 "power", json_is_boolean(powered) ? (json_is_true(powered) ? "on" : "off") : "-",
			 "health", unit_health(rb),
			 "state", state,
			 "partition", owner);
}

int cmd_units(struct ctl *ctl, const struct ctl_args *args)
{
	const char *type = ctl_arg_opt(args, "type");
	bool free_only = ctl_arg_opt(args, "free") != NULL, known = !type;
	bool spares = ctl_arg_opt(args, "spares") != NULL;
	struct table t = { unit_cols, sizeof(unit_cols) / sizeof(unit_cols[0]), NULL,
			   free_only ? "no free units" : "no units", NULL };

	if (ctl_arg_opt(args, "spares"))
		t.empty = "no spares";
	struct ctl_error err = { 0 };
	json_t *blocks, *rb;
	size_t i;

	for (size_t k = 0; type && k < sizeof(unit_types) / sizeof(unit_types[0]); k++)
		known = known || !strcmp(type, unit_types[k]);
	if (!known)
		return ctl_usage("unknown unit type \"%s\" (processor, memory or io-host-bridge)",
				 type);
	if (collection_get(ctl, BLOCKS, UNIT_PROPERTIES, &blocks, &err) < 0)
		return ctl_error_print(&err);
	t.rows = json_array();
	json_array_foreach(blocks, i, rb) {
		json_t *row = unit_row(rb);

		if (!row)
			continue;
		const char *state = jstr(row, "state", "");

		if ((free_only && strcmp(state, "free") && strcmp(state, "spare")) ||
		    (spares && strcmp(state, "spare")) ||
		    (type && strcmp(jstr(row, "type", ""), type)))
			json_decref(row);
		else
			json_array_append_new(t.rows, row);
	}
	table_print(ctl, &t);
	json_decref(t.rows);
	json_decref(blocks);
	return CTL_EXIT_OK;
}

/* "36: 16 processors, 16 memory modules (32 GiB), 4 I/O host bridges" */
static void count_units(const json_t *blocks, bool free_only)
{
	unsigned n = 0, cpu = 0, mem = 0, io = 0;
	double mib = 0;
	const json_t *rb;
	char state[32];
	size_t i;

	json_array_foreach(blocks, i, rb) {
		const char *type = unit_type(rb);

		unit_state(rb, state, sizeof(state));
		if (free_only && strcmp(state, "free") && strcmp(state, "spare"))
			continue;
		n++;
		cpu += !strcmp(type, "processor");
		io += !strcmp(type, "io-host-bridge");
		if (!strcmp(type, "memory")) {
			mem++;
			mib += json_number_value(jget(rb, "Oem/Dhp/SizeMiB"));
		}
	}
	printf("%-11s %u: %u processors, %u memory modules (%g GiB), %u I/O host bridges\n",
	       free_only ? "free" : "units", n, cpu, mem, mib / 1024, io);
}

static void count_partitions(const json_t *systems)
{
	unsigned running = 0;
	const json_t *s;
	size_t i;

	json_array_foreach(systems, i, s)
		running += !strcmp(jstr(s, "Oem/Dhp/State", ""), "running");
	printf("%-11s %zu: %u running\n", "partitions", json_array_size(systems), running);
}

/*
 * "backend     qemu 7.2.22 (tcg)" and "cpu remove  park: <why>": what runs
 * the partitions and how a processor leaves one (docs/qemu.md). Nothing
 * from a server that does not say.
 */
static void print_backend(const json_t *chassis)
{
	const char *backend = jstr(chassis, "Oem/Dhp/Backend", NULL);
	const char *version = jstr(chassis, "Oem/Dhp/BackendVersion", NULL);
	const char *accel = jstr(chassis, "Oem/Dhp/Accelerator", NULL);
	const char *method = jstr(chassis, "Oem/Dhp/ProcessorRemoveMethod", NULL);
	const char *why = jstr(chassis, "Oem/Dhp/ProcessorRemoveReason", NULL);

	if (backend) {
		printf("%-11s %s", "backend", backend);
		if (version)
			printf(" %s", version);
		if (accel)
			printf(" (%s)", accel);
		else if (!strcmp(backend, "sim"))
			printf(" (simulated hardware)");
		printf("\n");
	}
	if (method)
		printf("%-11s %s%s%s\n", "cpu remove", method, why ? ": " : "", why ? why : "");
}

int cmd_server(struct ctl *ctl, const struct ctl_args *args)
{
	struct ctl_error err = { 0 };
	json_t *chassis = NULL, *blocks = NULL, *systems = NULL, *c;
	size_t i;

	(void)args;
	if (collection_get(ctl, "/redfish/v1/Chassis", NULL, &chassis, &err) < 0 ||
	    (!ctl->json && (collection_get(ctl, BLOCKS, UNIT_PROPERTIES, &blocks, &err) < 0 ||
			    collection_get(ctl, "/redfish/v1/Systems", NULL, &systems, &err) < 0))) {
		json_decref(chassis);
		json_decref(blocks);
		return ctl_error_print(&err);
	}
	if (ctl->json) {
		json_print(json_array_size(chassis) == 1 ? json_array_get(chassis, 0) : chassis);
		json_decref(chassis);
		return CTL_EXIT_OK;
	}
	json_array_foreach(chassis, i, c) {
		long long sockets;

		printf("%-11s %s", "server", jstr(c, "Id", "?"));
		if (strcmp(jstr(c, "Name", ""), jstr(c, "Id", "")))
			printf(" (%s)", jstr(c, "Name", ""));
		printf(": %s partitioning", jstr(c, "Oem/Dhp/PartitioningMode", "unknown"));
		if (jint(c, "Oem/Dhp/Sockets", &sockets))
			printf(", %lld sockets", sockets);
		printf("\n");
		print_backend(c);
	}
	count_units(blocks, false);
	count_units(blocks, true);
	count_partitions(systems);
	json_decref(systems);
	json_decref(blocks);
	json_decref(chassis);
	return CTL_EXIT_OK;
}

int cmd_power(struct ctl *ctl, const struct ctl_args *args)
{
	bool on = !strcmp(ctl_current_cmd->name, "power-on");
	const char *unit = args->v[0];
	char path[256], done[128];
	json_t *body;
	int rc;

	if (!ctl_valid_name(unit))
		return ctl_usage("bad unit id \"%s\"", unit);
	snprintf(path, sizeof(path), BLOCKS "/%s/Actions/Oem/DhpResourceBlock.Power", unit);
	snprintf(done, sizeof(done), "unit %s powered %s", unit, on ? "on" : "off");
	body = json_pack("{ss}", "PowerState", on ? "On" : "Off");
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}
