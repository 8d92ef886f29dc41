/* SPDX-License-Identifier: MIT */
/*
 * Checking request bodies against a table of the properties they may
 * carry. Each failure is a 400 with the Base registry's message for it,
 * naming the property by its path ("Links/ResourceBlocks/0/@odata.id"),
 * so a client learns exactly what to fix. Properties of the resource that
 * cannot be written are listed too (RF_READONLY): writing one is a
 * different mistake from writing one that does not exist. And what comes
 * before a body is looked at: a request's If-Match (412), and a PATCH
 * that asks for nothing (NoOperation).
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 128
/* Longest value quoted back in a message. */
#define QUOTE_MAX 40

struct check {
	struct http_response *res;
	const char *action;	/* NULL: a resource body */
};

static const struct rf_prop link_props[] = {
	{ "@odata.id", RF_STRING, RF_REQUIRED, NULL },
	{ NULL, 0, 0, NULL },
};

static int fail_unknown(struct check *c, const char *path)
{
	if (c->action)
		rf_error(c->res, 400, "ActionParameterUnknown",
			 "Remove the parameter; docs/redfish.md lists the action's parameters.",
			 "The action %s was submitted with the invalid parameter %s.", c->action,
			 path);
	else
		rf_error(c->res, 400, "PropertyUnknown",
			 "Remove the property; docs/redfish.md lists what may be written.",
			 "The property %s is not in the list of valid properties for the resource.",
			 path);
	return -EINVAL;
}

static int fail_readonly(struct check *c, const char *path)
{
	rf_error(c->res, 400, "PropertyNotWritable", "Remove the property from the request.",
		 "The property %s is a read-only property and cannot be assigned a value.", path);
	return -EINVAL;
}

static int fail_type(struct check *c, const char *path, const json_t *val)
{
	char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
	const char *shown = text ? text : "?";

	if (c->action)
		rf_error(c->res, 400, "ActionParameterValueTypeError",
			 "Correct the value's type and resubmit the request.",
			 "The value '%.*s' for the parameter %s in the action %s is not a type that "
			 "the parameter can accept.", QUOTE_MAX, shown, path, c->action);
	else
		rf_error(c->res, 400, "PropertyValueTypeError",
			 "Correct the value's type and resubmit the request.",
			 "The value '%.*s' for the property %s is not a type that the property can "
			 "accept.", QUOTE_MAX, shown, path);
	free(text);
	return -EINVAL;
}

static int fail_missing(struct check *c, const char *path)
{
	if (c->action)
		rf_error(c->res, 400, "ActionParameterMissing",
			 "Supply the parameter and resubmit the request.",
			 "The action %s requires the parameter %s to be present in the request "
			 "body.", c->action, path);
	else
		rf_error(c->res, 400, "PropertyMissing",
			 "Supply the property and resubmit the request.",
			 "The property %s is a required property and must be included in the "
			 "request.", path);
	return -EINVAL;
}

static const struct rf_prop *find_prop(const struct rf_prop *props, const char *name)
{
	for (; props && props->name; props++)
		if (!strcmp(props->name, name))
			return props;
	return NULL;
}

static int check_object(struct check *c, const json_t *obj, const struct rf_prop *props,
			const char *prefix);

/*
 * An array whose elements are each checked: strings when props is NULL,
 * else objects of props (links: link_props). In a PATCH of links, {} and
 * null elements too (they keep or remove the element at their place:
 * systems-patch.c).
 */
static int check_array(struct check *c, const json_t *val, const struct rf_prop *props,
		       bool patch, const char *path)
{
	char sub[PATH_MAX_LEN + 24];	/* path and an index */
	size_t i;
	json_t *item;

	if (!json_is_array(val))
		return fail_type(c, path, val);
	json_array_foreach(val, i, item) {
		snprintf(sub, sizeof(sub), "%s/%zu", path, i);
		if (patch && (json_is_null(item) || (json_is_object(item) && !json_object_size(item))))
			continue;
		if (!props ? !json_is_string(item) : !json_is_object(item))
			return fail_type(c, sub, item);
		if (props && check_object(c, item, props, sub) < 0)
			return -EINVAL;
	}
	return 0;
}

static int check_value(struct check *c, const json_t *val, const struct rf_prop *p,
		       const char *path)
{
	switch (p->kind) {
	case RF_STRING:
		return json_is_string(val) ? 0 : fail_type(c, path, val);
	case RF_BOOL:
		return json_is_boolean(val) ? 0 : fail_type(c, path, val);
	case RF_OBJECT:
		return json_is_object(val) ? check_object(c, val, p->sub, path)
					   : fail_type(c, path, val);
	case RF_LINK:
		return json_is_object(val) ? check_object(c, val, link_props, path)
					   : fail_type(c, path, val);
	case RF_LINKS:
	case RF_LINKS_PATCH:
		return check_array(c, val, link_props, p->kind == RF_LINKS_PATCH, path);
	case RF_STRINGS:
		return check_array(c, val, NULL, false, path);
	case RF_OBJECTS:
		return check_array(c, val, p->sub, false, path);
	case RF_INTEGER:
		return json_is_integer(val) ? 0 : fail_type(c, path, val);
	case RF_NUMBER:
		return json_is_number(val) ? 0 : fail_type(c, path, val);
	}
	return fail_type(c, path, val);
}

static int check_object(struct check *c, const json_t *obj, const struct rf_prop *props,
			const char *prefix)
{
	char path[PATH_MAX_LEN];
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		const struct rf_prop *p = find_prop(props, key);

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "", key);
		if (!p)
			return fail_unknown(c, path);
		if (p->flags & RF_READONLY)
			return fail_readonly(c, path);
		if (check_value(c, val, p, path) < 0)
			return -EINVAL;
	}
	for (const struct rf_prop *p = props; p && p->name; p++) {
		if (!(p->flags & RF_REQUIRED) || json_object_get(obj, p->name))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "", p->name);
		return fail_missing(c, path);
	}
	return 0;
}

int rf_check(struct http_response *res, const json_t *body, const struct rf_prop *props,
	     const char *action)
{
	struct check c = { res, action };
	json_t *empty;
	int r;

	/* No body at all is an empty one: what it lacks is then named. */
	if (!body) {
		empty = json_object();
		r = empty ? check_object(&c, empty, props, "") : -ENOMEM;
		json_decref(empty);
		if (r == -ENOMEM)
			rf_send(res, 500, NULL);
		return r < 0 ? -EINVAL : 0;
	}
	if (!json_is_object(body)) {
		rf_error(res, 400, "MalformedJSON", "Send a JSON object as the request body.",
			 "The request body submitted was malformed JSON and could not be parsed "
			 "by the receiving service.");
		return -EINVAL;
	}
	return check_object(&c, body, props, "");
}

void rf_bad_value(struct http_response *res, const char *action, const char *prop,
		  const char *value)
{
	if (action)
		rf_error(res, 400, "ActionParameterValueNotInList",
			 "Choose a value from the enumeration list that the implementation can "
			 "support and resubmit the request.",
			 "The value '%.*s' for the parameter %s in the action %s is not in the list "
			 "of acceptable values.", QUOTE_MAX, value, prop, action);
	else
		rf_error(res, 400, "PropertyValueNotInList",
			 "Choose a value from the enumeration list that the implementation can "
			 "support and resubmit the request.",
			 "The value '%.*s' for the property %s is not in the list of acceptable "
			 "values.", QUOTE_MAX, value, prop);
}

int rf_block_ref(struct redfish *rf, struct http_response *res, const json_t *link,
		 struct dhp_unit **ret_unit)
{
	const char *uri = json_string_value(json_object_get(link, "@odata.id"));
	const char *prefix = RF_BLOCKS "/";
	struct dhp_unit *u = NULL;

	if (uri && !strncmp(uri, prefix, strlen(prefix)) && !strchr(uri + strlen(prefix), '/'))
		u = dhp_server_unit(dhp_core_server(rf_core(rf)), uri + strlen(prefix));
	if (!u) {
		rf_error(res, 400, "ResourceMissingAtURI",
			 "Name a resource block by the @odata.id of a member of " RF_BLOCKS ".",
			 "The resource at the URI '%.*s' was not found.", 2 * QUOTE_MAX,
			 uri ? uri : "");
		return -EINVAL;
	}
	*ret_unit = u;
	return 0;
}

int rf_apply_time(struct http_response *res, const json_t *body, const char *action,
		  bool *ret_on_restart)
{
	const char *key = "@Redfish.OperationApplyTime";
	const json_t *val = json_object_get(body, key);
	const char *s = json_string_value(val);

	if (!val) {
		*ret_on_restart = false;
		return 0;
	}
	if (s && (!strcmp(s, "Immediate") || !strcmp(s, "OnReset"))) {
		*ret_on_restart = !strcmp(s, "OnReset");
		return 0;
	}
	rf_bad_value(res, action, key, s ? s : "?");
	return -EINVAL;
}

int rf_precondition(struct http_response *res, const char *if_match, json_t *current)
{
	char etag[64];

	if (!if_match) {
		json_decref(current);
		return 0;
	}
	if (!current) {
		rf_send(res, 500, NULL);
		return -ENOMEM;
	}
	http_etag(current, etag, sizeof(etag));
	json_decref(current);
	if (rf_if_match(if_match, etag))
		return 0;
	rf_error(res, 412, "PreconditionFailed", "GET the resource for its current ETag, then retry.",
		 "The ETag supplied did not match the ETag required to change this resource.");
	return -EINVAL;
}

int rf_no_operation(struct http_response *res, const json_t *body)
{
	const char *key;
	json_t *val;

	if (!json_is_object(body) || !json_object_size(body))
		return 0;
	json_object_foreach((json_t *)body, key, val)
		if (strncmp(key, "@odata.", strlen("@odata.")))
			return 0;
	rf_error(res, 400, "NoOperation", "Add properties in the JSON object and resubmit the request.",
		 "The request body submitted contain no data to act upon and no changes to the "
		 "resource took place.");
	return -EINVAL;
}
