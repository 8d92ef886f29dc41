/* SPDX-License-Identifier: MIT */
/*
 * Units and QEMU devices (devices.c): ids derived from unit ids so that
 * reconcile maps back, QMP arguments, and finding devices in QEMU's
 * answers.
 */
#ifndef DHP_BACKEND_QEMU_DEVICES_H
#define DHP_BACKEND_QEMU_DEVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/qemu/cmdline.h"
#include "model/unit.h"
#include "proto/proto.h"

struct qemu;

void qdev_cpu_id_of(const struct dhp_unit *u, unsigned slot, char *buf, size_t size); /* <id>.<slot> */
void qdev_mem_object(const struct dhp_unit *u, char *buf, size_t size);	/* mem-<id> */
void qdev_fn_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size); /* <id>-d<fn> */
void qdev_node_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size); /* <id>-n<fn> */
/* The props of vCPU slot k (-smp sockets=1,cores=maxcpus). */
json_t *qdev_slot_props(unsigned slot);
/* The slot of an entry of query-hotpluggable-cpus/query-cpus-fast, -1. */
int qdev_slot_of(json_t *entry);
/* The entry of query-hotpluggable-cpus for a slot, borrowed, or NULL. */
json_t *qdev_cpu_entry(json_t *cpus, unsigned slot);
/* The device id of a plugged vCPU ("/machine/peripheral/<id>"), or NULL
 * (the boot vCPU has none). Points into entry. */
const char *qdev_cpu_id(json_t *entry);
/* The DIMM with this id in query-memory-devices: its address and size. */
bool qdev_dimm_find(json_t *mems, const char *id, uint64_t *ret_addr, uint64_t *ret_size);
/* Find the function with qdev id in query-pci: its guest address. */
bool qdev_pci_find(json_t *pci, const char *id, char *slot, size_t size);
/* How unit u looks to the agent of partition (which u may not be wired to
 * yet, or any more). */
void qdev_proto_unit(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		     struct dhp_proto_unit *ret);
/* Device_add arguments (props is taken). */
json_t *qdev_cpu_args(const char *type, const char *id, json_t *props);
json_t *qdev_fn_args(const struct dhp_unit *u, enum qemu_fn_kind kind, unsigned fn,
		     unsigned n_fns, unsigned port);

#endif
