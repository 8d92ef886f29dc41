/* SPDX-License-Identifier: MIT */
/*
 * dhp's OEM extensions, done the standard way (docs/redfish.md, "OEM
 * extensions"; docs/schemas.md): every Oem.Dhp object names its type, and
 * the schemas that define those types travel inside dhpd (schemas/oem/,
 * built in by mk/redfish-schemas.mk) and are served:
 *
 *   /redfish/v1/Schemas/<file>          each CSDL file ($metadata, root.c,
 *                                       references them) and JSON Schema
 *   /redfish/v1/JsonSchemas[/<type>]    a JsonSchemaFile per OEM schema
 *   .../ReplaceActionInfo, .../ResizeActionInfo, .../MoveActionInfo,
 *   .../PowerActionInfo                 the ActionInfo of each OEM
 *                                       action, made from the table of
 *                                       parameters its handler checks, so
 *                                       the two cannot disagree
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <string.h>

#define RF_URI_MAX	160

const struct rf_oem_schema rf_oem_schemas[] = {
	{ "DhpChassis", "v1_0_0" },
	{ "DhpComputerSystem", "v1_0_0" },
	{ "DhpEvent", "v1_0_0" },
	{ "DhpMemory", "v1_0_0" },
	{ "DhpMessage", "v1_0_0" },
	{ "DhpProcessor", "v1_0_0" },
	{ "DhpResourceBlock", "v1_0_0" },
	{ "DhpTask", "v1_0_0" },
	{ NULL, NULL },
};

json_t *rf_oem(const char *type, json_t *dhp)
{
	json_t *typed = json_pack("{s:s}", "@odata.type", type);

	if (!typed || !dhp || json_object_update(typed, dhp) < 0) {
		json_decref(typed), json_decref(dhp);
		return NULL;
	}
	json_decref(dhp);
	return json_pack("{s:o}", "Dhp", typed);
}

/* ---- the schema files ---- */

static const struct rf_file *schema_file(const char *name)
{
	for (const struct rf_file *f = rf_schema_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

static void schema_file_get(struct redfish *rf, const struct rf_request *req,
			    struct http_response *res)
{
	const struct rf_file *f = schema_file(req->params[0]);

	(void)rf;
	if (!f) {
		rf_not_found(res, "schema file", req->params[0]);
		return;
	}
	res->status = 200;
	res->raw_body = f->data;
	res->raw_type = ends_with(f->name, ".xml") ? "application/xml" : "application/json";
}

/* ---- JsonSchemas: a JsonSchemaFile per OEM schema ---- */

static void jsonschemas_list(struct redfish *rf, const struct rf_request *req,
			     struct http_response *res)
{
	json_t *coll = rf_collection(RF_T_SCHEMAFILES, "JSON Schema File Collection",
				     RF_OEM_JSONSCHEMAS);

	(void)rf, (void)req;
	for (const struct rf_oem_schema *s = rf_oem_schemas; coll && s->ns; s++)
		rf_members_add(coll, "Members",
			       rf_link(RF_OEM_JSONSCHEMAS "/%s.%s", s->ns, s->version));
	rf_send(res, 200, coll);
}

static const struct rf_oem_schema *oem_schema(const char *id)
{
	for (const struct rf_oem_schema *s = rf_oem_schemas; s->ns; s++) {
		size_t n = strlen(s->ns);

		if (!strncmp(id, s->ns, n) && id[n] == '.' && !strcmp(id + n + 1, s->version))
			return s;
	}
	return NULL;
}

static void jsonschema_get(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	const struct rf_oem_schema *s = oem_schema(req->params[0]);
	char name[64];
	json_t *file;

	(void)rf;
	if (!s) {
		rf_not_found(res, "JsonSchemaFile", req->params[0]);
		return;
	}
	snprintf(name, sizeof(name), "%s schema file", s->ns);
	file = rf_resource(RF_T_SCHEMAFILE, req->params[0], name, RF_OEM_JSONSCHEMAS "/%s",
			   req->params[0]);
	if (file) {
		json_object_set_new(file, "Description", json_sprintf(
			"dhp's OEM schema %s.%s (docs/schemas.md)", s->ns, s->version));
		json_object_set_new(file, "Schema", json_sprintf("#%s.%s.%s", s->ns, s->version,
								 s->ns));
		json_object_set_new(file, "Languages", json_pack("[s]", "en"));
		json_object_set_new(file, "Location", json_pack("[{s:s, s:o}]", "Language", "en",
			"Uri", json_sprintf(RF_OEM_SCHEMAS "/%s.%s.json", s->ns, s->version)));
	}
	rf_send(res, 200, file);
}

/* ---- ActionInfo of the OEM actions ---- */

/* What one action takes: its parameter table (as its handler checks it),
 * the type its links name, and the values of one of its parameters. */
struct action {
	const char *name;		/* "Replace": the resource is <name>ActionInfo */
	const struct rf_prop *params;
	const char *link_type;		/* ObjectDataType of its RF_LINK(S) parameters */
	const char *const *link_types;	/* or per parameter (NULL: link_type) */
	const char *listed;		/* the parameter with AllowableValues, or NULL */
	const char *const *values;
};

static const char *data_type(enum rf_kind kind)
{
	switch (kind) {
	case RF_STRING:
		return "String";
	case RF_BOOL:
		return "Boolean";
	case RF_LINKS:
	case RF_LINKS_PATCH:
	case RF_OBJECTS:
		return "ObjectArray";
	case RF_STRINGS:
		return "StringArray";
	case RF_INTEGER:
	case RF_NUMBER:
		return "Number";
	case RF_OBJECT:
	case RF_LINK:
		break;
	}
	return "Object";
}

static json_t *parameter(const struct action *a, const struct rf_prop *p)
{
	json_t *param = json_pack("{s:s, s:b, s:s}", "Name", p->name,
				  "Required", (p->flags & RF_REQUIRED) != 0,
				  "DataType", data_type(p->kind));

	if (param && (p->kind == RF_LINK || p->kind == RF_LINKS) && a->link_type)
		json_object_set_new(param, "ObjectDataType",
				    json_string(a->link_types && a->link_types[p - a->params] ?
						a->link_types[p - a->params] : a->link_type));
	if (param && a->listed && !strcmp(p->name, a->listed)) {
		json_t *values = json_array();

		for (size_t i = 0; values && a->values[i]; i++)
			json_array_append_new(values, json_string(a->values[i]));
		json_object_set_new(param, "AllowableValues", values);
	}
	return param;
}

/* The ActionInfo of action a of the resource at uri. */
static json_t *action_info(const struct action *a, const char *uri)
{
	char id[32], name[48];
	json_t *info, *params = json_array();

	snprintf(id, sizeof(id), "%sActionInfo", a->name);
	snprintf(name, sizeof(name), "%s action info", a->name);
	info = rf_resource(RF_T_ACTIONINFO, id, name, "%s/%s", uri, id);
	if (!info || !params) {
		json_decref(info), json_decref(params);
		return NULL;
	}
	for (const struct rf_prop *p = a->params; p->name; p++)
		if (p->name[0] != '@')		/* annotations are not parameters */
			json_array_append_new(params, parameter(a, p));
	json_object_set_new(info, "Parameters", params);
	return info;
}

static const struct action replace = {
	.name = "Replace", .params = rf_replace_params, .link_type = RF_T_BLOCK,
};

static const struct action resize = {
	.name = "Resize", .params = rf_resize_params, .link_type = RF_T_BLOCK,
};

/* Move's TargetSystem names a system, its ResourceBlocks blocks. */
static const char *const move_link_types[] = { RF_T_BLOCK, RF_T_SYSTEM };

static const struct action move = {
	.name = "Move", .params = rf_move_params, .link_type = RF_T_BLOCK,
	.link_types = move_link_types,
};

static const struct action power = {
	.name = "Power", .params = rf_power_params,
	.listed = "PowerState", .values = rf_power_states,
};

/* The ActionInfo of action a of the system of req's URI. */
static void system_info_get(struct redfish *rf, const struct rf_request *req,
			    struct http_response *res, const struct action *a)
{
	struct dhp_partition *p = rf_partition(rf, req->params[0]);
	char uri[RF_URI_MAX];

	if (!p) {
		rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	snprintf(uri, sizeof(uri), RF_SYSTEMS "/%s", p->name);
	rf_send(res, 200, action_info(a, uri));
}

static void replace_info_get(struct redfish *rf, const struct rf_request *req,
			     struct http_response *res)
{
	system_info_get(rf, req, res, &replace);
}

static void resize_info_get(struct redfish *rf, const struct rf_request *req,
			    struct http_response *res)
{
	system_info_get(rf, req, res, &resize);
}

static void move_info_get(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	system_info_get(rf, req, res, &move);
}

static void power_info_get(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct dhp_unit *u = dhp_server_unit(dhp_core_server(rf_core(rf)), req->params[0]);
	char uri[RF_URI_MAX];

	if (!u) {
		rf_not_found(res, "ResourceBlock", req->params[0]);
		return;
	}
	snprintf(uri, sizeof(uri), RF_BLOCKS "/%s", u->id);
	rf_send(res, 200, action_info(&power, uri));
}

/* The Compose action is DMTF's; its ActionInfo is as in DMTF's
 * compose-action mockup, made from the table its handler checks. */
static const struct action compose = {
	.name = "Compose", .params = rf_compose_params,
	.listed = "RequestType", .values = rf_compose_types,
};

static void compose_info_get(struct redfish *rf, const struct rf_request *req,
			     struct http_response *res)
{
	(void)rf, (void)req;
	rf_send(res, 200, action_info(&compose, RF_COMPOSITION));
}

const struct rf_route rf_routes_oem[] = {
	{ HTTP_GET, RF_OEM_SCHEMAS "/{}", schema_file_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_OEM_JSONSCHEMAS, jsonschemas_list, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_OEM_JSONSCHEMAS "/{}", jsonschema_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_SYSTEMS "/{}/ReplaceActionInfo", replace_info_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_SYSTEMS "/{}/ResizeActionInfo", resize_info_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_SYSTEMS "/{}/MoveActionInfo", move_info_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_BLOCKS "/{}/PowerActionInfo", power_info_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_COMPOSITION "/ComposeActionInfo", compose_info_get, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
