/* SPDX-License-Identifier: MIT */
/* The command table (commands.c) and the help (help.c), for main.c. */
#ifndef DHPCTL_COMMANDS_H
#define DHPCTL_COMMANDS_H

#include "dhpctl.h"

extern const struct ctl_cmd ctl_cmds[];	/* ends with a NULL name */

const struct ctl_cmd *ctl_cmd_find(const char *name);
/* The index of a verb's option by name, or -1. */
int ctl_cmd_option(const struct ctl_cmd *cmd, const char *name);

/* The program's help: the verbs, the global options, configuration and
 * exit codes. */
void help_print(void);
/* One verb's help. */
void help_print_cmd(const struct ctl_cmd *cmd);

#endif
