/* SPDX-License-Identifier: MIT */
/*
 * PATCH /redfish/v1/CompositionService/ResourceBlocks/{id}: the one
 * writable property of a resource block, Oem.Dhp.Spare, puts the unit in
 * the spare pool or takes it out (issue 11; dhp_core_set_spare). A PATCH
 * rather than an OEM action: a flag is a property, and every Redfish
 * client (Ansible's redfish_config, curl) patches properties; the answer
 * is the block as it now is (200), as the change is immediate.
 */
#include "redfish/resources/resources.h"

#include <string.h>

static const struct rf_prop dhp_props[] = {
	{ "Spare", RF_BOOL, 0, NULL },
	{ "@odata.type", RF_STRING, RF_READONLY, NULL },
	{ "Type", RF_STRING, RF_READONLY, NULL },
	{ "Socket", RF_STRING, RF_READONLY, NULL },
	{ "Index", RF_STRING, RF_READONLY, NULL },
	{ "Model", RF_STRING, RF_READONLY, NULL },
	{ "SizeMiB", RF_STRING, RF_READONLY, NULL },
	{ "Devices", RF_STRINGS, RF_READONLY, NULL },
	{ "Powered", RF_BOOL, RF_READONLY, NULL },
	{ "Boot", RF_BOOL, RF_READONLY, NULL },
	{ "Removable", RF_BOOL, RF_READONLY, NULL },
	{ "Staged", RF_STRING, RF_READONLY, NULL },
	{ "Task", RF_LINK, RF_READONLY, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop oem_props[] = {
	{ "Dhp", RF_OBJECT, 0, dhp_props },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop block_props[] = {
	{ "Oem", RF_OBJECT, 0, oem_props },
	{ "@odata.id", RF_STRING, RF_READONLY, NULL },
	{ "@odata.type", RF_STRING, RF_READONLY, NULL },
	{ "@odata.etag", RF_STRING, RF_READONLY, NULL },
	{ "Id", RF_STRING, RF_READONLY, NULL },
	{ "Name", RF_STRING, RF_READONLY, NULL },
	{ "Description", RF_STRING, RF_READONLY, NULL },
	{ "ResourceBlockType", RF_STRINGS, RF_READONLY, NULL },
	{ "Status", RF_OBJECT, RF_READONLY, NULL },
	{ "CompositionStatus", RF_OBJECT, RF_READONLY, NULL },
	{ "Processors", RF_LINKS, RF_READONLY, NULL },
	{ "Memory", RF_LINKS, RF_READONLY, NULL },
	{ "Links", RF_OBJECT, RF_READONLY, NULL },
	{ "Actions", RF_OBJECT, RF_READONLY, NULL },
	{ NULL, 0, 0, NULL },
};

void rf_blocks_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_unit *u = dhp_server_unit(dhp_core_server(rf_core(rf)), req->params[0]);
	struct dhp_error err = { 0 };
	const json_t *spare;

	if (!u) {
		rf_not_found(res, "ResourceBlock", req->params[0]);
		return;
	}
	/* Preconditions first: a stale ETag is 412 whatever the body says. */
	if (rf_precondition(res, req->if_match, rf_block_json(rf, u)) < 0 ||
	    rf_no_operation(res, req->body) < 0 || rf_check(res, req->body, block_props, NULL) < 0)
		return;
	spare = json_object_get(json_object_get(json_object_get(req->body, "Oem"), "Dhp"), "Spare");
	if (spare && dhp_core_set_spare(rf_core(rf), u->id, json_is_true(spare), &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	rf_send(res, 200, rf_block_json(rf, u));
}
