/* SPDX-License-Identifier: MIT */
/*
 * EventService/Subscriptions: the EventDestination resources
 * (docs/redfish.md, "Event subscriptions"): the collection, creating a
 * push subscription (POST to it or to its Members), reading, PATCH of
 * Context and DeliveryRetryPolicy, DELETE, and ResumeSubscription. The
 * subscriptions themselves are subs.c's; delivery is deliver.c's.
 */
#include "redfish/resources/resources.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_DEST		"#EventDestination.v1_16_0.EventDestination"
#define T_DESTS		"#EventDestinationCollection.EventDestinationCollection"
#define RESUME		"EventDestination.ResumeSubscription"

/* What the EventService offers to filter on (events.c lists them too). */
static const char *const prefixes[] = { "TaskEvent", "ResourceEvent", "Base", NULL };
static const char *const types[] = { "ComputerSystem", "ResourceBlock", "Task", "Chassis", NULL };

#define DEST_READONLY						\
	{ "@odata.id", RF_STRING, RF_READONLY, NULL },		\
	{ "@odata.type", RF_STRING, RF_READONLY, NULL },	\
	{ "@odata.etag", RF_STRING, RF_READONLY, NULL },	\
	{ "Id", RF_STRING, RF_READONLY, NULL },			\
	{ "Name", RF_STRING, RF_READONLY, NULL },		\
	{ "Status", RF_OBJECT, RF_READONLY, NULL },		\
	{ "Actions", RF_OBJECT, RF_READONLY, NULL },		\
	{ "HttpHeaders", RF_OBJECT, RF_READONLY, NULL },	\
	{ "VerifyCertificate", RF_BOOL, RF_READONLY, NULL }

/* What a create may say; any other property of EventDestination is not
 * supported here (PropertyUnknown). */
static const struct rf_prop create_props[] = {
	{ "Destination", RF_STRING, RF_REQUIRED, NULL },
	{ "Protocol", RF_STRING, RF_REQUIRED, NULL },
	{ "Context", RF_STRING, 0, NULL },
	{ "SubscriptionType", RF_STRING, 0, NULL },
	{ "EventFormatType", RF_STRING, 0, NULL },
	{ "RegistryPrefixes", RF_STRINGS, 0, NULL },
	{ "ResourceTypes", RF_STRINGS, 0, NULL },
	{ "OriginResources", RF_LINKS, 0, NULL },
	{ "DeliveryRetryPolicy", RF_STRING, 0, NULL },
	DEST_READONLY,
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop patch_props[] = {
	{ "Context", RF_STRING, 0, NULL },
	{ "DeliveryRetryPolicy", RF_STRING, 0, NULL },
	{ "Destination", RF_STRING, RF_READONLY, NULL },
	{ "Protocol", RF_STRING, RF_READONLY, NULL },
	{ "SubscriptionType", RF_STRING, RF_READONLY, NULL },
	{ "EventFormatType", RF_STRING, RF_READONLY, NULL },
	{ "RegistryPrefixes", RF_STRINGS, RF_READONLY, NULL },
	{ "ResourceTypes", RF_STRINGS, RF_READONLY, NULL },
	{ "OriginResources", RF_LINKS, RF_READONLY, NULL },
	DEST_READONLY,
	{ NULL, 0, 0, NULL },
};

/* ---- the resources ---- */

static json_t *strings(char *const *list, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static json_t *sub_json(const struct rf_sub *sub)
{
	const struct rf_sub_filter *f = &sub->filter;
	bool push = sub->kind == RF_SUB_PUSH;
	json_t *doc = rf_resource(T_DEST, sub->id, "Event subscription", RF_SUBS_URI "/%s",
				  sub->id);
	json_t *origins = json_array();

	for (unsigned i = 0; origins && i < f->n_origins; i++)
		json_array_append_new(origins, rf_link("%s", f->origins[i]));
	json_object_update_new(doc, json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:[], s:o}",
		"Destination", sub->destination, "Context", sub->context, "Protocol", "Redfish",
		"SubscriptionType", push ? "RedfishEvent" : "SSE", "EventFormatType", "Event",
		"RegistryPrefixes", strings(f->prefixes, f->n_prefixes),
		"ResourceTypes", strings(f->types, f->n_types), "OriginResources", origins,
		"HttpHeaders", "Status",
		rf_status(sub->suspended ? "Disabled" : "Enabled", sub->suspended ? "Warning" : "OK")));
	if (!push)
		return doc;
	json_object_set_new(doc, "DeliveryRetryPolicy",
			    json_string(rf_retry_policy_name(sub->policy)));
	if (!strncasecmp(sub->destination, "https:", 6))
		json_object_set_new(doc, "VerifyCertificate", json_true());
	json_object_set_new(doc, "Actions", json_pack("{s:{s:o}}", "#" RESUME, "target",
			    json_sprintf(RF_SUBS_URI "/%s/Actions/" RESUME, sub->id)));
	return doc;
}

void rf_subs_list_get(struct redfish *rf, const struct rf_request *req,
		      struct http_response *res)
{
	json_t *doc = rf_collection(T_DESTS, "Event Subscriptions", RF_SUBS_URI);

	(void)req;
	for (struct rf_sub *sub = rf_subs_list(rf_get_subs(rf)); doc && sub; sub = sub->next)
		rf_members_add(doc, "Members", rf_link(RF_SUBS_URI "/%s", sub->id));
	rf_send(res, 200, doc);
}

/* The subscription the path names, or 404. */
static struct rf_sub *find(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct rf_sub *sub = rf_subs_find(rf_get_subs(rf), req->params[0]);

	if (!sub)
		rf_not_found(res, "EventDestination", req->params[0]);
	return sub;
}

void rf_sub_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_sub *sub = find(rf, req, res);

	if (sub)
		rf_send(res, 200, sub_json(sub));
}

/* ---- creating one ---- */

static int format_error(struct http_response *res, const char *prop, const char *value)
{
	rf_error(res, 400, "PropertyValueFormatError", NULL,
		 "The value '%.60s' for the property %s is not a format that the property can "
		 "accept.", value, prop);
	return -EINVAL;
}

/* http:// or https://, a host, no spaces or control characters. Plain
 * http is allowed (the schema names both); https is verified. */
static int check_destination(struct http_response *res, const char *d)
{
	size_t n = strlen(d), p = !strncasecmp(d, "https://", 8) ? 8 :
				  !strncasecmp(d, "http://", 7) ? 7 : 0;

	if (!p || n >= RF_SUB_DEST_MAX || strchr("/:?#@", d[p]))
		return format_error(res, "Destination", d);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d[i] <= ' ' || d[i] == 0x7f)
			return format_error(res, "Destination", d);
	return 0;
}

/* A value from a fixed list, or absent: 0, or a 400. */
static int check_one_of(struct http_response *res, const json_t *body, const char *prop,
			const char *only)
{
	const char *v = json_string_value(json_object_get(body, prop));

	if (v && strcmp(v, only)) {
		rf_bad_value(res, NULL, prop, v);
		return -EINVAL;
	}
	return 0;
}

static int take_list(struct http_response *res, const json_t *arr, const char *prop,
		     const char *const *allowed, char **list, unsigned *n)
{
	size_t i, k;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (i >= RF_SUB_LIST_MAX) {
			rf_error(res, 400, "PropertyValueError", NULL, "%s lists more than %u "
				 "entries", prop, RF_SUB_LIST_MAX);
			return -EINVAL;
		}
		if (allowed) {
			for (k = 0; allowed[k] && strcmp(allowed[k], s); k++)
				;
			if (!allowed[k]) {
				rf_bad_value(res, NULL, prop, s);
				return -EINVAL;
			}
		} else if (strncmp(s, "/redfish/v1/", 12) || strlen(s) >= RF_EVENT_URI_MAX) {
			return format_error(res, prop, s);
		}
		if (!(list[*n] = strdup(s)))
			return -ENOMEM;
		++*n;
	}
	return 0;
}

/* OriginResources: [{"@odata.id": uri}] as a list of URIs. */
static int take_origins(struct http_response *res, const json_t *links, struct rf_sub_filter *f)
{
	json_t *uris = json_array(), *link;
	size_t i;
	int r;

	json_array_foreach(links, i, link)
		json_array_append(uris, json_object_get(link, "@odata.id"));
	r = take_list(res, uris, "OriginResources", NULL, f->origins, &f->n_origins);
	json_decref(uris);
	return r;
}

static int parse_create(struct http_response *res, const json_t *b, struct rf_sub *t)
{
	const char *dest = json_string_value(json_object_get(b, "Destination"));
	const char *context = json_string_value(json_object_get(b, "Context"));
	const char *policy = json_string_value(json_object_get(b, "DeliveryRetryPolicy"));

	if (rf_check(res, b, create_props, NULL) < 0 || check_one_of(res, b, "Protocol", "Redfish") ||
	    check_one_of(res, b, "SubscriptionType", "RedfishEvent") ||
	    check_one_of(res, b, "EventFormatType", "Event") || check_destination(res, dest))
		return -EINVAL;
	if (context && strlen(context) > RF_SUB_CONTEXT_MAX)
		return format_error(res, "Context", context);
	if (policy && rf_retry_policy_parse(policy, &t->policy) < 0) {
		rf_bad_value(res, NULL, "DeliveryRetryPolicy", policy);
		return -EINVAL;
	}
	if (take_list(res, json_object_get(b, "RegistryPrefixes"), "RegistryPrefixes", prefixes,
		      t->filter.prefixes, &t->filter.n_prefixes) ||
	    take_list(res, json_object_get(b, "ResourceTypes"), "ResourceTypes", types,
		      t->filter.types, &t->filter.n_types) ||
	    take_origins(res, json_object_get(b, "OriginResources"), &t->filter))
		return -EINVAL;
	t->destination = strdup(dest);
	t->context = strdup(context ? context : "");
	return t->destination && t->context ? 0 : -ENOMEM;
}

void rf_subs_post(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_subs *subs = rf_get_subs(rf);
	struct rf_sub tmpl = { .kind = RF_SUB_PUSH }, *sub;
	struct dhp_error err = { 0 };
	int r = parse_create(res, req->body, &tmpl);

	if (r < 0) {
		if (r == -ENOMEM)
			rf_error(res, 500, "InternalError", NULL, "out of memory");
		rf_filter_release(&tmpl.filter);
		free(tmpl.destination);
		free(tmpl.context);
		return;
	}
	if (rf_subs_count(subs, RF_SUB_PUSH) >= RF_SUBS_MAX) {
		rf_filter_release(&tmpl.filter);
		free(tmpl.destination);
		free(tmpl.context);
		rf_error(res, 503, "EventSubscriptionLimitExceeded", NULL,
			 "there are %u event subscriptions already, the most dhp keeps",
			 RF_SUBS_MAX);
		return;
	}
	if (rf_subs_add(subs, &tmpl, &sub, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	http_header(res, "Location", RF_SUBS_URI "/%s", sub->id);
	rf_send(res, 201, sub_json(sub));
}

/* ---- changing, deleting, resuming ---- */

void rf_sub_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_sub *sub = find(rf, req, res);
	const char *context = json_string_value(json_object_get(req->body, "Context"));
	const char *policy = json_string_value(json_object_get(req->body, "DeliveryRetryPolicy"));
	enum rf_retry_policy old_policy, new_policy;
	struct dhp_error err = { 0 };
	char *old_context, *new_context;

	/* Preconditions first: a stale ETag is 412 whatever the body says. */
	if (!sub || rf_precondition(res, req->if_match, sub_json(sub)) < 0 ||
	    rf_check(res, req->body, patch_props, NULL) < 0)
		return;
	if (context && strlen(context) > RF_SUB_CONTEXT_MAX) {
		format_error(res, "Context", context);
		return;
	}
	if (policy && (sub->kind != RF_SUB_PUSH ||
		       rf_retry_policy_parse(policy, &new_policy) < 0)) {
		rf_bad_value(res, NULL, "DeliveryRetryPolicy", policy);
		return;
	}
	new_context = strdup(context ? context : sub->context);
	if (!new_context) {
		rf_error(res, 500, "InternalError", NULL, "out of memory");
		return;
	}
	old_context = sub->context;
	old_policy = sub->policy;
	sub->context = new_context;
	if (policy)
		sub->policy = new_policy;
	if (rf_subs_save(rf_get_subs(rf), sub, &err) < 0) {
		sub->context = old_context;	/* as it was: the store has the old one */
		sub->policy = old_policy;
		free(new_context);
		rf_error_from(res, &err);
		return;
	}
	free(old_context);
	rf_send(res, 200, sub_json(sub));
}

void rf_sub_delete(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_sub *sub = find(rf, req, res);
	struct dhp_error err = { 0 };

	if (!sub || rf_precondition(res, req->if_match, sub_json(sub)) < 0)
		return;
	if (rf_subs_delete(rf_get_subs(rf), sub, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	rf_ok(res, 204, NULL);
}

void rf_sub_resume(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct rf_sub *sub = find(rf, req, res);
	struct dhp_error err = { 0 };

	if (!sub || rf_check(res, req->body, (const struct rf_prop[]){ { NULL, 0, 0, NULL } },
			     RESUME) < 0)
		return;
	if (sub->kind != RF_SUB_PUSH) {
		rf_error(res, 400, "ActionNotSupported", NULL,
			 "an SSE subscription is never suspended: it lives as long as its stream");
		return;
	}
	if (sub->suspended) {
		sub->suspended = false;
		if (rf_subs_save(rf_get_subs(rf), sub, &err) < 0) {
			sub->suspended = true;
			rf_error_from(res, &err);
			return;
		}
	}
	rf_ok(res, 204, NULL);
}
