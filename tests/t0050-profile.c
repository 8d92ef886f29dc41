/* SPDX-License-Identifier: MIT */
/* Every cell of the seed's capability table, plus the linux profile. */
#include <string.h>

#include "harness.h"
#include "model/profile.h"

#define P DHP_UNIT_PROCESSOR
#define M DHP_UNIT_MEMORY
#define IO DHP_UNIT_IO_HOST_BRIDGE

struct cell {
	const char *profile;
	enum dhp_online_action action;
	enum dhp_unit_type type;
	bool can;
};

/* The seed's table, cell by cell; anything not listed as yes is no. */
static const struct cell cells[] = {
	{ "windows-server-2003-sp1", DHP_ONLINE_ADD, P, false },
	{ "windows-server-2003-sp1", DHP_ONLINE_ADD, M, true },
	{ "windows-server-2003-sp1", DHP_ONLINE_ADD, IO, false },
	{ "windows-server-2003-sp1", DHP_ONLINE_REPLACE, P, false },
	{ "windows-server-2003-sp1", DHP_ONLINE_REPLACE, M, false },
	{ "windows-server-2003-sp1", DHP_ONLINE_REPLACE, IO, false },
	{ "windows-server-2008-x86", DHP_ONLINE_ADD, P, false },
	{ "windows-server-2008-x86", DHP_ONLINE_ADD, M, true },
	{ "windows-server-2008-x86", DHP_ONLINE_ADD, IO, false },
	{ "windows-server-2008-x86", DHP_ONLINE_REPLACE, P, false },
	{ "windows-server-2008-x86", DHP_ONLINE_REPLACE, M, false },
	{ "windows-server-2008-x86", DHP_ONLINE_REPLACE, IO, false },
	{ "windows-server-2008-x64", DHP_ONLINE_ADD, P, true },
	{ "windows-server-2008-x64", DHP_ONLINE_ADD, M, true },
	{ "windows-server-2008-x64", DHP_ONLINE_ADD, IO, true },
	{ "windows-server-2008-x64", DHP_ONLINE_REPLACE, P, true },
	{ "windows-server-2008-x64", DHP_ONLINE_REPLACE, M, true },
	{ "windows-server-2008-x64", DHP_ONLINE_REPLACE, IO, false },
	{ "linux", DHP_ONLINE_ADD, P, true },
	{ "linux", DHP_ONLINE_ADD, M, true },
	{ "linux", DHP_ONLINE_ADD, IO, true },
	{ "linux", DHP_ONLINE_REMOVE, P, true },
	{ "linux", DHP_ONLINE_REMOVE, M, true },
	{ "linux", DHP_ONLINE_REMOVE, IO, true },
	{ "linux", DHP_ONLINE_REPLACE, P, true },
	{ "linux", DHP_ONLINE_REPLACE, M, true },
	{ "linux", DHP_ONLINE_REPLACE, IO, false },
};

static void test_cells(void)
{
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell *c = &cells[i];

		test_begin("%s %s %s = %s", c->profile, dhp_online_action_name(c->action),
			   dhp_unit_type_name(c->type), c->can ? "yes" : "no");
		CHECK(dhp_profile_find(c->profile) != NULL);
		CHECK_INT(dhp_profile_can(dhp_profile_find(c->profile), c->action, c->type), c->can);
		test_end();
	}
}

/* "No hot remove for any of them": every Windows profile, every type. */
static void test_windows_never_removes(void)
{
	unsigned n;
	const struct dhp_os_profile *all = dhp_profiles(&n);

	CHECK_INT(n, 4);
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(all[i].name, "linux"))
			continue;
		for (int t = 0; t < DHP_UNIT_TYPE_MAX; t++)
			CHECK(!dhp_profile_can(&all[i], DHP_ONLINE_REMOVE, (enum dhp_unit_type)t));
	}
}

static void test_lookup(void)
{
	CHECK(dhp_profile_find("windows-server-2012") == NULL);
	CHECK(dhp_profile_find(NULL) == NULL);
	CHECK(!dhp_profile_can(NULL, DHP_ONLINE_ADD, P));
	CHECK(!dhp_profile_can(dhp_profile_find("linux"), DHP_ONLINE_ACTION_MAX, P));
	CHECK(!dhp_profile_can(dhp_profile_find("linux"), DHP_ONLINE_ADD, DHP_UNIT_TYPE_MAX));
}

int main(void)
{
	test_cells();
	RUN(test_windows_never_removes);
	RUN(test_lookup);
	return test_done();
}
