/* SPDX-License-Identifier: MIT */
/*
 * Reading a Redfish collection whole. A collection lists its members as
 * links; a listing needs their contents. When the service root says that
 * $expand works, one request brings them all; otherwise each member is
 * read in turn over the one kept-alive connection. Either way the result
 * is the same array, so the verbs do not care which it was. A service
 * with $select sends only the properties a verb reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

#define MAX_PAGES 10000		/* Members@odata.nextLink: a loop guard */

/* Find out once per run whether, and how, to ask for $expand. */
static int probe_expand(struct ctl *ctl, struct ctl_error *err)
{
	const json_t *eq;
	json_t *root;
	int r;

	if (ctl->expand >= 0)
		return 0;
	ctl->expand = 0;
	r = http_get_json(ctl->http, "/redfish/v1", &root, err);
	if (r < 0)
		return r;
	eq = jget(root, "ProtocolFeaturesSupported/ExpandQuery");
	/* "." expands what is under the resource (its Members), not its Links. */
	if (json_is_true(jget(eq, "NoLinks")) || json_is_true(jget(eq, "ExpandAll"))) {
		snprintf(ctl->expand_query, sizeof(ctl->expand_query), "$expand=%s%s",
			 json_is_true(jget(eq, "NoLinks")) ? "." : "*",
			 json_is_true(jget(eq, "Levels")) ? "($levels=1)" : "");
		ctl->expand = 1;
	}
	ctl->select = json_is_true(jget(root, "ProtocolFeaturesSupported/SelectQuery"));
	json_decref(root);
	return 0;
}

/* A member as listed: only a link, or the whole resource (expanded). */
static bool is_link_only(const json_t *member)
{
	return json_object_size(member) == 1 && json_object_get(member, "@odata.id");
}

static int add_members(struct ctl *ctl, const json_t *coll, json_t *out, struct ctl_error *err)
{
	const json_t *members = json_object_get(coll, "Members"), *m;
	size_t i;

	if (!json_is_array(members))
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				     "a collection from %s has no Members", http_base(ctl->http));
	json_array_foreach(members, i, m) {
		const char *id = jstr(m, "@odata.id", NULL);
		json_t *whole;
		int r;

		if (!is_link_only(m)) {
			json_array_append(out, (json_t *)m);
			continue;
		}
		if (!id)
			continue;
		r = http_get_json(ctl->http, id, &whole, err);
		if (r < 0)
			return r;
		json_array_append_new(out, whole);
		if (ctl_interrupted())
			return ctl_error_set(err, CTL_EXIT_INTERRUPTED, NULL, "interrupted");
	}
	return 0;
}

static int read_all(struct ctl *ctl, const char *path, bool expand, const char *select,
		    json_t *out, struct ctl_error *err)
{
	char page[2048];
	int r = 0;

	snprintf(page, sizeof(page), "%s%s%s%s%s", path, expand ? "?" : "",
		 expand ? ctl->expand_query : "", expand && select ? "&$select=" : "",
		 expand && select ? select : "");
	for (unsigned n = 0; n < MAX_PAGES; n++) {
		const char *next;
		json_t *coll;

		r = http_get_json(ctl->http, page, &coll, err);
		if (r < 0)
			return r;
		r = add_members(ctl, coll, out, err);
		next = jstr(coll, "Members@odata.nextLink", NULL);
		if (r == 0 && next && !http_local_path(ctl->http, next))
			r = ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL,
					  "the server pointed to \"%s\", which is not itself", next);
		if (r == 0 && next)
			snprintf(page, sizeof(page), "%s", http_local_path(ctl->http, next));
		json_decref(coll);
		if (r < 0 || !next)
			return r;
	}
	return ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL,
			     "the collection %s has more than %u pages", path, MAX_PAGES);
}

int collection_get(struct ctl *ctl, const char *path, const char *select,
		   json_t **ret_members, struct ctl_error *err)
{
	json_t *out = json_array();
	int r;

	if (!out)
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	r = probe_expand(ctl, err);
	if (r == 0 && ctl->expand) {
		struct ctl_error expand_err = { 0 };

		r = read_all(ctl, path, true, ctl->select ? select : NULL, out, &expand_err);
		/* A service that advertises $expand but refuses it here, or whose
		 * expanded answer is too large: read the members one by one. */
		if (r < 0 && (expand_err.exit_code == CTL_EXIT_REFUSED || r == -EFBIG)) {
			json_array_clear(out);
			ctl->expand = 0;
			r = 0;
		} else if (r < 0) {
			*err = expand_err;
		}
	}
	if (r == 0 && !ctl->expand)
		r = read_all(ctl, path, false, NULL, out, err);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret_members = out;
	return 0;
}
