/* SPDX-License-Identifier: MIT */
/*
 * The CompositionService's Compose action (DMTF's CompositionService
 * v1_2, Manifest v1_1): a manifest of ComposeSystem stanzas, each a
 * create request as POST /redfish/v1/Systems takes it (by blocks or by
 * sizes: systems-plan.c).
 *
 *   Preview         the plans; nothing changes
 *   PreviewReserve  the plans, their blocks held in a CompositionReservation
 *                   (reservations.c) for ReservationDuration
 *   Apply           the creates, one operation each; with ReservationId,
 *                   those of the reservation, on its blocks
 *
 * All stanzas are planned before any is submitted: each stanza's blocks
 * are held (under a number no reservation has) while the next ones are
 * planned, so no two stanzas pick the same block, and a stanza that
 * cannot be planned refuses the whole manifest, nothing changed.
 */
#include "redfish/resources/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACTION "CompositionService.Compose"
#define MAX_STANZAS 16
/* Holds the stanzas' blocks while the next ones are planned; released
 * before the handler returns. No reservation gets this number. */
#define PLANNING_HOLD UINT64_MAX

const char *const rf_compose_types[] = { "Preview", "PreviewReserve", "Apply", NULL };

static const struct rf_prop stanza_props[] = {
	{ "StanzaType", RF_STRING, RF_REQUIRED, NULL },
	{ "StanzaId", RF_STRING, 0, NULL },
	{ "Request", RF_OBJECT, RF_REQUIRED, rf_create_props },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop manifest_props[] = {
	{ "Description", RF_STRING, 0, NULL },
	{ "Timestamp", RF_STRING, 0, NULL },
	{ "Expand", RF_STRING, 0, NULL },
	{ "Stanzas", RF_OBJECTS, RF_REQUIRED, stanza_props },
	{ NULL, 0, 0, NULL },
};

const struct rf_prop rf_compose_params[] = {
	{ "RequestFormat", RF_STRING, 0, NULL },
	{ "RequestType", RF_STRING, RF_REQUIRED, NULL },
	{ "Manifest", RF_OBJECT, 0, manifest_props },
	{ "ReservationId", RF_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};

/* What a stanza's Response says before anything is created: the system
 * the request would make. */
static json_t *preview_system(struct redfish *rf, const struct rf_create *c)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	json_t *blocks = json_array(), *dhp;
	unsigned procs = 0;
	uint64_t bytes = 0;

	for (size_t i = 0; blocks && i < c->n_ids; i++) {
		const struct dhp_unit *u = dhp_server_unit(server, c->ids[i]);

		json_array_append_new(blocks, rf_link(RF_BLOCKS "/%s", c->ids[i]));
		procs += u->type == DHP_UNIT_PROCESSOR;
		bytes += u->size_bytes;
	}
	dhp = json_pack("{s:s}", "OsProfile", c->profile);
	if (dhp && c->sized)
		json_object_set_new(dhp, "Plan", rf_plan_json(rf, &c->plan));
	return json_pack("{s:s, s:{s:o}, s:{s:I}, s:{s:f}, s:o}", "Name", c->name,
			 "Links", "ResourceBlocks", blocks ? blocks : json_null(),
			 "ProcessorSummary", "Count", (json_int_t)procs,
			 "MemorySummary", "TotalSystemMemoryGiB", (double)bytes / (double)(1ull << 30),
			 "Oem", rf_oem(RF_T_OEM_SYSTEM, dhp));
}

static void compose_error(struct http_response *res, const char *param, const char *why)
{
	rf_error(res, 400, "ActionParameterValueError", why,
		 "The value for the parameter %s in the action " ACTION " is invalid.", param);
}

/* Read and plan every stanza, holding each one's blocks under
 * PLANNING_HOLD. 0, or -EINVAL with the answer in res (holds released). */
static int plan_stanzas(struct redfish *rf, struct http_response *res, const json_t *stanzas,
			struct rf_create *c, size_t *ret_n)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);
	json_t *stanza;
	size_t i;

	if (!json_array_size(stanzas) || json_array_size(stanzas) > MAX_STANZAS) {
		compose_error(res, "Manifest/Stanzas", "Send 1 to 16 ComposeSystem stanzas.");
		return -EINVAL;
	}
	json_array_foreach(stanzas, i, stanza) {
		const char *type = json_string_value(json_object_get(stanza, "StanzaType"));
		struct dhp_error err = { 0 };
		uint32_t units[DHP_OP_MAX_UNITS];
		char at[64];

		snprintf(at, sizeof(at), "Manifest/Stanzas/%zu/StanzaType", i);
		if (strcmp(type, "ComposeSystem")) {
			rf_bad_value(res, ACTION, at, type);
			goto release;
		}
		if (rf_create_parse(rf, res, json_object_get(stanza, "Request"), &c[i]) < 0)
			goto release;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c[j].name, c[i].name)) {
				compose_error(res, "Manifest/Stanzas",
					      "Give each stanza's system a name of its own.");
				goto release;
			}
		if (dhp_server_partition_by_name(server, c[i].name)) {
			rf_error(res, 409, "ResourceAlreadyExists", "Choose another name.",
				 "The requested resource of type ComputerSystem with the property "
				 "Name with the value '%s' already exists.", c[i].name);
			goto release;
		}
		if (rf_create_plan(rf, res, &c[i], 0) < 0)
			goto release;
		for (size_t u = 0; u < c[i].n_ids; u++)
			units[u] = dhp_server_unit_index(server, dhp_server_unit(server, c[i].ids[u]));
		/* Named blocks are checked here (free, not held); planned ones are. */
		if (dhp_core_reserve(core, PLANNING_HOLD, units, c[i].n_ids, UINT64_MAX, &err) < 0) {
			rf_error_from(res, &err);
			goto release;
		}
	}
	*ret_n = json_array_size(stanzas);
	return 0;
release:
	dhp_core_unreserve(core, PLANNING_HOLD);
	return -EINVAL;
}

/* Submit the creates; units held by reservation may be used. The
 * stanzas' Responses get the systems made. */
static int apply(struct redfish *rf, struct http_response *res, struct rf_create *c, size_t n,
		 uint64_t reservation, json_t *stanzas)
{
	for (size_t i = 0; i < n; i++) {
		struct dhp_request rq = { .verb = DHP_VERB_CREATE, .partition = c[i].name,
					  .profile = c[i].profile, .units = c[i].ids,
					  .n_units = c[i].n_ids, .reservation = reservation };
		struct dhp_error err = { 0 };
		struct dhp_partition *p;
		json_t *sys;

		if (dhp_core_submit(rf_core(rf), &rq, NULL, &err) < 0) {
			rf_error_from(res, &err);
			return -EINVAL;
		}
		p = rf_partition(rf, c[i].name);
		sys = p ? rf_system_json(rf, p) : NULL;
		if (sys && c[i].sized)
			json_object_set_new(json_object_get(json_object_get(sys, "Oem"), "Dhp"),
					    "Plan", rf_plan_json(rf, &c[i].plan));
		json_object_set_new(json_array_get(stanzas, i), "Response", sys ? sys : json_null());
	}
	return 0;
}

/* The answer's manifest: the request's, each stanza with its Response. */
static json_t *answer_manifest(struct redfish *rf, const json_t *manifest,
			       const struct rf_create *c, size_t n)
{
	json_t *out = json_deep_copy(manifest), *stanzas = json_object_get(out, "Stanzas");
	char now[40];

	for (size_t i = 0; out && i < n; i++)
		json_object_set_new(json_array_get(stanzas, i), "Response",
				    preview_system(rf, &c[i]));
	rf_time((uint64_t)time(NULL) * 1000, now, sizeof(now));
	if (out)
		json_object_set_new(out, "Timestamp", json_string(now));
	return out;
}

static void answer(struct http_response *res, const char *type, json_t *manifest, uint64_t id)
{
	json_t *body = json_pack("{s:s, s:s, s:o}", "RequestFormat", "Manifest",
				 "RequestType", type, "Manifest", manifest ? manifest : json_null());

	if (body && id)
		json_object_set_new(body, "ReservationId", json_sprintf("%" PRIu64, id));
	rf_send(res, 200, body);
}

/* Apply with a ReservationId: the reservation's stanzas, on its blocks. */
static void apply_reservation(struct redfish *rf, const struct rf_request *req,
			      struct http_response *res, const char *id)
{
	struct rf_reservation *r = rf_reservation_find(rf, id);
	struct rf_create c[MAX_STANZAS];
	json_t *stanzas, *stanza;
	size_t i;

	if (!r) {
		compose_error(res, "ReservationId", "No such reservation: it expired, was applied "
			      "or deleted, or never was. Compose again with PreviewReserve.");
		return;
	}
	if (strcmp(r->client, req->who->user)) {
		rf_error(res, 409, "ResourceInUse", "Only the client that made a reservation "
			 "applies it; delete it, or compose with a reservation of your own.",
			 "Reservation %s belongs to another client (%s).", id, r->client);
		return;
	}
	stanzas = json_object_get(r->manifest, "Stanzas");
	json_array_foreach(stanzas, i, stanza) {
		/* The reserved blocks, named: the plan is the one previewed. */
		const json_t *sys = json_object_get(stanza, "Response"), *link;
		size_t j;

		memset(&c[i], 0, sizeof(c[i]));
		c[i].name = json_string_value(json_object_get(sys, "Name"));
		c[i].profile = json_string_value(json_object_get(json_object_get(
			json_object_get(sys, "Oem"), "Dhp"), "OsProfile"));
		json_array_foreach(json_object_get(json_object_get(sys, "Links"), "ResourceBlocks"),
				   j, link)
			c[i].ids[c[i].n_ids++] = strrchr(json_string_value(json_object_get(link,
				"@odata.id")), '/') + 1;
	}
	stanzas = json_deep_copy(r->manifest);
	if (!stanzas) {
		rf_send(res, 500, NULL);
		return;
	}
	if (apply(rf, res, c, json_array_size(json_object_get(r->manifest, "Stanzas")), r->id,
		  json_object_get(stanzas, "Stanzas")) < 0) {
		json_decref(stanzas);
		return;
	}
	rf_reservation_drop(rf, r);
	answer(res, "Apply", stanzas, 0);
}

/* PreviewReserve: the planning holds become the reservation's, with its
 * time limit. */
static void reserve(struct redfish *rf, const struct rf_request *req, struct http_response *res,
		    const struct rf_create *c, size_t n, json_t *out)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);
	uint64_t id = rf_new_reservation_id(rf);
	uint64_t until = dhp_core_now(core) + rf_reservation_lifetime_s(rf) * 1000ull;
	struct dhp_error err = { 0 };
	int r = out ? 0 : -ENOMEM;

	dhp_core_unreserve(core, PLANNING_HOLD);
	for (size_t i = 0; !r && i < n; i++) {
		uint32_t units[DHP_OP_MAX_UNITS];

		for (size_t u = 0; u < c[i].n_ids; u++)
			units[u] = dhp_server_unit_index(server, dhp_server_unit(server, c[i].ids[u]));
		r = dhp_core_reserve(core, id, units, c[i].n_ids, until, &err);
	}
	if (!r)
		r = rf_reservation_add(rf, id, req->who->user, json_deep_copy(out), until);
	if (r < 0) {
		dhp_core_unreserve(core, id);
		json_decref(out);
		if (r == -ENOMEM)
			rf_send(res, 500, NULL);
		else
			rf_error_from(res, &err);
		return;
	}
	answer(res, "PreviewReserve", out, id);
}

void rf_compose(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	const char *type, *format, *id;
	const json_t *manifest;
	struct rf_create *c;
	size_t n = 0;
	json_t *out;

	if (rf_check(res, req->body, rf_compose_params, ACTION) < 0)
		return;
	type = json_string_value(json_object_get(req->body, "RequestType"));
	format = json_string_value(json_object_get(req->body, "RequestFormat"));
	id = json_string_value(json_object_get(req->body, "ReservationId"));
	manifest = json_object_get(req->body, "Manifest");
	if (format && strcmp(format, "Manifest")) {
		rf_bad_value(res, ACTION, "RequestFormat", format);
		return;
	}
	if (strcmp(type, "Preview") && strcmp(type, "PreviewReserve") && strcmp(type, "Apply")) {
		rf_bad_value(res, ACTION, "RequestType", type);
		return;
	}
	if (id && (strcmp(type, "Apply") || manifest)) {
		rf_error(res, 400, "ActionParameterValueConflict", "Send ReservationId alone with "
			 "RequestType Apply: the reservation holds its manifest.",
			 "The parameter 'ReservationId' with the requested value of '%.24s' does not "
			 "meet the constraints of the implementation.", id);
		return;
	}
	if (id) {
		apply_reservation(rf, req, res, id);
		return;
	}
	if (!manifest) {
		rf_error(res, 400, "ActionParameterMissing", "Send a Manifest of ComposeSystem "
			 "stanzas, or a ReservationId to apply.", "The action " ACTION " requires "
			 "the parameter Manifest to be present in the request body.");
		return;
	}
	c = calloc(MAX_STANZAS, sizeof(*c));
	if (!c) {
		rf_send(res, 500, NULL);
		return;
	}
	if (plan_stanzas(rf, res, json_object_get(manifest, "Stanzas"), c, &n) < 0)
		goto out;
	out = answer_manifest(rf, manifest, c, n);
	if (!strcmp(type, "Preview")) {
		dhp_core_unreserve(rf_core(rf), PLANNING_HOLD);
		answer(res, type, out, 0);
	} else if (!strcmp(type, "Apply")) {
		if (out && apply(rf, res, c, n, PLANNING_HOLD, json_object_get(out, "Stanzas")) == 0)
			answer(res, type, json_incref(out), 0);
		else if (!out)
			rf_send(res, 500, NULL);
		json_decref(out);
		dhp_core_unreserve(rf_core(rf), PLANNING_HOLD);
	} else {
		reserve(rf, req, res, c, n, out);
	}
out:
	free(c);
}
