# --- dhp-agent's applications relay (src/agent/apps*.c) ----------------------
# t1150 plays dhpd and the applications against the real dhp-agent: it links
# the protocol library (not the API's) and runs the agent (order-only: built
# first, not linked in), as t1100 does.
$(BUILD)/tests/t1150-agent-apps: $(BUILD)/tests/t1150-agent-apps.o $(TEST_HELPER_OBJS) \
				 $(PROTO_LIB) $(LIB) | $(AGENT)
	$(CC) $(ALL_LDFLAGS) $^ $(PROTO_LIBS) $(LIBS) -o $@
