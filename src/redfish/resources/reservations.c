/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/CompositionService/CompositionReservations: what the
 * Compose action's PreviewReserve holds (compose.c). The blocks are held
 * by the engine (dhp_core_reserve: every path that takes a unit sees the
 * hold); this file keeps what the API shows of each reservation, in
 * memory only: a restart of dhpd drops them, as it drops the holds.
 * A reservation ends when it is applied, deleted, or when its time
 * (ReservationDuration) is over; expired ones are dropped when the
 * collection is next looked at, and their holds have ended by then
 * anyway (the engine compares the time itself).
 */
#include "redfish/resources/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned rf_reservation_lifetime_s(struct redfish *rf)
{
	unsigned s = rf_config(rf)->reservation_lifetime_s;

	return s ? s : RF_DEFAULT_RESERVATION_S;
}

static void drop_expired(struct redfish *rf)
{
	uint64_t now = dhp_core_now(rf_core(rf));
	struct rf_reservation **at = rf_get_reservations(rf);

	while (*at) {
		struct rf_reservation *r = *at;

		if (now < r->until_ms) {
			at = &r->next;
			continue;
		}
		*at = r->next;
		dhp_core_unreserve(rf_core(rf), r->id);
		json_decref(r->manifest);
		free(r);
	}
}

struct rf_reservation *rf_reservation_find(struct redfish *rf, const char *id)
{
	drop_expired(rf);
	for (struct rf_reservation *r = *rf_get_reservations(rf); r; r = r->next) {
		char text[24];

		snprintf(text, sizeof(text), "%" PRIu64, r->id);
		if (!strcmp(text, id))
			return r;
	}
	return NULL;
}

int rf_reservation_add(struct redfish *rf, uint64_t id, const char *client, json_t *manifest,
		       uint64_t until_ms)
{
	struct rf_reservation *r = calloc(1, sizeof(*r)), **at = rf_get_reservations(rf);

	if (!r) {
		json_decref(manifest);
		return -ENOMEM;
	}
	r->id = id;
	snprintf(r->client, sizeof(r->client), "%s", client);
	r->made_wall_ms = wall_ms();
	r->until_ms = until_ms;
	r->manifest = manifest;
	while (*at)
		at = &(*at)->next;
	*at = r;
	return 0;
}

void rf_reservation_drop(struct redfish *rf, struct rf_reservation *r)
{
	for (struct rf_reservation **at = rf_get_reservations(rf); *at; at = &(*at)->next)
		if (*at == r) {
			*at = r->next;
			dhp_core_unreserve(rf_core(rf), r->id);
			json_decref(r->manifest);
			free(r);
			return;
		}
}

void rf_reservations_free(struct redfish *rf)
{
	struct rf_reservation *r = *rf_get_reservations(rf);

	while (r) {
		struct rf_reservation *next = r->next;

		json_decref(r->manifest);
		free(r);
		r = next;
	}
	*rf_get_reservations(rf) = NULL;
}

void rf_reservations_list(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	json_t *coll = rf_collection(RF_T_RESERVATIONS, "Composition Reservation Collection",
				     RF_RESERVATIONS);

	(void)req;
	drop_expired(rf);
	for (struct rf_reservation *r = *rf_get_reservations(rf); coll && r; r = r->next)
		rf_members_add(coll, "Members", rf_link(RF_RESERVATIONS "/%" PRIu64, r->id));
	rf_send(res, 200, coll);
}

/* The blocks a reservation holds: those of its manifest's stanzas. */
static json_t *reserved_blocks(const struct rf_reservation *r)
{
	json_t *blocks = json_array(), *stanza, *link;
	size_t i, j;

	json_array_foreach(json_object_get(r->manifest, "Stanzas"), i, stanza)
		json_array_foreach(json_object_get(json_object_get(json_object_get(stanza,
			"Response"), "Links"), "ResourceBlocks"), j, link)
			json_array_append(blocks, link);
	return blocks;
}

static json_t *reservation_json(struct redfish *rf, const struct rf_reservation *r)
{
	json_t *body, *blocks = reserved_blocks(r);
	char made[40], ends[40];
	uint64_t left = r->until_ms - dhp_core_now(rf_core(rf));
	char id[24], name[48];

	snprintf(id, sizeof(id), "%" PRIu64, r->id);
	snprintf(name, sizeof(name), "Composition Reservation %" PRIu64, r->id);
	body = rf_resource(RF_T_RESERVATION, id, name, RF_RESERVATIONS "/%s", id);
	if (!body || !blocks) {
		json_decref(body), json_decref(blocks);
		return NULL;
	}
	rf_time(r->made_wall_ms, made, sizeof(made));
	rf_time(wall_ms() + left, ends, sizeof(ends));
	json_object_set_new(body, "Description", json_sprintf(
		"Blocks held for a composition until %s (ReservationDuration after "
		"ReservationTime); apply it with the Compose action and its ReservationId, "
		"or delete it", ends));
	json_object_set_new(body, "ReservationTime", json_string(made));
	json_object_set_new(body, "Client", json_string(r->client));
	json_object_set_new(body, "ReservedResourceBlocks@odata.count",
			    json_integer((json_int_t)json_array_size(blocks)));
	json_object_set_new(body, "ReservedResourceBlocks", blocks);
	json_object_set_new(body, "Manifest", json_deep_copy(r->manifest));
	return body;
}

void rf_reservation_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct rf_reservation *r = rf_reservation_find(rf, req->params[0]);

	if (!r) {
		rf_not_found(res, "CompositionReservation", req->params[0]);
		return;
	}
	rf_send(res, 200, reservation_json(rf, r));
}

void rf_reservation_delete(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct rf_reservation *r = rf_reservation_find(rf, req->params[0]);

	if (!r) {
		rf_not_found(res, "CompositionReservation", req->params[0]);
		return;
	}
	if (rf_precondition(res, req->if_match, reservation_json(rf, r)) < 0)
		return;
	rf_reservation_drop(rf, r);
	rf_ok(res, 204, NULL);
}
