/* SPDX-License-Identifier: MIT */
/*
 * `login`: create a session and print its token, so that the password is
 * typed (or read) once and later commands send only the token:
 *   export DHP_TOKEN=$(dhpctl --user admin login)
 * Only the token goes to stdout; with -o json, the token and the session's
 * URI, which a client deletes to log out.
 */
#include <stdio.h>

#include "http.h"

int cmd_login(struct ctl *ctl, const struct ctl_args *args)
{
	struct ctl_error err = { 0 };
	struct http_reply reply;
	json_t *body;
	int r;

	(void)args;
	body = json_pack("{ss ss}", "UserName", ctl->cfg.user, "Password",
			 ctl->cfg.password ? ctl->cfg.password : "");
	r = http_call(ctl->http, "POST", "/redfish/v1/SessionService/Sessions", body, NULL, &reply,
		      &err);
	json_decref(body);
	if (r == 0 && !reply.token[0])
		r = ctl_error_set(&err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				  "the server made a session but sent no X-Auth-Token");
	if (r < 0) {
		http_reply_release(&reply);
		return ctl_error_print(&err);
	}
	if (ctl->json) {
		json_t *out = json_pack("{ss ss}", "token", reply.token, "session",
					reply.location[0] ? reply.location :
					jstr(reply.json, "@odata.id", ""));

		json_print(out);
		json_decref(out);
	} else {
		printf("%s\n", reply.token);
	}
	http_reply_release(&reply);
	return CTL_EXIT_OK;
}
