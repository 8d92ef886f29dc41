/* SPDX-License-Identifier: MIT */
/* Small file-system helpers shared by the programs. */
#ifndef DHP_COMMON_FS_H
#define DHP_COMMON_FS_H

#include "common/error.h"

/* mkdir -p, each directory made with mode 0700 (state directories). */
int dhp_mkdir_p(const char *dir, struct dhp_error *err);

#endif
