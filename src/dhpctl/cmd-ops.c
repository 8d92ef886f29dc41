/* SPDX-License-Identifier: MIT */
/* `ops`: the operations (Redfish Tasks), or one with its phases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define TASKS "/redfish/v1/TaskService/Tasks"
#define MONITORS "/redfish/v1/TaskService/TaskMonitors"

static const struct col op_cols[] = {
	{ "id", "OP", COL_TEXT, true },
	{ "state", "STATE", COL_TEXT, false },
	{ "took_ms", "TOOK", COL_MS, true },
	{ "what", "WHAT", COL_TEXT, false },
};

static json_t *op_row(const json_t *task)
{
	const char *state = task_state(task), *why = jstr(task, "Oem/Dhp/Error/Message", NULL);
	long long id = 0, took = task_took_ms(task);
	char what[1024];

	task_describe(task, what, sizeof(what));
	if (!jint(task, "Id", &id))
		id = 0;
	return json_pack("{sI ss so ss ss?}", "id", (json_int_t)id, "state", state,
			 "took_ms", took >= 0 ? json_integer(took) : json_null(),
			 "what", what, "error", strcmp(state, "completed") ? why : NULL);
}

static int by_id(const void *a, const void *b)
{
	long long x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	long long y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));

	return (x > y) - (x < y);
}

static int list_ops(struct ctl *ctl)
{
	struct table t = { op_cols, sizeof(op_cols) / sizeof(op_cols[0]), "error",
			   "no operations", NULL };
	struct ctl_error err = { 0 };
	json_t *tasks, *task, **rows;
	size_t i, n;

	if (collection_get(ctl, TASKS, NULL, &tasks, &err) < 0)
		return ctl_error_print(&err);
	n = json_array_size(tasks);
	rows = calloc(n ? n : 1, sizeof(*rows));
	t.rows = json_array();
	if (!rows || !t.rows) {
		free(rows);
		json_decref(t.rows);
		json_decref(tasks);
		ctl_error_set(&err, CTL_EXIT_FAILED, NULL, "out of memory");
		return ctl_error_print(&err);
	}
	json_array_foreach(tasks, i, task)
		rows[i] = op_row(task);
	/* Oldest first, by number: the collection's order is the server's. */
	qsort(rows, n, sizeof(*rows), by_id);
	for (i = 0; i < n; i++)
		if (rows[i])
			json_array_append_new(t.rows, rows[i]);
	table_print(ctl, &t);
	free(rows);
	json_decref(t.rows);
	json_decref(tasks);
	return CTL_EXIT_OK;
}

static void show_op(const json_t *task)
{
	const json_t *msgs = json_object_get(task, "Messages"), *m;
	int64_t start;
	bool precise;
	char when[48];
	size_t i;

	if (!parse_time_ms(jstr(task, "StartTime", NULL), &start, &precise)) {
		format_time_ms(start, when, sizeof(when));
		printf("started %s\n", when);
	}
	json_array_foreach(msgs, i, m)
		printf("  %s\n", jstr(m, "Message", jstr(m, "MessageId", "?")));
	task_print_outcome(task, -1);
}

int cmd_ops(struct ctl *ctl, const struct ctl_args *args)
{
	const char *id = args->n ? args->v[0] : NULL;
	struct ctl_error err = { 0 };
	char path[128], monitor[128];
	json_t *task;
	int rc = CTL_EXIT_OK;

	if (!id) {
		if (ctl_arg_opt(args, "wait"))
			return ctl_usage("ops: --wait needs an operation ID");
		return list_ops(ctl);
	}
	if (!ctl_valid_name(id))
		return ctl_usage("bad operation id \"%s\"", id);
	snprintf(path, sizeof(path), TASKS "/%s", id);
	if (http_get_json(ctl->http, path, &task, &err) < 0)
		return ctl_error_print(&err);
	if (ctl_arg_opt(args, "wait")) {
		snprintf(monitor, sizeof(monitor), MONITORS "/%s", id);
		rc = task_follow(ctl, jstr(task, "TaskMonitor", monitor), task, now_ms());
	} else if (ctl->json) {
		json_print(task);
	} else {
		show_op(task);
	}
	json_decref(task);
	return rc;
}
