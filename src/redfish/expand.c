/* SPDX-License-Identifier: MIT */
/*
 * $expand (DSP0266): the links of an answer replaced by the resources
 * they name, read through their own GET handlers (rf_get), so an expanded
 * resource is exactly what a GET of it returns. A link is an object whose
 * only property is "@odata.id". "." expands those outside any Links
 * property (Members and navigation properties), "~" those inside, "*"
 * both; $levels says how deep expanded resources are expanded in turn.
 *
 * One answer reads at most RF_EXPAND_MAX_RESOURCES resources and
 * RF_EXPAND_MAX_BYTES of them (as $select keeps them): a collection whose members do not all fit
 * keeps those that do, and a Members@odata.nextLink says where the rest
 * is; any other link left over stays a link.
 */
#include "redfish/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct expand {
	struct redfish *rf;
	const struct rf_request *req;
	const struct rf_query *q;
	const json_t *answer;		/* the body at req->path */
	struct rf_expand_budget *budget;
	unsigned read;			/* resources expanded so far */
	struct http_buf scratch;	/* to measure a resource's text */
	int error;			/* -ENOMEM */
};

static int expand_object(struct expand *x, json_t *obj, unsigned levels, bool in_links);

/* The URI a link names, or NULL for anything else (a fragment: a part of
 * a resource, not one that a GET reads). */
static const char *link_target(const json_t *v)
{
	const char *id;

	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	id = json_string_value(json_object_get(v, "@odata.id"));
	return id && id[0] == '/' && !strchr(id, '#') ? id : NULL;
}

static bool wanted(const struct expand *x, bool in_links)
{
	switch (x->q->expand) {
	case RF_EXPAND_ALL:
		return true;
	case RF_EXPAND_LINKS:
		return in_links;
	case RF_EXPAND_SUBORDINATE:
		return !in_links;
	case RF_EXPAND_NONE:
	default:
		return false;
	}
}

static bool budget_left(const struct expand *x)
{
	return x->budget->resources > 0 && x->budget->bytes > 0;
}

/*
 * The resource at id, as select keeps it (NULL: whole), expanded
 * levels - 1 deeper, or NULL: not readable as JSON (it stays a link), or
 * over the budget (then none is left). The first resource of an answer
 * always fits, so that paging moves on.
 */
static json_t *read_resource(struct expand *x, const char *id, unsigned levels,
			     const json_t *select)
{
	struct http_response res = { 0 };
	json_t *body = NULL;

	if (!budget_left(x))
		return NULL;
	rf_get(x->rf, x->req, id, &res);
	if (res.status == 200 && json_is_object(res.body)) {
		if (select)
			rf_query_select(res.body, select);
		x->scratch.len = 0;
		if (http_json_append(&x->scratch, res.body) < 0 || x->scratch.failed) {
			x->error = -ENOMEM;
		} else if (x->scratch.len > x->budget->bytes && x->read) {
			x->budget->bytes = 0;	/* full: nothing more goes in */
		} else {
			body = json_incref(res.body);
			x->budget->bytes -= x->scratch.len < x->budget->bytes ? x->scratch.len
									       : x->budget->bytes;
			x->budget->resources--;
			x->read++;
		}
	}
	http_response_release(&res);
	if (body && levels > 1 && expand_object(x, body, levels - 1, false) < 0)
		json_decref(body), body = NULL;
	return body;
}

/* Where the members from skip on are: the answer's own query for the
 * answer's collection, else the same expansion of a collection inside it. */
static int next_link(const struct expand *x, const json_t *coll, size_t skip, unsigned levels,
		     char *buf, size_t len)
{
	const char *path = json_string_value(json_object_get(coll, "@odata.id"));
	struct rf_query nested = { .expand = x->q->expand, .levels = levels };

	if (coll == x->answer)
		return rf_query_next_link(x->q, x->req->path,
					  (x->q->has_skip ? x->q->skip : 0) + skip,
					  x->q->has_top ? x->q->top - skip : 0, buf, len);
	return path ? rf_query_next_link(&nested, path, skip, 0, buf, len) : -ENOENT;
}

/* A collection's members, as many as the budget takes; the rest cut, with
 * a link to them. */
static int expand_members(struct expand *x, json_t *coll, json_t *members, unsigned levels)
{
	char next[HTTP_PATH_MAX + 256];
	size_t i;

	for (i = 0; i < json_array_size(members) && !x->error; i++) {
		const char *id = link_target(json_array_get(members, i));
		json_t *r = id ? read_resource(x, id, levels,
					       coll == x->answer ? x->q->select : NULL) : NULL;

		if (r)
			json_array_set_new(members, i, r);
		else if (id && !budget_left(x))
			break;
	}
	if (x->error || i == json_array_size(members) ||
	    next_link(x, coll, i, levels, next, sizeof(next)) < 0)
		return x->error;	/* no link to the rest: leave them links */
	while (json_array_size(members) > i)	/* from the end: no moves */
		json_array_remove(members, json_array_size(members) - 1);
	if (json_object_set_new(coll, "Members@odata.nextLink", json_string(next)))
		x->error = -ENOMEM;
	return x->error;
}

/* A link in place, or what is under a value. */
static json_t *expand_value(struct expand *x, json_t *v, unsigned levels, bool in_links)
{
	const char *id = link_target(v);
	size_t i;
	json_t *item, *r;

	if (id && wanted(x, in_links))
		return strcmp(id, x->req->path) ? read_resource(x, id, levels, NULL) : NULL;
	if (json_is_object(v)) {
		expand_object(x, v, levels, in_links);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if ((r = expand_value(x, item, levels, in_links)))
				json_array_set_new(v, i, r);
	}
	return NULL;
}

/* Members last: cutting them adds a key, which an iteration must not see. */
static int expand_object(struct expand *x, json_t *obj, unsigned levels, bool in_links)
{
	json_t *members = json_object_get(obj, "Members"), *r;
	void *iter;

	for (iter = json_object_iter(obj); iter && !x->error;
	     iter = json_object_iter_next(obj, iter)) {
		const char *key = json_object_iter_key(iter);
		json_t *value = json_object_iter_value(iter);

		if (value == members)
			continue;
		r = expand_value(x, value, levels, in_links || !strcmp(key, "Links"));
		if (r)
			json_object_iter_set_new(obj, iter, r);
	}
	if (json_is_array(members) && wanted(x, in_links) && !x->error)
		expand_members(x, obj, members, levels);
	else if (members && !x->error && (r = expand_value(x, members, levels, in_links)))
		json_object_set_new(obj, "Members", r);
	return x->error;
}

int rf_expand(struct redfish *rf, const struct rf_request *req, const struct rf_query *q,
	      json_t *body, struct rf_expand_budget *budget)
{
	struct expand x = {
		.rf = rf, .req = req, .q = q, .answer = body, .budget = budget,
	};
	int r = expand_object(&x, body, q->levels, false);

	free(x.scratch.data);
	return r;
}
