/* SPDX-License-Identifier: MIT */
/*
 * Topology files (src/model/topology*.c): the input is the file's text,
 * given to dhp_topology_parse() (what dhp_topology_load() calls once it
 * has read the file). A server it accepts is freed whole; a file it
 * refuses must say why.
 */
#include "fuzz/fuzz.h"

#include <string.h>

#include "model/server.h"
#include "model/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhp_server *server = NULL;
	struct dhp_error err = { 0 };
	char *text = malloc(size + 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = dhp_topology_parse(text, "fuzz", &server, &err);
	if (r < 0)
		FUZZ_CHECK(!server && err.code < 0 && err.message[0]);
	else
		FUZZ_CHECK(r == 0 && server);
	dhp_server_free(server);
	free(text);
	return 0;
}
