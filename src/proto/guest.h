/* SPDX-License-Identifier: MIT */
/*
 * Reading what a Linux guest says about its hardware, shared by dhp-agent,
 * dhpd (reading the agent's state) and libdhp (whose fallback, without an
 * agent, reads kernel uevents directly). Pure: strings in, values out.
 */
#ifndef DHP_PROTO_GUEST_H
#define DHP_PROTO_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* CPU numbers a cpulist may name; Linux's NR_CPUS is at most 8192 on x86. */
#define DHP_CPULIST_CPUS 8192

/*
 * Write the set { i < n : set[i] } as a kernel cpulist ("0-3,8,10-11"; ""
 * when empty) into buf. -EMSGSIZE when it does not fit (buf is then "").
 */
int dhp_cpulist_format(const bool *set, size_t n, char *buf, size_t size);

/*
 * Read a cpulist into set[0..n) (cleared first). -EINVAL when malformed
 * (ranges backwards, not numbers) or naming a cpu >= n.
 */
int dhp_cpulist_parse(const char *list, bool *set, size_t n);

/*
 * A kernel uevent, as a NETLINK_KOBJECT_UEVENT datagram delivers it
 * ("ACTION@DEVPATH\0KEY=VALUE\0..."), about a processor, a memory block or a
 * PCI function: as the protocol's event (add, remove, online, offline).
 * block_size turns a memory block's number into its address range.
 * Returns 0 and sets *ret_event; -ENOENT for a uevent about anything else
 * (to be ignored); -EINVAL when malformed.
 */
int dhp_proto_uevent_parse(const char *buf, size_t len, uint64_t block_size,
			   struct dhp_proto_event *ret_event);

#endif
