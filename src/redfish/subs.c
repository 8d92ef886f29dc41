/* SPDX-License-Identifier: MIT */
/*
 * Event subscriptions: every EventDestination the EventService lists
 * (docs/redfish.md, "Event subscriptions"). Two kinds:
 *
 *   push  POSTed to at their Destination (deliver.c); kept in the store
 *         (core/store.h, event_destinations) as JSON settings, so they
 *         survive a restart; their Id is the store's number.
 *   SSE   an open event stream (sse.c) as DSP0266 asks: listed while it
 *         is open, "sse-N", never stored; its DELETE ends the stream.
 *
 * The resource handlers are resources/subscriptions.c.
 */
#include "redfish/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rf_subs {
	struct redfish *rf;
	struct rf_sub *list;		/* push by number, then SSE by age */
	uint64_t next_sse;
};

static const char *const policy_names[RF_RETRY_MAX] = {
	[RF_RETRY_SUSPEND] = "SuspendRetries",
	[RF_RETRY_TERMINATE] = "TerminateAfterRetries",
	[RF_RETRY_FOREVER] = "RetryForever",
	[RF_RETRY_BACKOFF] = "RetryForeverWithBackoff",
};

const char *rf_retry_policy_name(enum rf_retry_policy p)
{
	return (unsigned)p < RF_RETRY_MAX ? policy_names[p] : "SuspendRetries";
}

int rf_retry_policy_parse(const char *name, enum rf_retry_policy *ret)
{
	for (unsigned i = 0; i < RF_RETRY_MAX; i++)
		if (name && !strcmp(name, policy_names[i])) {
			*ret = (enum rf_retry_policy)i;
			return 0;
		}
	return -EINVAL;
}

int rf_subs_new(struct redfish *rf, struct rf_subs **ret_subs)
{
	struct rf_subs *subs = calloc(1, sizeof(*subs));

	if (!subs)
		return -ENOMEM;
	subs->rf = rf;
	*ret_subs = subs;
	return 0;
}

void rf_filter_release(struct rf_sub_filter *f)
{
	for (unsigned i = 0; i < f->n_prefixes; i++)
		free(f->prefixes[i]);
	for (unsigned i = 0; i < f->n_types; i++)
		free(f->types[i]);
	for (unsigned i = 0; i < f->n_origins; i++)
		free(f->origins[i]);
	memset(f, 0, sizeof(*f));
}

static void sub_free(struct rf_sub *sub)
{
	if (!sub)
		return;
	rf_delivery_free(sub->delivery);
	rf_filter_release(&sub->filter);
	free(sub->destination);
	free(sub->context);
	free(sub);
}

static void unlink_sub(struct rf_subs *subs, struct rf_sub *sub)
{
	for (struct rf_sub **pp = &subs->list; *pp; pp = &(*pp)->next)
		if (*pp == sub) {
			*pp = sub->next;
			return;
		}
}

void rf_subs_free(struct rf_subs *subs)
{
	if (!subs)
		return;
	/* SSE ones belong to streams, which ended first (http_free). */
	while (subs->list) {
		struct rf_sub *sub = subs->list;

		subs->list = sub->next;
		sub_free(sub);
	}
	free(subs);
}

struct rf_sub *rf_subs_list(struct rf_subs *subs)
{
	return subs->list;
}

struct rf_sub *rf_subs_find(struct rf_subs *subs, const char *id)
{
	for (struct rf_sub *sub = subs->list; sub; sub = sub->next)
		if (!strcmp(sub->id, id))
			return sub;
	return NULL;
}

unsigned rf_subs_count(const struct rf_subs *subs, enum rf_sub_kind kind)
{
	unsigned n = 0;

	for (const struct rf_sub *sub = subs->list; sub; sub = sub->next)
		n += sub->kind == kind;
	return n;
}

/* Push ones in number order, SSE ones after them. */
static void insert(struct rf_subs *subs, struct rf_sub *sub)
{
	struct rf_sub **pp = &subs->list;

	while (*pp && ((*pp)->kind == RF_SUB_PUSH &&
		       (sub->kind == RF_SUB_SSE || (*pp)->store_id < sub->store_id)))
		pp = &(*pp)->next;
	if (sub->kind == RF_SUB_SSE)
		while (*pp)
			pp = &(*pp)->next;
	sub->next = *pp;
	*pp = sub;
}

/* ---- matching ---- */

/* The schema name of the resource an origin URI names. */
static const char *origin_type(const char *uri)
{
	static const struct { const char *prefix, *type; } map[] = {
		{ "/redfish/v1/Systems/", "ComputerSystem" },
		{ "/redfish/v1/CompositionService/ResourceBlocks/", "ResourceBlock" },
		{ "/redfish/v1/TaskService/Tasks/", "Task" },
		{ "/redfish/v1/Chassis/", "Chassis" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(uri, map[i].prefix, strlen(map[i].prefix)))
			return map[i].type;
	return "";
}

static bool in_list(char *const *list, unsigned n, const char *s, size_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (strlen(list[i]) == len && !strncmp(list[i], s, len))
			return true;
	return false;
}

/* OriginResources as the SSE filter reads OriginResource: the event's
 * origin or any resource it names. */
static bool origin_wanted(const struct rf_sub_filter *f, const struct rf_event_origin *o)
{
	const char *const uris[] = { o->origin, o->system, o->block, o->task };

	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		if (uris[i][0] && in_list(f->origins, f->n_origins, uris[i], strlen(uris[i])))
			return true;
	return false;
}

bool rf_sub_wants(const struct rf_sub *sub, const struct dhp_event *ev,
		  const struct rf_event_origin *o)
{
	const struct rf_sub_filter *f = &sub->filter;
	const char *severity, *id = rf_event_message_id(ev, &severity);
	const char *type = origin_type(o->origin);

	if (f->n_prefixes && !in_list(f->prefixes, f->n_prefixes, id, strcspn(id, ".")))
		return false;
	if (f->n_types && !in_list(f->types, f->n_types, type, strlen(type)))
		return false;
	return !f->n_origins || origin_wanted(f, o);
}

void rf_subs_publish(struct rf_subs *subs, const struct dhp_event *ev)
{
	struct rf_event_origin o;
	bool have_origin = false;

	for (struct rf_sub *sub = subs->list; sub; sub = sub->next) {
		if (sub->kind != RF_SUB_PUSH || sub->suspended || !sub->delivery)
			continue;
		if (!have_origin)
			rf_event_origin(subs->rf, ev, &o);
		have_origin = true;
		if (rf_sub_wants(sub, ev, &o))
			rf_delivery_push(sub->delivery, ev, &o);
	}
}

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
	return rf_delivery_new(subs->rf, sub, &sub->delivery);
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
		rf_log(subs->rf, "event subscription %" PRIu64 " has unreadable settings in "
		       "the store: skipped", id);
		r = 0;
		sub_free(sub);
		return 0;
	}
	if (r < 0) {
		sub_free(sub);
		return r;
	}
	insert(subs, sub);
	return 0;
}

int rf_subs_load(struct rf_subs *subs, struct dhp_error *err)
{
	return dhp_store_destinations(dhp_core_store(rf_core(subs->rf)), load_one, subs, err);
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
	r = dhp_core_store_write(rf_core(subs->rf), write_sub, w, err);
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
		rf_log(subs->rf, "event subscription %s: out of memory, not delivered until "
		       "dhpd restarts", sub->id);
	if (r < 0) {
		sub_free(sub);
		return r;
	}
	insert(subs, sub);
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
		rf_sse_close(rf_get_sse(subs->rf), sub->sse_client);
		rf_subs_remove_sse(subs, sub);
		return 0;
	}
	r = store_sub(subs, &w, err);
	if (r < 0)
		return r;
	unlink_sub(subs, sub);
	sub_free(sub);
	return 0;
}

/* ---- SSE streams ---- */

struct rf_sub *rf_subs_add_sse(struct rf_subs *subs, void *client, const char *source,
			       const char *filter)
{
	struct rf_sub *sub = calloc(1, sizeof(*sub));
	char dest[96];

	if (!sub)
		return NULL;
	sub->kind = RF_SUB_SSE;
	sub->sse_client = client;
	snprintf(sub->id, sizeof(sub->id), "sse-%" PRIu64, ++subs->next_sse);
	/* The schema's form is redfish-sse://ip:port; the HTTP layer gives
	 * the client's address without its port. */
	snprintf(dest, sizeof(dest), strchr(source, ':') ? "redfish-sse://[%s]" :
		 "redfish-sse://%s", source[0] ? source : "unknown");
	sub->destination = strdup(dest);
	sub->context = strdup("");
	if (filter && (sub->filter.origins[0] = strdup(filter)))
		sub->filter.n_origins = 1;
	if (!sub->destination || !sub->context || (filter && !sub->filter.n_origins)) {
		sub_free(sub);
		return NULL;
	}
	insert(subs, sub);
	return sub;
}

void rf_subs_remove_sse(struct rf_subs *subs, struct rf_sub *sub)
{
	if (!sub)
		return;
	unlink_sub(subs, sub);
	sub_free(sub);
}
