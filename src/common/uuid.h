/* SPDX-License-Identifier: MIT */
/*
 * Random UUIDs (RFC 4122 version 4, RFC variant) as text: what a
 * partition is known by outside dhp (Redfish's UUID, the guest's SMBIOS
 * system UUID), unlike its name, which can be used again.
 */
#ifndef DHP_COMMON_UUID_H
#define DHP_COMMON_UUID_H

#include <stdbool.h>

/* "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" and its NUL. */
#define DHP_UUID_LEN 37

/*
 * A new random UUID in buf, lowercase, from getrandom(2) (blocking only
 * before the kernel's pool was ever seeded, which is never after boot).
 * 0 or a negative errno.
 */
int dhp_uuid_random(char buf[DHP_UUID_LEN]);

/* Whether s is a UUID as dhp writes them: 36 characters, lowercase hex
 * digits and dashes at 8, 13, 18 and 23 (any version). */
bool dhp_uuid_valid(const char *s);

#endif
