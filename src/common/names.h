/* SPDX-License-Identifier: MIT */
/* Enums have one string table each; these read and write them. */
#ifndef DHP_COMMON_NAMES_H
#define DHP_COMMON_NAMES_H

#include <errno.h>
#include <string.h>

/* The index of name in names[0..max), or -EINVAL. */
static inline int dhp_name_index(const char *const *names, unsigned max, const char *name)
{
	for (unsigned i = 0; name && i < max; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -EINVAL;
}

/* names[i], or "?" outside the table. */
static inline const char *dhp_name_of(const char *const *names, unsigned max, unsigned i)
{
	return i < max && names[i] ? names[i] : "?";
}

/* Define NAME_name() and NAME_parse() for an enum and its string table. */
#define DHP_NAMES_DEFINE(prefix, type, table, max)                              \
	const char *prefix##_name(type value)                                   \
	{                                                                       \
		return dhp_name_of(table, max, (unsigned)value);                \
	}                                                                       \
	int prefix##_parse(const char *name, type *ret_value)                   \
	{                                                                       \
		int i = dhp_name_index(table, max, name);                       \
                                                                                \
		if (i < 0)                                                      \
			return i;                                               \
		*ret_value = (type)i;                                           \
		return 0;                                                       \
	}

#endif
