/* SPDX-License-Identifier: MIT */
/*
 * Private to the resource handlers of dhp's Redfish model (root, chassis,
 * systems, composition, tasks): the schema versions, the JSON pieces every
 * resource is made of, request checking, and the handlers that one file's
 * route table borrows from another. The accounts and sessions files use
 * its request checks (preconditions, NoOperation).
 *
 * Every builder returns a new JSON value (NULL when out of memory: the
 * caller's json_object_set_new() then drops it, and rf_send() answers 500
 * for a NULL body). docs/redfish.md is the contract these files implement.
 */
#ifndef DHP_REDFISH_RESOURCES_RESOURCES_H
#define DHP_REDFISH_RESOURCES_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redfish/internal.h"

#define RF_V1		"/redfish/v1"
#define RF_SYSTEMS	RF_V1 "/Systems"
#define RF_CHASSIS	RF_V1 "/Chassis"
#define RF_COMPOSITION	RF_V1 "/CompositionService"
#define RF_BLOCKS	RF_COMPOSITION "/ResourceBlocks"
#define RF_ZONES	RF_COMPOSITION "/ResourceZones"
#define RF_TASKSERVICE	RF_V1 "/TaskService"
#define RF_TASKS	RF_TASKSERVICE "/Tasks"
#define RF_MONITORS	RF_TASKSERVICE "/TaskMonitors"
/* The capabilities object sits where a system so named would: no
 * partition may take that name. */
#define RF_CAPS_ID	"Capabilities"
#define RF_SYSTEMS_CAPS	RF_SYSTEMS "/" RF_CAPS_ID

/* The newest version of each schema in ../shared/redfish/json-schema: one
 * place, so an upgrade is one edit (and $metadata follows, root.c). */
#define RF_T_ROOT	"#ServiceRoot.v1_20_0.ServiceRoot"
#define RF_T_SYSTEM	"#ComputerSystem.v1_27_0.ComputerSystem"
#define RF_T_SYSTEMS	"#ComputerSystemCollection.ComputerSystemCollection"
#define RF_T_CHASSIS	"#Chassis.v1_28_0.Chassis"
#define RF_T_CHASSISES	"#ChassisCollection.ChassisCollection"
#define RF_T_COMP	"#CompositionService.v1_2_3.CompositionService"
#define RF_T_BLOCK	"#ResourceBlock.v1_4_3.ResourceBlock"
#define RF_T_BLOCKS	"#ResourceBlockCollection.ResourceBlockCollection"
#define RF_T_ZONE	"#Zone.v1_6_3.Zone"
#define RF_T_ZONES	"#ZoneCollection.ZoneCollection"
#define RF_T_PROC	"#Processor.v1_22_0.Processor"
#define RF_T_PROCS	"#ProcessorCollection.ProcessorCollection"
#define RF_T_MEM	"#Memory.v1_23_0.Memory"
#define RF_T_MEMS	"#MemoryCollection.MemoryCollection"
#define RF_T_TASKSVC	"#TaskService.v1_3_0.TaskService"
#define RF_T_TASK	"#Task.v1_7_4.Task"
#define RF_T_TASKS	"#TaskCollection.TaskCollection"
#define RF_T_MESSAGE	"#Message.v1_3_0.Message"
#define RF_T_COLLCAPS	"#CollectionCapabilities.v1_4_1.CollectionCapabilities"
#define RF_T_APPLYTIME	"#Settings.v1_4_0.OperationApplyTimeSupport"
#define RF_T_SCHEMAFILE	"#JsonSchemaFile.v1_1_5.JsonSchemaFile"
#define RF_T_SCHEMAFILES "#JsonSchemaFileCollection.JsonSchemaFileCollection"
#define RF_T_ACTIONINFO	"#ActionInfo.v1_5_0.ActionInfo"
#define RF_TASKEVENT	"TaskEvent.1.0."

/* dhp's OEM types (schemas/oem/, docs/schemas.md): the @odata.type of each
 * Oem.Dhp object, by the standard type it extends. A new version is an
 * edit here, in oem.c's table and in schemas/oem/. (event-format.c writes
 * "#DhpEvent.v1_0_0.DhpEvent" itself: it is below the resources.) */
#define RF_OEM_SCHEMAS	RF_V1 "/Schemas"
#define RF_OEM_JSONSCHEMAS RF_V1 "/JsonSchemas"
#define RF_T_OEM_SYSTEM	"#DhpComputerSystem.v1_0_0.DhpComputerSystem"
#define RF_T_OEM_BLOCK	"#DhpResourceBlock.v1_0_0.DhpResourceBlock"
#define RF_T_OEM_CHASSIS "#DhpChassis.v1_0_0.DhpChassis"
#define RF_T_OEM_PROC	"#DhpProcessor.v1_0_0.DhpProcessor"
#define RF_T_OEM_MEM	"#DhpMemory.v1_0_0.DhpMemory"
#define RF_T_OEM_TASK	"#DhpTask.v1_0_0.DhpTask"
#define RF_T_OEM_MESSAGE "#DhpMessage.v1_0_0.DhpMessage"

/* ---- resources.c: JSON pieces ---- */

/* {"@odata.id": path}; path is printf-style. */
__attribute__((format(printf, 1, 2)))
json_t *rf_link(const char *fmt, ...);
/* The head of a resource: @odata.type, @odata.id (printf-style), Id, Name. */
__attribute__((format(printf, 4, 5)))
json_t *rf_resource(const char *type, const char *id, const char *name, const char *fmt, ...);
/* An empty collection: Members [] and Members@odata.count 0. */
__attribute__((format(printf, 3, 4)))
json_t *rf_collection(const char *type, const char *name, const char *fmt, ...);
/* Append a member link to a collection (or any object with "key" and
 * "key@odata.count") and keep the count. Takes ownership of link. */
void rf_members_add(json_t *obj, const char *key, json_t *link);
/* {"State": state, "Health": health}. */
json_t *rf_status(const char *state, const char *health);
const char *rf_health(enum dhp_health health);
/* Worse of two Redfish health names. */
const char *rf_health_worst(const char *a, const char *b);
/* ISO 8601 UTC with milliseconds, "2026-11-29T08:11:05.123Z". */
void rf_time(uint64_t ms, char *buf, size_t len);
/* Links to the server's one chassis and one zone. */
json_t *rf_chassis_link(struct dhp_server *server);
json_t *rf_zone_link(struct dhp_server *server);
/* @Redfish.CollectionCapabilities: partitions are composed by POST to
 * Systems from the server's zone (on the Systems collection and the zone). */
json_t *rf_collection_caps(struct dhp_server *server);

/* Answer status with body (200, 201, 202...), or 500 when body is NULL.
 * Takes ownership of body. */
void rf_send(struct http_response *res, unsigned status, json_t *body);
/* 404 for a resource of a Redfish type ("ComputerSystem") named name. */
void rf_not_found(struct http_response *res, const char *type, const char *name);
/* 405 for a method a resource does not take. */
void rf_not_allowed(struct http_response *res, const char *allow);
/* Whether an If-Match header (a list of tags, or "*") accepts etag. */
bool rf_if_match(const char *header, const char *etag);

/* An operation was accepted: 202, Location the task monitor, body the Task. */
void rf_accepted(struct redfish *rf, struct http_response *res, uint64_t op_id);
/* Submit a request and answer 202 (rf_accepted) or the engine's error. */
void rf_submit(struct redfish *rf, struct http_response *res, const struct dhp_request *req);

/* ---- oem.c: dhp's OEM schemas, JsonSchemas, ActionInfo ---- */

/* {"Dhp": dhp}, with "@odata.type": type first in dhp. Takes ownership of
 * dhp; NULL when dhp is NULL or out of memory. */
json_t *rf_oem(const char *type, json_t *dhp);

/* One OEM schema namespace ("DhpComputerSystem") and its version
 * ("v1_0_0"): schemas/oem/<ns>_v1.xml (CSDL) and <ns>.<version>.json (JSON
 * Schema). The table ends with ns NULL. */
struct rf_oem_schema {
	const char *ns, *version;
};
extern const struct rf_oem_schema rf_oem_schemas[];

/* A file built into dhpd: its bytes, NUL-terminated (len does not count
 * the NUL). */
struct rf_file {
	const char *name;
	const char *data;
	size_t len;
};
/* Every file of schemas/oem/, served at RF_OEM_SCHEMAS "/<name>"; ends
 * with name NULL. Generated at build time (mk/redfish-schemas.mk). */
extern const struct rf_file rf_schema_files[];

/* ---- resources-check.c: request bodies ---- */

enum rf_kind {
	RF_STRING,
	RF_BOOL,
	RF_OBJECT,	/* with sub-properties */
	RF_LINK,	/* {"@odata.id": string} */
	RF_LINKS,	/* [ RF_LINK, ... ] */
	/* The same in a PATCH (DSP0266, "PATCH on array properties"): each
	 * element a link (it replaces the element there, or is added past
	 * the end), {} (the element stays) or null (it is removed). */
	RF_LINKS_PATCH,
	RF_STRINGS,	/* [ string, ... ] */
	RF_OBJECTS,	/* [ object, ... ], each with the sub-properties */
	RF_INTEGER,	/* a JSON integer */
	RF_NUMBER,	/* a JSON integer or real */
};

#define RF_REQUIRED	(1u << 0)
#define RF_READONLY	(1u << 1)	/* in the resource, but not writable */

/* One property a body may (or may not) carry; tables end with name NULL. */
struct rf_prop {
	const char *name;
	enum rf_kind kind;
	unsigned flags;
	const struct rf_prop *sub;	/* RF_OBJECT: its properties */
};

/*
 * Check body against props (a NULL body is an empty object): 0, or
 * -EINVAL with a 400 in res (MalformedJSON for a body that is not an
 * object; PropertyUnknown,
 * PropertyNotWritable, PropertyValueTypeError, PropertyMissing; for an
 * action, named by action, the ActionParameter* ids instead).
 */
int rf_check(struct http_response *res, const json_t *body, const struct rf_prop *props,
	     const char *action);
/* 400 PropertyValueNotInList (or ActionParameterValueNotInList). */
void rf_bad_value(struct http_response *res, const char *action, const char *prop,
		  const char *value);
/*
 * The unit a resource block link names: exactly RF_BLOCKS "/<unit id>" of
 * an existing unit. 0, or -EINVAL with a 400 (ResourceMissingAtURI) in res.
 */
int rf_block_ref(struct redfish *rf, struct http_response *res, const json_t *link,
		 struct dhp_unit **ret_unit);
/*
 * The preconditions of a request that changes or deletes a resource, to be
 * checked before its body (a stale If-Match is 412 whatever the body):
 * whether if_match (NULL when absent: dhp does not require one) accepts
 * the resource whose GET body is current, compared by its ETag as GET
 * gives it (http_etag). Takes ownership of current (NULL: out of memory).
 * 0, or -EINVAL with a 412 PreconditionFailed (-ENOMEM with a 500) in res.
 */
int rf_precondition(struct http_response *res, const char *if_match, json_t *current);
/*
 * A PATCH body that carries only OData annotations ("@odata.id",
 * "@odata.type", "@odata.etag", ...) asks for nothing: -EINVAL with a 400
 * NoOperation in res (DSP0266, "PATCH (update)"); else 0.
 */
int rf_no_operation(struct http_response *res, const json_t *body);
/* "@Redfish.OperationApplyTime" of body: Immediate (false, the default) or
 * OnReset (true). 0, or -EINVAL with a 400 in res. */
int rf_apply_time(struct http_response *res, const json_t *body, const char *action,
		  bool *ret_on_restart);

/* The properties of a ComputerSystem a client reads but never writes. */
#define RF_SYSTEM_READONLY						\
	{ "@odata.id", RF_STRING, RF_READONLY, NULL },			\
	{ "@odata.type", RF_STRING, RF_READONLY, NULL },		\
	{ "@odata.etag", RF_STRING, RF_READONLY, NULL },		\
	{ "Id", RF_STRING, RF_READONLY, NULL },				\
	{ "Description", RF_STRING, RF_READONLY, NULL },		\
	{ "SystemType", RF_STRING, RF_READONLY, NULL },			\
	{ "PowerState", RF_STRING, RF_READONLY, NULL },			\
	{ "Status", RF_OBJECT, RF_READONLY, NULL },			\
	{ "ProcessorSummary", RF_OBJECT, RF_READONLY, NULL },		\
	{ "MemorySummary", RF_OBJECT, RF_READONLY, NULL },		\
	{ "Processors", RF_LINK, RF_READONLY, NULL },			\
	{ "Memory", RF_LINK, RF_READONLY, NULL },			\
	{ "Actions", RF_OBJECT, RF_READONLY, NULL },			\
	{ "@Redfish.OperationApplyTimeSupport", RF_OBJECT, RF_READONLY, NULL }

/* The parameters of the OEM actions, as their handlers check them and
 * their ActionInfo (oem.c) lists them; tables end with name NULL. */
extern const struct rf_prop rf_replace_params[];	/* systems-actions.c */
extern const struct rf_prop rf_power_params[];		/* composition-blocks.c */
extern const struct rf_prop rf_resize_params[];	/* systems-plans.c */
extern const struct rf_prop rf_move_params[];		/* systems-plans.c */
/* DhpResourceBlock.Power's PowerState values, ending with NULL. */
extern const char *const rf_power_states[];

/* ---- systems-json.c: what links units and partitions ---- */

/* The partition a unit is linked to through the API: its owner, the one it
 * joins at its next restart, or the one being created with it; 0 if none.
 * A unit is in at most one system's Links.ResourceBlocks by construction. */
uint32_t rf_unit_system(struct dhp_core *core, const struct dhp_unit *u);
struct dhp_partition *rf_partition(struct redfish *rf, const char *name);
/* The ComputerSystem of a partition, exactly as GET returns it (ETags are
 * computed on it). */
json_t *rf_system_json(struct redfish *rf, const struct dhp_partition *p);
/* The ETag of rf_system_json(p) into buf; false when out of memory. */
bool rf_system_etag(struct redfish *rf, const struct dhp_partition *p, char *buf, size_t len);

/* ---- systems-plan.c: a create by blocks or by sizes (POST Systems, a
 * Compose stanza) ---- */

struct rf_create {
	const char *name, *profile;
	const char *ids[DHP_OP_MAX_UNITS];	/* the blocks named, or planned */
	size_t n_ids;
	bool sized;				/* sizes asked: the planner picks */
	struct dhp_plan_request want;
	struct dhp_plan plan;			/* when sized, once planned */
};
/* The properties a create request may carry (POST Systems). */
extern const struct rf_prop rf_create_props[];
/*
 * Read a create request's body into c (it borrows body's strings): its
 * name and profile, and either Links.ResourceBlocks or the sizes
 * (ProcessorSummary.Count, MemorySummary.TotalSystemMemoryGiB,
 * Oem.Dhp.IoHostBridges, Oem.Dhp.Socket, @Redfish.ZoneAffinity). 0, or
 * -EINVAL with a 400 (409 for a reserved name) in res.
 */
int rf_create_parse(struct redfish *rf, struct http_response *res, const json_t *body,
		    struct rf_create *c);
/* Plan a sized create (units held by reservation count as free) and fill
 * c->ids; a create by blocks is left as it is. 0, or the engine's error
 * in res. */
int rf_create_plan(struct redfish *rf, struct http_response *res, struct rf_create *c,
		   uint64_t reservation);
/* Oem.Dhp.Plan: the plan's steps with their reasons. */
json_t *rf_plan_json(struct redfish *rf, const struct dhp_plan *plan);

/* ---- compose.c, reservations.c: the Compose action and the
 * reservations it makes (runtime only: a restart drops them) ---- */

#define RF_RESERVATIONS	RF_COMPOSITION "/CompositionReservations"
#define RF_T_RESERVATION "#CompositionReservation.v1_0_2.CompositionReservation"
#define RF_T_RESERVATIONS "#CompositionReservationCollection.CompositionReservationCollection"
#define RF_DEFAULT_RESERVATION_S 300u	/* ReservationDuration: PT5M */

struct rf_reservation {
	uint64_t id;			/* its units' reserved_by (core.h) */
	char client[AUTH_USER_MAX];	/* who made it: only they apply it */
	uint64_t made_wall_ms;		/* ReservationTime */
	uint64_t until_ms;		/* the engine's clock (dhp_core_now) */
	json_t *manifest;		/* the PreviewReserve answer's Manifest */
	struct rf_reservation *next;
};

extern const struct rf_prop rf_compose_params[];
extern const char *const rf_compose_types[];
/* How long a reservation lasts (dhpd --reservation-lifetime-s). */
unsigned rf_reservation_lifetime_s(struct redfish *rf);
/* A reservation by its Id, or NULL; expired ones are dropped first. */
struct rf_reservation *rf_reservation_find(struct redfish *rf, const char *id);
/* A new reservation; its units are already held by the caller under id
 * (rf_new_reservation_id). Takes manifest. 0 or -ENOMEM. */
int rf_reservation_add(struct redfish *rf, uint64_t id, const char *client, json_t *manifest,
		       uint64_t until_ms);
/* Forget r and release its units. */
void rf_reservation_drop(struct redfish *rf, struct rf_reservation *r);
void rf_compose(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_reservations_list(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res);
void rf_reservation_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res);
void rf_reservation_delete(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res);

/* ---- systems-parts.c: Processor and Memory resources of a unit ---- */

/* The Processor or Memory resource of unit u at the URI base/<kind>/<id>. */
json_t *rf_part_json(struct redfish *rf, const struct dhp_unit *u, const char *base);

/* ---- composition-blocks.c ---- */
json_t *rf_block_json(struct redfish *rf, const struct dhp_unit *u);

/* ---- tasks-json.c ---- */
/* The Task of an operation (its messages read from the store). */
json_t *rf_task_json(struct redfish *rf, const struct dhp_op *op);
/* An operation by id: the engine's while active, else the store's.
 * 0, -ENOENT, or another error. */
int rf_find_op(struct redfish *rf, uint64_t id, struct dhp_op *ret_op);

/* ---- handlers one file's route table takes from another ---- */
/* resources/subscriptions.c: EventService/Subscriptions (events.c's table) */
void rf_subs_list_get(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_subs_post(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_sub_get(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_sub_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_sub_delete(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_sub_resume(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_systems_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_systems_reset(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_systems_add_block(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res);
void rf_systems_remove_block(struct redfish *rf, const struct rf_request *req,
			     struct http_response *res);
void rf_systems_replace(struct redfish *rf, const struct rf_request *req,
			struct http_response *res);
void rf_systems_processors(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res);
void rf_systems_memories(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res);
void rf_systems_processor(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res);
void rf_systems_memory(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res);
void rf_blocks_processor(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res);
void rf_blocks_memory(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_blocks_get(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_blocks_list(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_blocks_power(struct redfish *rf, const struct rf_request *req, struct http_response *res);
/* resources/systems-plans.c and blocks-spare.c (issue 11) */
void rf_systems_resize(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res);
void rf_systems_move(struct redfish *rf, const struct rf_request *req, struct http_response *res);
void rf_blocks_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res);

#endif
