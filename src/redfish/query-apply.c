/* SPDX-License-Identifier: MIT */
/*
 * A GET's answer shaped by its query (checked by query.c): only, $top and
 * $skip with a next link, then $expand (expand.c), then $select. Done
 * once, here, on the JSON a handler made, so that every resource answers
 * queries the same way and no handler knows of them (docs/redfish.md,
 * "Query parameters").
 */
#include "redfish/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* An error instead of the answer: the handler's headers (an ETag, an
 * Allow) were about the answer, not the error. */
static void replace_by_error(struct http_response *res, unsigned status, const char *id,
			     const char *message)
{
	res->n_headers = 0;
	rf_error(res, status, id, NULL, "%s", message);
}

static json_t *members_of(const struct http_response *res)
{
	json_t *m = json_is_object(res->body) ? json_object_get(res->body, "Members") : NULL;

	return json_is_array(m) ? m : NULL;
}

static void not_on_resource(struct http_response *res, const char *what)
{
	char message[160];

	snprintf(message, sizeof(message), "Querying is not supported on the requested "
		 "resource: %s applies to resource collections only.", what);
	replace_by_error(res, 400, "QueryNotSupportedOnResource", message);
}

void rf_query_only(struct redfish *rf, const struct rf_query *q, const struct rf_request *req,
		   struct http_response *res)
{
	json_t *members = members_of(res);
	const char *id;

	if (!q->only || res->status != 200)
		return;
	if (!members) {
		not_on_resource(res, "only");
		return;
	}
	id = json_string_value(json_object_get(json_array_get(members, 0), "@odata.id"));
	if (json_array_size(members) != 1 || !id)
		return;		/* DSP0266: the collection, as without only */
	{
		struct http_response member = { 0 };

		rf_get(rf, req, id, &member);
		http_response_release(res);
		*res = member;
	}
}

/* Percent-encode what a query value may not hold as it is. */
static size_t encode(char *buf, size_t len, const char *value)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789-._~$()*,/@#";
	size_t n = 0;

	for (const char *p = value; *p; p++)
		if (strchr(plain, *p))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%c", *p);
		else
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%%%02X",
					      (unsigned char)*p);
	return n;
}

int rf_query_next_link(const struct rf_query *q, const char *path, uint64_t skip,
		       uint64_t top, char *buf, size_t len)
{
	static const char modes[] = { [RF_EXPAND_SUBORDINATE] = '.', [RF_EXPAND_LINKS] = '~',
				      [RF_EXPAND_ALL] = '*' };
	size_t n = (size_t)snprintf(buf, len, "%s?$skip=%llu", path, (unsigned long long)skip);

	if (top && n < len)
		n += (size_t)snprintf(buf + n, len - n, "&$top=%llu", (unsigned long long)top);
	if (q->expand != RF_EXPAND_NONE && n < len)
		n += (size_t)snprintf(buf + n, len - n, "&$expand=%c($levels=%u)",
				      modes[q->expand], q->levels);
	if (q->select_text && n + 8 < len) {
		n += (size_t)snprintf(buf + n, len - n, "&$select=");
		n += encode(buf + n, n < len ? len - n : 0, q->select_text);
	}
	return n < len ? 0 : -ENAMETOOLONG;
}

/* $top and $skip: the page of members asked for, and a link to the rest.
 * Members@odata.count stays the whole collection's (DSP0266). */
static int page(const struct rf_query *q, const struct rf_request *req, json_t *body,
		json_t *members)
{
	uint64_t count = json_array_size(members);
	uint64_t skip = q->has_skip && q->skip < count ? q->skip : (q->has_skip ? count : 0);
	uint64_t end = q->has_top && q->top < count - skip ? skip + q->top : count;
	json_t *kept = json_array();
	char next[HTTP_PATH_MAX + 256];

	for (uint64_t i = skip; kept && i < end; i++)
		if (json_array_append(kept, json_array_get(members, i)))
			json_decref(kept), kept = NULL;
	if (!kept || json_object_set_new(body, "Members", kept))
		return -ENOMEM;
	if (end == count)
		return 0;
	if (rf_query_next_link(q, req->path, end, q->top, next, sizeof(next)) < 0)
		return -ENAMETOOLONG;
	return json_object_set_new(body, "Members@odata.nextLink", json_string(next)) ? -ENOMEM : 0;
}

void rf_query_select(json_t *obj, const json_t *tree)
{
	const char *key;
	json_t *value;
	void *tmp;

	json_object_foreach_safe(obj, tmp, key, value) {
		const json_t *sel = json_object_get(tree, key);
		size_t i;
		json_t *item;

		if (!strncmp(key, "@odata.", 7) || json_is_true(sel))
			continue;
		/* What is pruned is a copy: a body may share its parts with
		 * others (rf_cached). */
		if (!sel) {
			json_object_del(obj, key);
		} else if (json_is_object(value)) {
			value = json_copy(value);
			if (json_object_set_new(obj, key, value) < 0)
				continue;
			rf_query_select(value, sel);
		} else if (json_is_array(value)) {
			value = json_copy(value);
			if (json_object_set_new(obj, key, value) < 0)
				continue;
			json_array_foreach(value, i, item)
				if (json_is_object(item)) {
					item = json_copy(item);
					if (json_array_set_new(value, i, item) == 0)
						rf_query_select(item, sel);
				}
		}
	}
}

void rf_query_apply(struct redfish *rf, const struct rf_query *q, const struct rf_request *req,
		    struct http_response *res)
{
	json_t *members = members_of(res);
	struct rf_expand_budget budget = {
		.resources = RF_EXPAND_MAX_RESOURCES, .bytes = RF_EXPAND_MAX_BYTES,
	};
	int r = 0;

	if (res->status != 200 || !rf_query_shapes(q) || q->only)
		return;		/* only was rf_query_only's, and takes nothing else */
	if (!json_is_object(res->body)) {
		replace_by_error(res, 400, "QueryNotSupportedOnResource",
				 "Querying is not supported on the requested resource.");
		return;
	}
	if ((q->has_top || q->has_skip) && !members) {
		not_on_resource(res, q->has_top ? "$top" : "$skip");
		return;
	}
	if (q->has_top || q->has_skip) {
		r = page(q, req, res->body, members);
		members = members_of(res);
	}
	/* $select of a resource first, so that only what it keeps is
	 * expanded; of a collection, its members', as expand.c reads them. */
	if (!r && q->select && !members)
		rf_query_select(res->body, q->select);
	if (!r && q->expand != RF_EXPAND_NONE)
		r = rf_expand(rf, req, q, res->body, &budget);
	if (r < 0)
		replace_by_error(res, 500, "InternalError", "Out of memory while answering the query.");
}
