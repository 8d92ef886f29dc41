/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim's listings: units, partitions, operations and events, as tables
 * on stdout.
 */
#include "dhp-sim/dhp-sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOW_PAGE 256

static const char *partition_name(struct sim *s, uint32_t id)
{
	const struct dhp_partition *p = id ? dhp_server_partition(s->server, id) : NULL;

	return p ? p->name : "-";
}

static int max_width(int width, const char *text)
{
	int n = (int)strlen(text);

	return n > width ? n : width;
}

/* "joins web at restart", "leaves at restart" or "-". */
static void unit_staged(struct sim *s, const struct dhp_unit *u, char *buf, size_t len)
{
	if (u->staged_partition)
		snprintf(buf, len, "joins %s at restart", partition_name(s, u->staged_partition));
	else if (u->staged_remove)
		snprintf(buf, len, "leaves at restart");
	else
		snprintf(buf, len, "-");
}

static void unit_size(const struct dhp_unit *u, char *buf, size_t len)
{
	if (u->type == DHP_UNIT_MEMORY)
		snprintf(buf, len, "%g GiB", (double)u->size_bytes / SIM_GIB);
	else
		snprintf(buf, len, "-");
}

void show_units(struct sim *s, bool free_only)
{
	int wid = 4, wmodel = 5, wpart = 9;
	unsigned shown = 0;
	char size[32], staged[DHP_NAME_MAX + 24];

	for (size_t i = 0; i < s->server->n_units; i++) {
		const struct dhp_unit *u = &s->server->units[i];

		wid = max_width(wid, u->id);
		wmodel = max_width(wmodel, u->model ? u->model : "-");
		wpart = max_width(wpart, partition_name(s, u->partition));
	}
	printf("%-*s  %-14s  %-*s  %8s  %-5s  %-8s  %-*s  %-4s  %s\n", wid, "UNIT", "TYPE",
	       wmodel, "MODEL", "SIZE", "POWER", "HEALTH", wpart, "PARTITION", "BOOT", "STAGED");
	for (size_t i = 0; i < s->server->n_units; i++) {
		const struct dhp_unit *u = &s->server->units[i];

		if (free_only && !dhp_unit_is_free(u))
			continue;
		unit_size(u, size, sizeof(size));
		unit_staged(s, u, staged, sizeof(staged));
		printf("%-*s  %-14s  %-*s  %8s  %-5s  %-8s  %-*s  %-4s  %s\n", wid, u->id,
		       dhp_unit_type_name(u->type), wmodel, u->model ? u->model : "-", size,
		       u->powered ? "on" : "off", dhp_health_name(u->health), wpart,
		       partition_name(s, u->partition), u->boot ? "boot" : "-", staged);
		shown++;
	}
	if (free_only && !shown)
		printf("no free units\n");
}

static double partition_gib(struct sim *s, uint32_t id)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < s->server->n_units; i++)
		if (s->server->units[i].partition == id &&
		    s->server->units[i].type == DHP_UNIT_MEMORY)
			bytes += s->server->units[i].size_bytes;
	return (double)bytes / SIM_GIB;
}

/* "+1 -2": units staged to join and to leave at the next restart. */
static void partition_staged(struct sim *s, uint32_t id, char *buf, size_t len)
{
	unsigned join = 0, leave = 0;

	for (size_t i = 0; i < s->server->n_units; i++) {
		join += s->server->units[i].staged_partition == id;
		leave += s->server->units[i].partition == id && s->server->units[i].staged_remove;
	}
	if (join || leave)
		snprintf(buf, len, "+%u -%u", join, leave);
	else
		snprintf(buf, len, "-");
}

static int partition_name_width(struct sim *s)
{
	int w = 9;

	for (size_t i = 0; i < s->server->n_partitions; i++)
		w = max_width(w, s->server->partitions[i]->name);
	return w;
}

void show_partitions(struct sim *s)
{
	int w = partition_name_width(s);
	char staged[32];

	if (!s->server->n_partitions) {
		printf("no partitions\n");
		return;
	}
	printf("%-*s  %4s  %-23s  %-8s  %4s  %8s  %3s  %-36s  %s\n", w, "PARTITION", "ID",
	       "PROFILE", "STATE", "CPUS", "MEMORY", "IO", "UUID", "STAGED");
	for (size_t i = 0; i < s->server->n_partitions; i++) {
		const struct dhp_partition *p = s->server->partitions[i];
		const struct dhp_server *srv = s->server;

		partition_staged(s, p->id, staged, sizeof(staged));
		printf("%-*s  %4u  %-23s  %-8s  %4u  %4g GiB  %3u  %-36s  %s\n", w, p->name, p->id,
		       p->profile->name, dhp_partition_state_name(p->state),
		       dhp_server_count_units(srv, p->id, DHP_UNIT_PROCESSOR),
		       partition_gib(s, p->id),
		       dhp_server_count_units(srv, p->id, DHP_UNIT_IO_HOST_BRIDGE), p->uuid, staged);
	}
}

/* Every partition with its units, for the end of the demo. */
void show_summary(struct sim *s)
{
	int w = partition_name_width(s);

	printf("%-*s  %-23s  %-8s  %s\n", w, "PARTITION", "PROFILE", "STATE", "UNITS");
	for (size_t i = 0; i < s->server->n_partitions; i++) {
		const struct dhp_partition *p = s->server->partitions[i];

		printf("%-*s  %-23s  %-8s ", w, p->name, p->profile->name,
		       dhp_partition_state_name(p->state));
		for (size_t j = 0; j < s->server->n_units; j++)
			if (s->server->units[j].partition == p->id)
				printf(" %s", s->server->units[j].id);
		printf("\n");
	}
}

/* ---- operations ---- */

typedef void (*op_visit_fn)(struct sim *s, const struct dhp_op *op, size_t index, void *ctx);

/* Visit every journaled operation, oldest first. */
static int for_each_op(struct sim *s, op_visit_fn fn, void *ctx)
{
	struct dhp_error err = { 0 };
	uint64_t after = 0;
	size_t index = 0;

	for (;;) {
		struct dhp_op *ops = NULL;
		size_t n = 0;

		if (dhp_store_list_ops(s->store, s->server, after, SHOW_PAGE, &ops, &n, &err) < 0) {
			sim_print_error(&err);
			return SIM_EXIT_STATE;
		}
		for (size_t i = 0; i < n; i++)
			fn(s, &ops[i], index++, ctx);
		if (n)
			after = ops[n - 1].id;
		free(ops);
		if (n < SHOW_PAGE)
			return SIM_EXIT_OK;
	}
}

static void count_op(struct sim *s, const struct dhp_op *op, size_t index, void *ctx)
{
	(void)s, (void)op, (void)index;
	++*(size_t *)ctx;
}

static void print_op(struct sim *s, const struct dhp_op *op, size_t index, void *ctx)
{
	char what[512], took[32];

	if (index < *(size_t *)ctx)
		return;		/* before the last N */
	sim_describe_op(s->server, op, what, sizeof(what));
	if (dhp_op_state_final(op->state) && op->ended_ms >= op->created_ms)
		snprintf(took, sizeof(took), "%llu ms",
			 (unsigned long long)(op->ended_ms - op->created_ms));
	else
		snprintf(took, sizeof(took), "-");
	printf("%4llu  %-11s  %8s  %s\n", (unsigned long long)op->id,
	       dhp_op_state_name(op->state), took, what);
	if (op->state != DHP_OP_COMPLETED && op->error.message[0])
		printf("%4s  %s\n", "", op->error.message);
}

/* The last `last` operations (0: all). */
int show_ops(struct sim *s, size_t last)
{
	size_t n = 0, skip;
	int rc = for_each_op(s, count_op, &n);

	if (rc)
		return rc;
	if (!n) {
		printf("no operations\n");
		return SIM_EXIT_OK;
	}
	skip = last && n > last ? n - last : 0;
	printf("%4s  %-11s  %8s  %s\n", "OP", "STATE", "TOOK", "WHAT");
	return for_each_op(s, print_op, &skip);
}

/* ---- events ---- */

static void event_time(uint64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	if (!localtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(day, sizeof(day), "?");
	snprintf(buf, len, "%s.%03u", day, (unsigned)(ms % 1000));
}

static void print_event(const struct dhp_event *ev)
{
	char when[48];

	event_time(ev->time_ms, when, sizeof(when));
	printf("%6llu  %s  %-9s  %s", (unsigned long long)ev->seq, when,
	       dhp_event_kind_name(ev->kind), ev->text);
	if (ev->unit[0] && !strstr(ev->text, ev->unit))
		printf(" (%s)", ev->unit);
	printf("\n");
}

/* The last `last` events (0: all). */
int show_events(struct sim *s, size_t last)
{
	struct dhp_error err = { 0 };
	uint64_t top = dhp_store_last_event(s->store);
	uint64_t after = last && top > last ? top - last : 0;
	bool any = false;

	for (;;) {
		struct dhp_event *evs = NULL;
		size_t n = 0;

		if (dhp_store_events(s->store, after, SHOW_PAGE, &evs, &n, &err) < 0) {
			sim_print_error(&err);
			return SIM_EXIT_STATE;
		}
		if (n && !any)
			printf("%6s  %-23s  %-9s  %s\n", "SEQ", "TIME", "KIND", "TEXT");
		for (size_t i = 0; i < n; i++)
			print_event(&evs[i]);
		any = any || n;
		if (n)
			after = evs[n - 1].seq;
		free(evs);
		if (n < SHOW_PAGE)
			break;
	}
	if (!any)
		printf("no events\n");
	return SIM_EXIT_OK;
}
