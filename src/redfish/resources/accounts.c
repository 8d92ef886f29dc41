/* SPDX-License-Identifier: MIT */
/*
 * The AccountService: accounts (ManagerAccount) and the three predefined
 * roles (docs/auth.md).
 *
 * Who may do what: ConfigureUsers sees and changes every account; anyone
 * else sees only their own, and may change only its Password
 * (ConfigureSelf). Everyone with Login sees the roles. A PATCH or DELETE
 * of an account with If-Match is checked against the account's ETag.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "redfish/resources/resources.h"

#define ACCOUNT_SERVICE	"/redfish/v1/AccountService"
#define ACCOUNTS	ACCOUNT_SERVICE "/Accounts"
#define ROLES		ACCOUNT_SERVICE "/Roles"

#define T_ACCOUNT_SERVICE "#AccountService.v1_18_1.AccountService"
#define T_ACCOUNTS	"#ManagerAccountCollection.ManagerAccountCollection"
#define T_ACCOUNT	"#ManagerAccount.v1_14_1.ManagerAccount"
#define T_ROLES		"#RoleCollection.RoleCollection"
#define T_ROLE		"#Role.v1_3_3.Role"

/* A body, or 500 when building it ran out of memory. */
static void send(struct http_response *res, unsigned status, json_t *body)
{
	if (!body)
		rf_error(res, 500, "InternalError", NULL, "out of memory");
	else
		rf_ok(res, status, body);
}

static json_t *collection(const char *type, const char *id, const char *name, json_t *members)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:o}", "@odata.type", type, "@odata.id", id,
			 "Name", name, "Members@odata.count",
			 (json_int_t)json_array_size(members), "Members", members);
}

static void service_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct auth_config c;

	(void)req;
	auth_get_config(rf_auth(rf), &c);
	send(res, 200, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:I, s:I, s:b,"
				 " s:{s:s}, s:{s:s}, s:{s:s, s:s}}",
				 "@odata.type", T_ACCOUNT_SERVICE, "@odata.id", ACCOUNT_SERVICE,
				 "Id", "AccountService", "Name", "Account Service",
				 "ServiceEnabled", 1, "LocalAccountAuth", "Enabled",
				 "MinPasswordLength", AUTH_PASSWORD_MIN,
				 "MaxPasswordLength", AUTH_PASSWORD_MAX,
				 "AccountLockoutThreshold", (json_int_t)c.lockout_threshold,
				 "AccountLockoutDuration", (json_int_t)c.lockout_duration_s,
				 "AccountLockoutCounterResetEnabled", 0,
				 "Accounts", "@odata.id", ACCOUNTS, "Roles", "@odata.id", ROLES,
				 "Status", "State", "Enabled", "Health", "OK"));
}

/* --- roles --------------------------------------------------------------- */

static json_t *role_json(enum auth_role role)
{
	const char *names[8];
	unsigned n = auth_privilege_names(auth_role_privileges(role), names, 8);
	json_t *privileges = json_array();

	for (unsigned i = 0; privileges && i < n; i++)
		json_array_append_new(privileges, json_string(names[i]));
	return json_pack("{s:s, s:s+, s:s, s:s, s:s, s:b, s:o, s:[]}", "@odata.type", T_ROLE,
			 "@odata.id", ROLES "/", auth_role_name(role), "Id", auth_role_name(role),
			 "Name", auth_role_name(role), "RoleId", auth_role_name(role),
			 "IsPredefined", 1, "AssignedPrivileges", privileges, "OemPrivileges");
}

static void roles_list(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	json_t *members = json_array();

	(void)rf, (void)req;
	for (unsigned i = 0; members && i < AUTH_ROLE_MAX; i++)
		json_array_append_new(members, json_pack("{s:s+}", "@odata.id", ROLES "/",
							 auth_role_name((enum auth_role)i)));
	send(res, 200, collection(T_ROLES, ROLES, "Roles", members));
}

static void role_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	enum auth_role role;

	(void)rf;
	if (auth_role_parse(req->params[0], &role)) {
		rf_error(res, 404, "ResourceNotFound", NULL,
			 "The requested resource of type Role named '%.40s' was not found.",
			 req->params[0]);
		return;
	}
	send(res, 200, role_json(role));
}

/* --- accounts: reading --------------------------------------------------- */

/* Account names ignore case (docs/auth.md): /Accounts/ADMIN is admin's. */
static bool is_self(const struct rf_request *req, const char *user)
{
	return !strcasecmp(req->who->user, user);
}

static json_t *account_json(const struct auth_account_info *a)
{
	return json_pack("{s:s, s:s+, s:s, s:s, s:s, s:s, s:b, s:b, s:[s], s:{s:{s:s+}}}",
			 "@odata.type", T_ACCOUNT, "@odata.id", ACCOUNTS "/", a->user,
			 "Id", a->user, "Name", "User Account", "UserName", a->user,
			 "RoleId", auth_role_name(a->role), "Enabled", a->enabled,
			 "Locked", a->locked, "AccountTypes", "Redfish",
			 "Links", "Role", "@odata.id", ROLES "/", auth_role_name(a->role));
}

static void accounts_list(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	bool all = req->who->privileges & AUTH_PRIV_CONFIGURE_USERS;
	json_t *members = json_array();
	struct auth_account_info a;

	for (size_t i = 0; members && !auth_account_get(rf_auth(rf), i, rf_now_s(rf), &a); i++)
		if (all || is_self(req, a.user))
			json_array_append_new(members, json_pack("{s:s+}", "@odata.id",
								 ACCOUNTS "/", a.user));
	send(res, 200, collection(T_ACCOUNTS, ACCOUNTS, "Accounts", members));
}

/* The account of the request's {user}: another's needs ConfigureUsers
 * (403 before 404: others' names are not disclosed). */
static bool lookup(struct redfish *rf, const struct rf_request *req, struct http_response *res,
		   struct auth_account_info *ret_info)
{
	const char *user = req->params[0];

	if (!is_self(req, user) && !(req->who->privileges & AUTH_PRIV_CONFIGURE_USERS)) {
		rf_error(res, 403, "InsufficientPrivilege",
			 "Only an account with ConfigureUsers may see or change another account.",
			 "The account '%.40s' is not yours.", user);
		return false;
	}
	if (auth_account_find(rf_auth(rf), user, rf_now_s(rf), ret_info)) {
		rf_error(res, 404, "ResourceNotFound", NULL,
			 "The requested resource of type ManagerAccount named '%.40s' was not found.",
			 user);
		return false;
	}
	return true;
}

static void account_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct auth_account_info a;

	if (lookup(rf, req, res, &a))
		send(res, 200, account_json(&a));
}

static void account_delete(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct dhp_error err = { 0 };
	struct auth_account_info a;

	if (!lookup(rf, req, res, &a) || rf_precondition(res, req->if_match, account_json(&a)) < 0)
		return;
	if (auth_account_delete(rf_auth(rf), a.user, &err))
		rf_error_from(res, &err);
	else
		rf_ok(res, 204, NULL);
}

/* --- accounts: writing --------------------------------------------------- */

/* What a ManagerAccount body may hold: the writable properties with their
 * JSON type, and the resource's read-only ones (PropertyNotWritable). */
static const struct {
	const char *name;
	json_type type;		/* JSON_NULL: read-only */
} props[] = {
	{ "UserName", JSON_STRING }, { "Password", JSON_STRING }, { "RoleId", JSON_STRING },
	{ "Enabled", JSON_TRUE },
	{ "@odata.id", JSON_NULL }, { "@odata.type", JSON_NULL }, { "@odata.etag", JSON_NULL },
	{ "Id", JSON_NULL }, { "Name", JSON_NULL }, { "Description", JSON_NULL },
	{ "Locked", JSON_NULL }, { "AccountTypes", JSON_NULL }, { "Links", JSON_NULL },
	{ "PasswordChangeRequired", JSON_NULL },
};

static bool type_ok(const json_t *val, json_type type)
{
	return type == JSON_TRUE ? json_is_boolean(val) : json_typeof(val) == type;
}

/* 0, or a 400 in res. */
static int check_body(const json_t *body, struct http_response *res)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(body)) {
		rf_error(res, 400, "MalformedJSON", NULL, "The request body must be a JSON object.");
		return -EINVAL;
	}
	if (!json_object_size(body)) {
		rf_error(res, 400, "EmptyJSON", "Add properties to the body and resubmit the request.",
			 "The request body submitted contained an empty JSON object and the service is unable to process it.");
		return -EINVAL;
	}
	json_object_foreach((json_t *)body, key, val) {
		for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
			if (!strcmp(props[i].name, key))
				break;
		if (i == sizeof(props) / sizeof(props[0])) {
			rf_error(res, 400, "PropertyUnknown", NULL,
				 "The property %.40s is not in the list of valid properties for the resource.",
				 key);
			return -EINVAL;
		}
		if (props[i].type == JSON_NULL) {
			rf_error(res, 400, "PropertyNotWritable", NULL,
				 "The property %s is a read-only property and cannot be assigned a value.",
				 key);
			return -EINVAL;
		}
		if (!type_ok(val, props[i].type)) {
			rf_error(res, 400, "PropertyValueTypeError", NULL,
				 "The value for the property %s is not a type that the property can accept.",
				 key);
			return -EINVAL;
		}
	}
	return 0;
}

/* RoleId of body into ret_role (unchanged when absent); 0 or a 400. */
static int body_role(const json_t *body, struct http_response *res, enum auth_role *ret_role)
{
	const char *name = json_string_value(json_object_get(body, "RoleId"));

	if (name && auth_role_parse(name, ret_role)) {
		rf_error(res, 400, "PropertyValueNotInList", NULL,
			 "The value '%.40s' for the property RoleId is not in the list of acceptable values (Administrator, Operator, ReadOnly).",
			 name);
		return -EINVAL;
	}
	return 0;
}

static int missing(struct http_response *res, const char *name)
{
	rf_error(res, 400, "PropertyMissing", NULL,
		 "The property %s is a required property and must be included in the request.",
		 name);
	return -EINVAL;
}

/* Answer 200 or 201 with the account as it is now. */
static void send_account(struct redfish *rf, struct http_response *res, unsigned status,
			 const char *user)
{
	struct auth_account_info a;

	if (auth_account_find(rf_auth(rf), user, rf_now_s(rf), &a))
		rf_error(res, 500, "InternalError", NULL, "the account %s vanished", user);
	else
		send(res, status, account_json(&a));
}

static void account_create(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	const json_t *body = req->body;
	struct auth *auth = rf_auth(rf);
	struct dhp_error err = { 0 };
	enum auth_role role = AUTH_ROLE_READONLY;
	const char *user, *password;
	json_t *enabled;

	if (check_body(body, res) || body_role(body, res, &role))
		return;
	user = json_string_value(json_object_get(body, "UserName"));
	password = json_string_value(json_object_get(body, "Password"));
	enabled = json_object_get(body, "Enabled");
	if ((!user && missing(res, "UserName")) || (!password && missing(res, "Password")) ||
	    (!json_object_get(body, "RoleId") && missing(res, "RoleId")))
		return;
	if (auth_account_create(auth, user, password, role, &err))
		goto fail;
	if (json_is_false(enabled) && auth_account_set_enabled(auth, user, false, &err))
		goto delete_account;
	http_header(res, "Location", ACCOUNTS "/%s", user);
	send_account(rf, res, 201, user);
	return;
delete_account:
	auth_account_delete(auth, user, NULL);
fail:
	rf_error_from(res, &err);
}

/*
 * Role, then Enabled, then Password: each change is undone if a later one
 * fails, and the password, which cannot be undone, comes last (its rule is
 * checked before anything changes).
 */
static void account_patch(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	const json_t *body = req->body;
	struct auth *auth = rf_auth(rf);
	struct dhp_error err = { 0 };
	struct auth_account_info a;
	const char *user_name, *password;
	bool role_changed = false, enabled_changed = false;
	enum auth_role role;
	json_t *enabled;
	size_t len;

	/* Preconditions before the body: a stale ETag is 412 whatever it says. */
	if (!lookup(rf, req, res, &a) || rf_precondition(res, req->if_match, account_json(&a)) < 0 ||
	    rf_no_operation(res, body) < 0 || check_body(body, res))
		return;
	role = a.role;
	if (body_role(body, res, &role))
		return;
	user_name = json_string_value(json_object_get(body, "UserName"));
	password = json_string_value(json_object_get(body, "Password"));
	enabled = json_object_get(body, "Enabled");
	if (!(req->who->privileges & AUTH_PRIV_CONFIGURE_USERS) &&
	    (!password || json_object_size(body) != 1)) {
		rf_error(res, 403, "InsufficientPrivilege",
			 "Only an account with ConfigureUsers may change more than its own Password.",
			 "Without ConfigureUsers, Password is the only property you may change.");
		return;
	}
	if (user_name && strcmp(user_name, a.user)) {
		rf_error(res, 400, "PropertyNotWritable", "Create a new account and delete this one.",
			 "The property UserName cannot be changed: accounts are not renamed.");
		return;
	}
	len = password ? strlen(password) : AUTH_PASSWORD_MIN;
	if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX) {
		rf_error(res, 400, "PropertyValueError", NULL,
			 "The value for the property Password is not valid: it must have %d to %d bytes.",
			 AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
		return;
	}
	if (role != a.role) {
		if (auth_account_set_role(auth, a.user, role, &err))
			goto fail;
		role_changed = true;
	}
	if (enabled && json_is_true(enabled) != a.enabled) {
		if (auth_account_set_enabled(auth, a.user, json_is_true(enabled), &err))
			goto undo_role;
		enabled_changed = true;
	}
	/* Other sessions of the account end; the one making the change stays
	 * if it is the account's own (as bmcweb does). */
	if (password && auth_account_set_password(auth, a.user, password,
						  is_self(req, a.user) ? req->who->session_id : NULL,
						  &err))
		goto undo_enabled;
	send_account(rf, res, 200, a.user);
	return;
undo_enabled:
	if (enabled_changed)
		auth_account_set_enabled(auth, a.user, a.enabled, NULL);
undo_role:
	if (role_changed)
		auth_account_set_role(auth, a.user, a.role, NULL);
fail:
	rf_error_from(res, &err);
}

const struct rf_route rf_routes_accounts[] = {
	{ HTTP_GET, ACCOUNT_SERVICE, service_get, AUTH_PRIV_LOGIN },
	{ HTTP_GET, ACCOUNTS, accounts_list, AUTH_PRIV_LOGIN },
	{ HTTP_POST, ACCOUNTS, account_create, AUTH_PRIV_CONFIGURE_USERS },
	/* A POST to a collection's Members is one to the collection (DSP0266). */
	{ HTTP_POST, ACCOUNTS "/Members", account_create, AUTH_PRIV_CONFIGURE_USERS },
	{ HTTP_GET, ACCOUNTS "/{}", account_get, AUTH_PRIV_LOGIN },
	{ HTTP_PATCH, ACCOUNTS "/{}", account_patch, AUTH_PRIV_CONFIGURE_SELF },
	{ HTTP_DELETE, ACCOUNTS "/{}", account_delete, AUTH_PRIV_CONFIGURE_USERS },
	{ HTTP_GET, ROLES, roles_list, AUTH_PRIV_LOGIN },
	{ HTTP_GET, ROLES "/{}", role_get, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
