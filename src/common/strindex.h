/* SPDX-License-Identifier: MIT */
/*
 * A hash index from strings to positions in an array the caller owns
 * (unit ids, interned model names): open addressing, at most half full.
 * The index stores positions only; key(ctx, pos) gives the string back.
 */
#ifndef DHP_COMMON_STRINDEX_H
#define DHP_COMMON_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

#define DHP_STRINDEX_NONE UINT32_MAX

typedef const char *(*dhp_strindex_key_fn)(const void *ctx, uint32_t pos);

struct dhp_strindex {
	uint32_t *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* FNV-1a: small, and good enough for ids and digests. */
static inline uint64_t dhp_fnv1a(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

#define DHP_FNV_OFFSET 0xcbf29ce484222325ull

/* The position of s, or DHP_STRINDEX_NONE. */
uint32_t dhp_strindex_find(const struct dhp_strindex *ix, const char *s,
			   dhp_strindex_key_fn key, const void *ctx);
/* Index position pos (its string must not be indexed yet). -ENOMEM. */
int dhp_strindex_add(struct dhp_strindex *ix, uint32_t pos, dhp_strindex_key_fn key,
		     const void *ctx);
void dhp_strindex_release(struct dhp_strindex *ix);

#endif
