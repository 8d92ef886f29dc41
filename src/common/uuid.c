/* SPDX-License-Identifier: MIT */
#include "common/uuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static int fill_random(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	return 0;
}

int dhp_uuid_random(char buf[DHP_UUID_LEN])
{
	uint8_t b[16];
	int r = fill_random(b, sizeof(b));

	if (r)
		return r;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);	/* version 4: random */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);	/* the RFC 4122 variant */
	snprintf(buf, DHP_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return 0;
}

bool dhp_uuid_valid(const char *s)
{
	if (!s || strlen(s) != DHP_UUID_LEN - 1)
		return false;
	for (size_t i = 0; i < DHP_UUID_LEN - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}
