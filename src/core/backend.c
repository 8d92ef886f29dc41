/* SPDX-License-Identifier: MIT */
#include "core/backend.h"

static const char *const notification_names[DHP_NOTIFY_MAX] = {
	[DHP_NOTIFY_ADD_START] = "add-start",
	[DHP_NOTIFY_ADD_COMPLETE] = "add-complete",
	[DHP_NOTIFY_ADD_FAILURE] = "add-failure",
	[DHP_NOTIFY_REMOVE_QUERY] = "remove-query",
	[DHP_NOTIFY_REMOVE_COMPLETE] = "remove-complete",
	[DHP_NOTIFY_REMOVE_FAILURE] = "remove-failure",
	[DHP_NOTIFY_REPLACE_START] = "replace-start",
	[DHP_NOTIFY_REPLACE_COMPLETE] = "replace-complete",
	[DHP_NOTIFY_REPLACE_FAILURE] = "replace-failure",
};

const char *dhp_notification_name(enum dhp_notification note)
{
	return (unsigned)note < DHP_NOTIFY_MAX ? notification_names[note] : "?";
}

bool dhp_notification_vetoable(enum dhp_notification note)
{
	return note == DHP_NOTIFY_ADD_START || note == DHP_NOTIFY_REMOVE_QUERY;
}
