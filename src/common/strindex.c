/* SPDX-License-Identifier: MIT */
#include "common/strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t home(const struct dhp_strindex *ix, const char *s)
{
	return dhp_fnv1a(DHP_FNV_OFFSET, s, strlen(s)) & (ix->cap - 1);
}

uint32_t dhp_strindex_find(const struct dhp_strindex *ix, const char *s,
			   dhp_strindex_key_fn key, const void *ctx)
{
	if (!s || !ix->cap)
		return DHP_STRINDEX_NONE;
	for (size_t slot = home(ix, s); ix->slots[slot] != DHP_STRINDEX_NONE;
	     slot = (slot + 1) & (ix->cap - 1))
		if (!strcmp(key(ctx, ix->slots[slot]), s))
			return ix->slots[slot];
	return DHP_STRINDEX_NONE;
}

static void place(struct dhp_strindex *ix, uint32_t pos, const char *s)
{
	size_t slot = home(ix, s);

	while (ix->slots[slot] != DHP_STRINDEX_NONE)
		slot = (slot + 1) & (ix->cap - 1);
	ix->slots[slot] = pos;
}

static int grow(struct dhp_strindex *ix, dhp_strindex_key_fn key, const void *ctx)
{
	struct dhp_strindex bigger = { .cap = ix->cap ? 2 * ix->cap : 64, .n = ix->n };

	bigger.slots = malloc(bigger.cap * sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	memset(bigger.slots, 0xff, bigger.cap * sizeof(*bigger.slots));
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i] != DHP_STRINDEX_NONE)
			place(&bigger, ix->slots[i], key(ctx, ix->slots[i]));
	free(ix->slots);
	*ix = bigger;
	return 0;
}

int dhp_strindex_add(struct dhp_strindex *ix, uint32_t pos, dhp_strindex_key_fn key,
		     const void *ctx)
{
	if (2 * (ix->n + 1) > ix->cap && grow(ix, key, ctx))
		return -ENOMEM;
	place(ix, pos, key(ctx, pos));
	ix->n++;
	return 0;
}

void dhp_strindex_release(struct dhp_strindex *ix)
{
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}
