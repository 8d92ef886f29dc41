# --- the QEMU backend's agent channel, alone (tests/t1210-qagent.c) ----------
# A unit test of src/backend/qemu/agent.c against a fake agent, without
# QEMU: like t1300 it links the QEMU backend's objects (in libdhpcore.a)
# and the protocol library after them; it needs nothing of the API.
$(BUILD)/tests/t1210-qagent: $(BUILD)/tests/t1210-qagent.o $(TEST_HELPER_OBJS) $(LIB) \
			     $(PROTO_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(PROTO_LIBS) $(LIBS) -o $@
