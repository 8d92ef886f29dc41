/* SPDX-License-Identifier: MIT */
/*
 * The entry points: /redfish (the version document), the service root,
 * the OData service document and the CSDL $metadata. None needs
 * authentication: a client reads them to learn what the service is before
 * it logs in (DSP0266).
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <string.h>

#include "common/strindex.h"

static void version_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	(void)rf, (void)req;
	rf_send(res, 200, json_pack("{s:s}", "v1", RF_V1 "/"));
}

/*
 * A UUID that stays the same across restarts of a state directory: made
 * from the digest of the server's inventory, which the store is bound to.
 * Version 8 (RFC 9562: custom), RFC variant.
 */
static void service_uuid(struct dhp_server *server, char *buf, size_t len)
{
	uint64_t a = dhp_server_digest(server);
	uint64_t b = dhp_fnv1a(a, "dhp service root", 16);

	snprintf(buf, len, "%08llx-%04llx-%04llx-%04llx-%012llx",
		 (unsigned long long)(a >> 32), (unsigned long long)((a >> 16) & 0xffff),
		 (unsigned long long)((a & 0x0fff) | 0x8000),
		 (unsigned long long)(((b >> 48) & 0x3fff) | 0x8000),
		 (unsigned long long)(b & 0xffffffffffffull));
}

static void root_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	char uuid[40];
	json_t *root = rf_resource(RF_T_ROOT, "RootService", "dhp Root Service", RF_V1 "/");

	(void)req;
	service_uuid(dhp_core_server(rf_core(rf)), uuid, sizeof(uuid));
	if (root) {
		json_object_set_new(root, "RedfishVersion", json_string("1.15.0"));
		json_object_set_new(root, "UUID", json_string(uuid));
		json_object_set_new(root, "Vendor", json_string("dhp"));
		json_object_set_new(root, "Product", json_string("dhp dynamic hardware partitioning"));
		/* What query.c answers (docs/redfish.md, "Query parameters"):
		 * $filter only on the event stream, no excerpt properties. */
		json_object_set_new(root, "ProtocolFeaturesSupported", json_pack(
			"{s:{s:b, s:b, s:b, s:b, s:i}, s:b, s:b, s:b, s:b, s:b}",
			"ExpandQuery", "ExpandAll", 1, "Levels", 1, "Links", 1, "NoLinks", 1,
			"MaxLevels", RF_EXPAND_MAX_LEVELS,
			"FilterQuery", 0, "SelectQuery", 1, "ExcerptQuery", 0,
			"OnlyMemberQuery", 1, "TopSkipQuery", 1));
		json_object_set_new(root, "Systems", rf_link(RF_SYSTEMS));
		json_object_set_new(root, "Chassis", rf_link(RF_CHASSIS));
		json_object_set_new(root, "CompositionService", rf_link(RF_COMPOSITION));
		json_object_set_new(root, "Tasks", rf_link(RF_TASKSERVICE));
		json_object_set_new(root, "EventService", rf_link(RF_V1 "/EventService"));
		json_object_set_new(root, "SessionService", rf_link(RF_V1 "/SessionService"));
		json_object_set_new(root, "AccountService", rf_link(RF_V1 "/AccountService"));
		json_object_set_new(root, "JsonSchemas", rf_link(RF_OEM_JSONSCHEMAS));
		json_object_set_new(root, "Links", json_pack("{s:o}", "Sessions",
			rf_link(RF_V1 "/SessionService/Sessions")));
	}
	rf_send(res, 200, root);
}

/* The top-level singletons, for the OData service document. */
static const struct {
	const char *name, *url;
} singletons[] = {
	{ "Service", RF_V1 "/" },
	{ "Systems", RF_SYSTEMS },
	{ "Chassis", RF_CHASSIS },
	{ "CompositionService", RF_COMPOSITION },
	{ "Tasks", RF_TASKSERVICE },
	{ "EventService", RF_V1 "/EventService" },
	{ "SessionService", RF_V1 "/SessionService" },
	{ "AccountService", RF_V1 "/AccountService" },
	{ "Sessions", RF_V1 "/SessionService/Sessions" },
	{ "JsonSchemas", RF_OEM_JSONSCHEMAS },
};

static void odata_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	json_t *doc = json_pack("{s:s, s:[]}", "@odata.context", RF_V1 "/$metadata", "value");

	(void)rf, (void)req;
	for (size_t i = 0; doc && i < sizeof(singletons) / sizeof(singletons[0]); i++)
		json_array_append_new(json_object_get(doc, "value"),
				      json_pack("{s:s, s:s, s:s}", "name", singletons[i].name,
						"kind", "Singleton", "url", singletons[i].url));
	rf_send(res, 200, doc);
}

/* Every schema namespace dhp's payloads use, with the version in use
 * (NULL: collections, which are unversioned). Keep in step with the
 * RF_T_* types of resources.h and those of the other resource files. */
static const struct {
	const char *ns, *version;
} schemas[] = {
	{ "ServiceRoot", "v1_20_0" }, { "ComputerSystem", "v1_27_0" },
	{ "ComputerSystemCollection", NULL }, { "Chassis", "v1_28_0" },
	{ "ChassisCollection", NULL }, { "CompositionService", "v1_2_3" },
	{ "ResourceBlock", "v1_4_3" }, { "ResourceBlockCollection", NULL },
	{ "Zone", "v1_6_3" }, { "ZoneCollection", NULL }, { "Processor", "v1_22_0" },
	{ "ProcessorCollection", NULL }, { "Memory", "v1_23_0" }, { "MemoryCollection", NULL },
	{ "TaskService", "v1_3_0" }, { "Task", "v1_7_4" }, { "TaskCollection", NULL },
	{ "Message", "v1_3_0" }, { "CollectionCapabilities", "v1_4_1" },
	{ "Settings", "v1_4_0" }, { "Resource", "v1_23_0" }, { "EventService", "v1_12_0" },
	{ "Event", "v1_13_0" }, { "SessionService", "v1_2_0" }, { "Session", "v1_8_0" },
	{ "SessionCollection", NULL }, { "AccountService", "v1_18_1" },
	{ "ManagerAccount", "v1_14_1" }, { "ManagerAccountCollection", NULL },
	{ "Role", "v1_3_3" }, { "RoleCollection", NULL }, { "Privileges", "v1_0_6" },
	{ "JsonSchemaFile", "v1_1_5" }, { "JsonSchemaFileCollection", NULL },
	{ "ActionInfo", "v1_5_0" },
};

/* The references to dhp's OEM schemas, which dhpd serves itself (oem.c). */
static size_t oem_references(char *xml, size_t len, size_t size)
{
	for (const struct rf_oem_schema *s = rf_oem_schemas; s->ns && len < size; s++)
		len += (size_t)snprintf(xml + len, size - len,
			"  <edmx:Reference Uri=\"" RF_OEM_SCHEMAS "/%s_v1.xml\">\n"
			"    <edmx:Include Namespace=\"%s\"/>\n"
			"    <edmx:Include Namespace=\"%s.%s\"/>\n"
			"  </edmx:Reference>\n", s->ns, s->ns, s->ns, s->version);
	return len;
}

/* The CSDL document, made once: it never changes while dhpd runs. */
static const char *metadata_xml(void)
{
	static char xml[16384];
	size_t len = 0;

	if (xml[0])
		return xml;
	len += (size_t)snprintf(xml + len, sizeof(xml) - len,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" "
		"Version=\"4.0\">\n");
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]) && len < sizeof(xml); i++) {
		len += (size_t)snprintf(xml + len, sizeof(xml) - len,
			"  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/%s_v1.xml\">\n"
			"    <edmx:Include Namespace=\"%s\"/>\n", schemas[i].ns, schemas[i].ns);
		if (schemas[i].version && len < sizeof(xml))
			len += (size_t)snprintf(xml + len, sizeof(xml) - len,
				"    <edmx:Include Namespace=\"%s.%s\"/>\n", schemas[i].ns,
				schemas[i].version);
		if (len < sizeof(xml))
			len += (size_t)snprintf(xml + len, sizeof(xml) - len, "  </edmx:Reference>\n");
	}
	len = oem_references(xml, len, sizeof(xml));
	if (len < sizeof(xml))
		snprintf(xml + len, sizeof(xml) - len,
			 "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/"
			 "RedfishExtensions_v1.xml\">\n"
			 "    <edmx:Include Namespace=\"RedfishExtensions.v1_0_0\" Alias=\"Redfish\"/>\n"
			 "  </edmx:Reference>\n"
			 "  <edmx:DataServices>\n"
			 "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" "
			 "Namespace=\"Service\">\n"
			 "      <EntityContainer Name=\"Service\" "
			 "Extends=\"ServiceRoot.v1_20_0.ServiceContainer\"/>\n"
			 "    </Schema>\n"
			 "  </edmx:DataServices>\n"
			 "</edmx:Edmx>\n");
	return xml;
}

static void metadata_get(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res)
{
	(void)rf, (void)req;
	res->status = 200;
	res->raw_body = metadata_xml();
	res->raw_type = "application/xml";
}

const struct rf_route rf_routes_root[] = {
	{ HTTP_GET, "/redfish", version_get, 0 },
	{ HTTP_GET, RF_V1, root_get, 0 },
	{ HTTP_GET, RF_V1 "/odata", odata_get, 0 },
	{ HTTP_GET, RF_V1 "/$metadata", metadata_get, 0 },
	{ 0, NULL, NULL, 0 },
};
