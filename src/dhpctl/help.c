/* SPDX-License-Identifier: MIT */
/* --help: the program's and each verb's, from the command table. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char global_help[] =
	"options (anywhere on the line):\n"
	"  --url URL              dhpd's address (default " CTL_DEFAULT_URL ")\n"
	"  --user USER            log in as USER (HTTP Basic)\n"
	"  --password-file FILE   the password: the first line of FILE\n"
	"  --password PASSWORD    the password (visible to other users in ps: prefer a file)\n"
	"  --token TOKEN          a session token from dhpctl login, instead of a password\n"
	"  --cacert FILE          trust the server certificate(s) in FILE (PEM)\n"
	"  --insecure             do not verify the server's TLS certificate\n"
	"  --config FILE          the configuration file (default ~/.config/dhp/dhpctl.conf)\n"
	"  -o, --output FORMAT    table (default) or json\n"
	"  --timeout SECONDS      time limit of each request (default 30)\n"
	"  --no-wait              do not follow a long operation: print its id and return\n"
	"  -h, --help             this help; with a command, the command's\n"
	"  --version              dhpctl's version\n";

static const char config_help[] =
	"configuration: each setting comes from the first of the command line, the\n"
	"environment (DHP_URL, DHP_USER, DHP_PASSWORD, DHP_TOKEN, DHP_CACERT) and the\n"
	"configuration file (lines \"url = ...\", \"user = ...\", \"password-file = ...\",\n"
	"\"cacert = ...\"). Without --cacert or --insecure the system's CA store is used.\n";

static const char exit_help[] =
	"exit status:\n"
	"  0    ok\n"
	"  1    the operation failed or was rolled back\n"
	"  2    bad usage or configuration\n"
	"  3    refused by the server (a 4xx answer but 401/403, or 501): nothing changed\n"
	"  4    authentication or authorization failed (401, 403)\n"
	"  5    cannot reach the server: connection, TLS, protocol or server error\n"
	"  130  interrupted (Ctrl-C) while waiting; the operation goes on in dhpd\n";

/* Print text wrapped at 76 columns, indented by indent spaces. */
static void wrap(const char *text, int indent)
{
	const char *p = text;
	int col = 0;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col && col + 1 + (int)word > 76) {
			putchar('\n');
			col = 0;
		}
		if (!col)
			col = printf("%*s", indent, "");
		else
			col += printf(" ");
		col += printf("%.*s", (int)word, p);
		p += word;
		while (*p == ' ')
			p++;
	}
	if (col)
		putchar('\n');
}

void help_print(void)
{
	printf("usage: " PROG " [OPTIONS] COMMAND [ARGS]\n\n");
	wrap("dhpctl drives dhpd, the dynamic hardware partitioning daemon, through its "
	     "Redfish API: it lists the server's units and partitions, creates and deletes "
	     "partitions, starts and stops them, and hot adds, removes and replaces their "
	     "units while their OS runs, showing each phase as it happens.", 0);
	printf("\ncommands:\n");
	for (const struct ctl_cmd *cmd = ctl_cmds; cmd->name; cmd++)
		printf("  %-11s %s\n", cmd->name, cmd->summary);
	printf("  %-11s %s\n", "help", "this help, or a command's: dhpctl help COMMAND");
	printf("\n%s\n", global_help);
	printf("%s\n%s", config_help, exit_help);
}

void help_print_cmd(const struct ctl_cmd *cmd)
{
	printf("usage: " PROG " [OPTIONS] %s%s%s\n\n", cmd->name, cmd->synopsis[0] ? " " : "",
	       cmd->synopsis);
	wrap(cmd->help, 0);
	if (cmd->options[0].name) {
		printf("\noptions:\n");
		for (int i = 0; i < CTL_MAX_OPTIONS && cmd->options[i].name; i++) {
			char left[64];

			snprintf(left, sizeof(left), "--%s%s%s", cmd->options[i].name,
				 cmd->options[i].arg ? " " : "",
				 cmd->options[i].arg ? cmd->options[i].arg : "");
			printf("  %-20s %s\n", left, cmd->options[i].help);
		}
	}
	printf("\nexample:\n  %s\n", cmd->example);
	printf("\nglobal options (--url, --user, -o json, --no-wait, ...) and exit codes: "
	       PROG " --help\n");
}
