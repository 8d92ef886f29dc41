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
 * This file keeps the list and says which events each wants; the store's
 * side of push ones is subs-store.c, the resource handlers
 * resources/subscriptions.c.
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

void rf_sub_free(struct rf_sub *sub)
{
	if (!sub)
		return;
	rf_delivery_free(sub->delivery);
	rf_filter_release(&sub->filter);
	free(sub->destination);
	free(sub->context);
	free(sub);
}

void rf_subs_unlink(struct rf_subs *subs, struct rf_sub *sub)
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
		rf_sub_free(sub);
	}
	free(subs);
}

struct redfish *rf_subs_service(struct rf_subs *subs)
{
	return subs->rf;
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
void rf_subs_insert(struct rf_subs *subs, struct rf_sub *sub)
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
		rf_sub_free(sub);
		return NULL;
	}
	rf_subs_insert(subs, sub);
	return sub;
}

void rf_subs_remove_sse(struct rf_subs *subs, struct rf_sub *sub)
{
	if (!sub)
		return;
	rf_subs_unlink(subs, sub);
	rf_sub_free(sub);
}
