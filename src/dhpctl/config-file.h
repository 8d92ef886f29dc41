/* SPDX-License-Identifier: MIT */
/* dhpctl's configuration file (config-file.c); used by config.c. */
#ifndef DHPCTL_CONFIG_FILE_H
#define DHPCTL_CONFIG_FILE_H

#include "dhpctl.h"

/* What the file says; NULL where it says nothing. Paths are made absolute
 * (relative to the file's directory, "~/" to $HOME). */
struct config_file {
	char *url, *user, *password_file, *cacert;
};

/*
 * Load path, or the default file when path is NULL (a missing default file
 * is no error; a missing named one is). Lines are "key = value", with "#"
 * comments; an unknown key is an error, so that a typo does not silently
 * send requests elsewhere. Release with config_file_release().
 */
int config_file_load(const char *path, struct config_file *ret_file, struct ctl_error *err);
void config_file_release(struct config_file *file);

#endif
