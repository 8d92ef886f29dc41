/* SPDX-License-Identifier: MIT */
/*
 * Push subscriptions in the store (core/store.h, event_destinations):
 * their settings as JSON text, reading them at start-up, and each change
 * (create, PATCH, suspension, delete) as a durable write of its own
 * through the engine's journal (dhp_core_store_write). The list is
 * subs.c's.
 */
#include "redfish/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the store: settings as JSON ---- */

static json_t *strings_json(char *const *list, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static char *settings_text(const struct rf_sub *sub)
{
	const struct rf_sub_filter *f = &sub->filter;
	json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:s, s:b}", "Context", sub->context,
				"RegistryPrefixes", strings_json(f->prefixes, f->n_prefixes),
				"ResourceTypes", strings_json(f->types, f->n_types),
				"OriginResources", strings_json(f->origins, f->n_origins),
				"DeliveryRetryPolicy", rf_retry_policy_name(sub->policy),
				"Suspended", sub->suspended);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return text;
}

static int strings_from(const json_t *a, char **list, unsigned *n)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (*n >= RF_SUB_LIST_MAX || !json_is_string(v))
			return -EINVAL;
		list[*n] = strdup(json_string_value(v));
		if (!list[*n])
			return -ENOMEM;
		++*n;
	}
	return 0;
}

static int settings_parse(struct rf_sub *sub, const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	const char *context = json_string_value(json_object_get(doc, "Context"));
	int r = doc ? 0 : -EINVAL;

	if (!r)
		r = strings_from(json_object_get(doc, "RegistryPrefixes"), sub->filter.prefixes,
				 &sub->filter.n_prefixes);
	if (!r)
		r = strings_from(json_object_get(doc, "ResourceTypes"), sub->filter.types,
				 &sub->filter.n_types);
	if (!r)
		r = strings_from(json_object_get(doc, "OriginResources"), sub->filter.origins,
				 &sub->filter.n_origins);
	if (!r && rf_retry_policy_parse(json_string_value(json_object_get(doc,
					"DeliveryRetryPolicy")), &sub->policy) < 0)
		sub->policy = RF_RETRY_SUSPEND;
	sub->suspended = json_is_true(json_object_get(doc, "Suspended"));
	if (!r && !(sub->context = strdup(context ? context : "")))
		r = -ENOMEM;
	json_decref(doc);
	return r;
}

/* A push subscription ready to deliver (its delivery made). */
static int push_ready(struct rf_subs *subs, struct rf_sub *sub)
{
	sub->kind = RF_SUB_PUSH;
	snprintf(sub->id, sizeof(sub->id), "%" PRIu64, sub->store_id);
	return rf_delivery_new(rf_subs_service(subs), sub, &sub->delivery);
}

static int load_one(void *arg, uint64_t id, const char *destination, const char *settings)
{
	struct rf_subs *subs = arg;
	struct rf_sub *sub = calloc(1, sizeof(*sub));
	int r = sub ? 0 : -ENOMEM;

	if (!r) {
		sub->store_id = id;
		sub->destination = strdup(destination);
		r = sub->destination ? settings_parse(sub, settings) : -ENOMEM;
	}
	if (!r)
		r = push_ready(subs, sub);
	if (r == -EINVAL) {	/* not ours to fix here: say so, skip it */
		rf_log(rf_subs_service(subs), "event subscription %" PRIu64 " has unreadable settings in "
		       "the store: skipped", id);
		r = 0;
		rf_sub_free(sub);
		return 0;
	}
	if (r < 0) {
		rf_sub_free(sub);
		return r;
	}
	rf_subs_insert(subs, sub);
	return 0;
}

int rf_subs_load(struct rf_subs *subs, struct dhp_error *err)
{
	return dhp_store_destinations(dhp_core_store(rf_core(rf_subs_service(subs))), load_one, subs, err);
}

/* ---- changes, through the engine's journal (dhp_core_store_write) ---- */

struct write_ctx {
	struct rf_sub *sub;
	const char *settings;
	bool add, delete;
};

static int write_sub(struct dhp_store *store, void *arg, struct dhp_error *err)
{
	struct write_ctx *w = arg;

	if (w->add)
		return dhp_store_add_destination(store, w->sub->destination, w->settings,
						 &w->sub->store_id, err);
	if (w->delete)
		return dhp_store_delete_destination(store, w->sub->store_id, err);
	return dhp_store_update_destination(store, w->sub->store_id, w->settings, err);
}

static int store_sub(struct rf_subs *subs, struct write_ctx *w, struct dhp_error *err)
{
	char *text = w->delete ? NULL : settings_text(w->sub);
	int r;

	if (!w->delete && !text)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	w->settings = text;
	r = dhp_core_store_write(rf_core(rf_subs_service(subs)), write_sub, w, err);
	free(text);
	return r;
}

int rf_subs_add(struct rf_subs *subs, struct rf_sub *tmpl, struct rf_sub **ret_sub,
		struct dhp_error *err)
{
	struct rf_sub *sub = calloc(1, sizeof(*sub));
	struct write_ctx w = { .sub = sub, .add = true };
	int r;

	if (sub) {
		*sub = *tmpl;
		sub->next = NULL;
	} else {
		rf_filter_release(&tmpl->filter);
		free(tmpl->destination);
		free(tmpl->context);
	}
	memset(tmpl, 0, sizeof(*tmpl));
	if (!sub)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	r = store_sub(subs, &w, err);
	if (!r && push_ready(subs, sub) < 0)	/* stored: it is delivered after a restart */
		rf_log(rf_subs_service(subs), "event subscription %s: out of memory, not delivered until "
		       "dhpd restarts", sub->id);
	if (r < 0) {
		rf_sub_free(sub);
		return r;
	}
	rf_subs_insert(subs, sub);
	*ret_sub = sub;
	return 0;
}

int rf_subs_save(struct rf_subs *subs, struct rf_sub *sub, struct dhp_error *err)
{
	struct write_ctx w = { .sub = sub };

	return sub->kind == RF_SUB_PUSH ? store_sub(subs, &w, err) : 0;
}

int rf_subs_delete(struct rf_subs *subs, struct rf_sub *sub, struct dhp_error *err)
{
	struct write_ctx w = { .sub = sub, .delete = true };
	int r;

	if (sub->kind == RF_SUB_SSE) {
		/* The stream forgets it, then it is gone from the list at
		 * once; the stream ends in a later turn. */
		rf_sse_close(rf_get_sse(rf_subs_service(subs)), sub->sse_client);
		rf_subs_remove_sse(subs, sub);
		return 0;
	}
	r = store_sub(subs, &w, err);
	if (r < 0)
		return r;
	rf_subs_unlink(subs, sub);
	rf_sub_free(sub);
	return 0;
}
