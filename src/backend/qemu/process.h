/* SPDX-License-Identifier: MIT */
/*
 * QEMU processes (process.c): spawning one in its own session, its pid
 * (trusted only with its start time, as pids are reused), whether it
 * lives, its log.
 */
#ifndef DHP_BACKEND_QEMU_PROCESS_H
#define DHP_BACKEND_QEMU_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Spawn QEMU (argv[0] found in PATH) in its own session with stdin
 * /dev/null and stdout/stderr appended to log; *ret_child is the process
 * that daemonizes and exits. */
int qemu_spawn(char *const *argv, const char *log, pid_t *ret_child, struct dhp_error *err);
/* 1 when child exited (status in *ret_status), 0 while it runs, <0. */
int qemu_child_done(pid_t child, int *ret_status);
/* The pid in a -pidfile, and its start time; -ENOENT. */
int qemu_pid_read(const char *path, pid_t *ret_pid, uint64_t *ret_start);
/* The process pid started at start lives (a zombie does not). */
bool qemu_pid_alive(pid_t pid, uint64_t start);
int qemu_pid_kill(pid_t pid, uint64_t start, int sig);
/* The last line of a log file, for error messages. */
void qemu_log_tail(const char *path, char *buf, size_t size);

#endif
