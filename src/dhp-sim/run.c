/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim: running one request on the engine, with its events printed as
 * they happen and its outcome line at the end; errors as the program
 * prints them.
 */
#include "dhp-sim/dhp-sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sim_print_error(const struct dhp_error *err)
{
	fflush(stdout);
	fprintf(stderr, PROG ": %s\n", err->message[0] ? err->message : dhp_error_name(err->code));
	if (err->resolution[0])
		fprintf(stderr, "  hint: %s\n", err->resolution);
}

/* ---- describing operations and events ---- */

__attribute__((format(printf, 4, 5)))
static void buf_add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	*pos = n < 0 ? len : *pos + (size_t)n;
}

static const char *unit_name(const struct dhp_server *server, uint32_t index)
{
	return index < server->n_units ? server->units[index].id : "?";
}

void sim_describe_op(const struct dhp_server *server, const struct dhp_op *op,
		     char *buf, size_t len)
{
	const char *p = op->partition_name[0] ? op->partition_name : "-";
	size_t pos = 0;

	buf[0] = '\0';
	buf_add(buf, len, &pos, "%s", dhp_op_kind_name(op->kind));
	if (op->kind == DHP_OP_CREATE)
		buf_add(buf, len, &pos, " %s (%s:", p, op->profile ? op->profile->name : "?");
	for (unsigned i = 0; i < op->n_units; i++)
		buf_add(buf, len, &pos, " %s", unit_name(server, op->units[i]));
	switch (op->kind) {
	case DHP_OP_CREATE:
		buf_add(buf, len, &pos, ")");
		break;
	case DHP_OP_ASSIGN:
	case DHP_OP_HOT_ADD:
		buf_add(buf, len, &pos, " -> %s", p);
		break;
	case DHP_OP_UNASSIGN:
	case DHP_OP_HOT_REMOVE:
		buf_add(buf, len, &pos, " from %s", p);
		break;
	case DHP_OP_HOT_REPLACE:
		buf_add(buf, len, &pos, " -> %s in %s",
			op->spare >= 0 ? unit_name(server, (uint32_t)op->spare) : "?", p);
		break;
	case DHP_OP_POWER_ON:
	case DHP_OP_POWER_OFF:
		break;
	default:
		buf_add(buf, len, &pos, " %s", p);
		break;
	}
	if (op->staged)
		buf_add(buf, len, &pos, " at restart");
}

/* An event as it happens: "  [ 120] hot-add 3: phase attach done". */
static void print_live_event(struct sim *s, const struct dhp_event *ev)
{
	unsigned long long t = dhp_loop_now(s->loop) - s->t0;

	if (ev->unit[0] && !strstr(ev->text, ev->unit))
		printf("  [%4llu] %s (%s)\n", t, ev->text, ev->unit);
	else
		printf("  [%4llu] %s\n", t, ev->text);
}

void sim_on_event(void *ctx, const struct dhp_event *ev)
{
	struct sim *s = ctx;

	if (s->recovering && !s->n_recovery_events++)
		printf("recovering the state in %s:\n", s->opt.state_dir);
	print_live_event(s, ev);
}

void sim_on_op_end(void *ctx, const struct dhp_op *op)
{
	struct sim *s = ctx;

	if (op->id != s->watch_id)
		return;
	s->watch_op = *op;
	s->watch_ended = true;
}

void sim_run_until(struct sim *s, const bool *flag)
{
	while (!*flag && dhp_loop_pending(s->loop))
		dhp_loop_run_once(s->loop);
}

/* ---- running one request ---- */

static void print_outcome(struct sim *s, const struct dhp_op *op)
{
	char what[512];
	unsigned long long ms = op->ended_ms >= op->created_ms ? op->ended_ms - op->created_ms : 0;

	sim_describe_op(s->server, op, what, sizeof(what));
	if (op->state == DHP_OP_COMPLETED) {
		printf("operation %llu %s: completed (%llu ms)\n", (unsigned long long)op->id,
		       what, ms);
		return;
	}
	printf("operation %llu %s: %s: %s\n", (unsigned long long)op->id, what,
	       dhp_op_state_name(op->state), op->error.message);
	if (op->error.resolution[0])
		printf("  hint: %s\n", op->error.resolution);
}

int sim_run(struct sim *s, const struct dhp_request *req, struct dhp_op *ret_op,
	    struct dhp_error *err)
{
	uint64_t id = 0;
	int r;

	s->t0 = dhp_loop_now(s->loop);
	s->watch_ended = false;
	r = dhp_core_submit(s->core, req, &id, err);
	if (r < 0)
		return SIM_EXIT_REFUSED;
	s->watch_id = id;
	sim_run_until(s, &s->watch_ended);
	s->watch_id = 0;
	if (!s->watch_ended) {
		dhp_error_set(err, -EIO, "operation %llu did not end", (unsigned long long)id);
		sim_print_error(err);
		return SIM_EXIT_STATE;
	}
	print_outcome(s, &s->watch_op);
	if (ret_op)
		*ret_op = s->watch_op;
	return s->watch_op.state == DHP_OP_COMPLETED ? SIM_EXIT_OK : SIM_EXIT_FAILED;
}
