/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/TaskService: every operation is a Task (tasks-json.c), kept
 * as long as the store keeps the operation: every unfinished one, and the
 * newest finished ones up to dhpd's --task-retention (docs/store.md,
 * "Retention"); a client may DELETE a finished one. Each has a task
 * monitor: what a 202 points its client to.
 */
#include "redfish/resources/resources.h"

#include <stdlib.h>
#include <sys/time.h>

/* Operations read from the store at a time, listing the collection. */
#define LIST_PAGE 256

static void service_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct timeval tv;
	char now[32];
	json_t *svc = rf_resource(RF_T_TASKSVC, "TaskService", "Task Service", RF_TASKSERVICE);

	(void)rf, (void)req;
	gettimeofday(&tv, NULL);
	rf_time((uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000, now, sizeof(now));
	if (svc) {
		json_object_set_new(svc, "Description", json_string(
			"Every operation dhp runs, from request to outcome"));
		json_object_set_new(svc, "Status", rf_status("Enabled", "OK"));
		json_object_set_new(svc, "ServiceEnabled", json_true());
		json_object_set_new(svc, "DateTime", json_string(now));
		/* Retention prunes the oldest finished tasks (docs/store.md). */
		json_object_set_new(svc, "CompletedTaskOverWritePolicy", json_string("Oldest"));
		/* Each operation's state changes are events on the SSE stream. */
		json_object_set_new(svc, "LifeCycleEventOnTaskStateChange", json_true());
		json_object_set_new(svc, "Tasks", rf_link(RF_TASKS));
	}
	rf_send(res, 200, svc);
}

/*
 * Every operation kept, oldest first, read a page at a time so that the
 * operations are never in memory at once (only their links). Retention
 * bounds the collection; $top/$skip and their Members@odata.nextLink
 * are routes.c's, on the whole list (query-apply.c).
 */
static void tasks_list(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res)
{
	struct dhp_core *core = rf_core(rf);
	json_t *coll = rf_collection(RF_T_TASKS, "Task Collection", RF_TASKS);
	uint64_t after = 0;
	struct dhp_error err = { 0 };

	(void)req;
	while (coll) {
		struct dhp_op *ops = NULL;
		size_t n = 0;

		if (dhp_store_list_ops(dhp_core_store(core), dhp_core_server(core), after, LIST_PAGE,
				       &ops, &n, &err) < 0) {
			json_decref(coll);
			rf_error_from(res, &err);
			return;
		}
		for (size_t i = 0; i < n; i++)
			rf_members_add(coll, "Members",
				       rf_link(RF_TASKS "/%llu", (unsigned long long)ops[i].id));
		after = n ? ops[n - 1].id : after;
		free(ops);
		if (n < LIST_PAGE)
			break;
	}
	rf_send(res, 200, coll);
}

/* A task id: decimal digits of a number the store could hold. */
static bool parse_id(const char *s, uint64_t *ret_id)
{
	uint64_t id = 0;

	if (!*s || *s == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || id > (UINT64_MAX - 9) / 10)
			return false;
		id = id * 10 + (uint64_t)(*s - '0');
	}
	*ret_id = id;
	return true;
}

/* The operation of a task URI, or an error in res. */
static int task_op(struct redfish *rf, const struct rf_request *req, struct http_response *res,
		   struct dhp_op *ret_op)
{
	uint64_t id;
	int r = 0;

	if (!parse_id(req->params[0], &id) || (r = rf_find_op(rf, id, ret_op)) == -ENOENT) {
		rf_not_found(res, "Task", req->params[0]);
		return -ENOENT;
	}
	if (r < 0)
		rf_error(res, 500, "InternalError", NULL,
			 "The request failed due to an internal service error.  The service is "
			 "still operational.");
	return r;
}

/* Allow says whether DELETE would be taken now (DSP0266: Allow on GET). */
static void task_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_op op;

	if (task_op(rf, req, res, &op) < 0)
		return;
	rf_send(res, 200, rf_task_json(rf, &op));
	if (res->status == 200)
		http_header(res, "Allow", "%s", dhp_op_state_final(op.state) && !dhp_core_active_op(
		    rf_core(rf), op.id) ? "GET, HEAD, DELETE" : "GET, HEAD");
}

/* A finished task goes for good, 204; a running one is 409 ResourceInUse. */
static void task_delete(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_error err = { 0 };
	struct dhp_op op;
	uint64_t id;
	int r;

	if (!parse_id(req->params[0], &id)) {
		rf_not_found(res, "Task", req->params[0]);
		return;
	}
	/* If-Match against the Task as GET shows it (built only when asked:
	 * its messages come from the store). */
	if (req->if_match && (task_op(rf, req, res, &op) < 0 ||
			      rf_precondition(res, req->if_match, rf_task_json(rf, &op)) < 0))
		return;
	r = dhp_core_delete_op(rf_core(rf), id, &err);
	if (r == -ENOENT)
		rf_not_found(res, "Task", req->params[0]);
	else if (r < 0)
		rf_error_from(res, &err);
	else
		rf_ok(res, 204, NULL);
}

/* 202 while the operation runs, 200 once it has ended: the Task each time. */
static void monitor_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_op op;

	if (task_op(rf, req, res, &op) == 0)
		rf_send(res, dhp_op_state_final(op.state) ? 200 : 202, rf_task_json(rf, &op));
}

const struct rf_route rf_routes_tasks[] = {
	{ HTTP_GET, RF_TASKSERVICE, service_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_TASKS, tasks_list, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_TASKS "/{}", task_get, AUTH_PRIV_LOGIN },
	{ HTTP_DELETE, RF_TASKS "/{}", task_delete, AUTH_PRIV_CONFIGURE_MANAGER },
	{ HTTP_GET, RF_MONITORS "/{}", monitor_get, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
