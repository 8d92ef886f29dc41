#!/bin/bash
# SPDX-License-Identifier: MIT
# What t0890-redfish-validators.py puts on dhpd before DMTF's validators walk
# it, so that the walk meets every kind of resource: two partitions (web
# running, db off), a finished hot add (a task, events in the log), a second
# account and an event subscription. Run by the validators' `run` script
# inside its network namespace, with URL, USER, PASSWORD and CA set.
set -eu
V1=$URL/redfish/v1
BLOCKS=/redfish/v1/CompositionService/ResourceBlocks

rf() {	# METHOD PATH [BODY]: prints the body, fails on an HTTP error
	curl -sS --fail-with-body --cacert "$CA" -u "$USER:$PASSWORD" -X "$1" \
		-H "Content-Type: application/json" ${3:+-d "$3"} "$V1$2"
	echo
}

# Polls until PATH's body has TEXT (the operations run on dhpd's loop).
wait_for() {	# PATH TEXT
	for _ in $(seq 200); do
		rf GET "$1" | grep -q "$2" && return 0
		sleep 0.1
	done
	echo "setup: $1 never showed $2" >&2
	return 1
}

block() { printf '{"@odata.id":"%s/%s"}' "$BLOCKS" "$1"; }

rf POST /Systems "{\"Name\":\"web\",\"Links\":{\"ResourceBlocks\":[$(block s0-cpu0),$(block s0-mem0),$(block s0-iohb0)]}}"
rf POST /Systems "{\"Name\":\"db\",\"Links\":{\"ResourceBlocks\":[$(block s1-cpu0),$(block s1-mem0)]}}"
wait_for /Systems/db '"PowerState"'
rf POST /Systems/web/Actions/ComputerSystem.Reset '{"ResetType":"On"}'
wait_for /Systems/web '"PowerState": *"On"'
# A hot add of a processor to the running partition, by the array PATCH of
# DSP0266 ({} keeps an element).
rf PATCH /Systems/web '{"Links":{"ResourceBlocks":[{},{},{},'"$(block s0-cpu1)"']}}'
wait_for /Systems/web s0-cpu1
rf POST /AccountService/Accounts '{"UserName":"viewer","Password":"viewer-pass-1234","RoleId":"ReadOnly"}'
# 192.0.2.0/24 is TEST-NET-1: in the validators' namespace nothing routes there.
rf POST /EventService/Subscriptions \
	'{"Destination":"https://192.0.2.10/events","Protocol":"Redfish","Context":"validators"}'
