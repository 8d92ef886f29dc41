# --- dhp's OEM schemas, built into dhpd: schemas/oem/, docs/schemas.md ---------
# Every file of schemas/oem/ (CSDL and JSON Schema) becomes bytes in a
# generated C file, $(BUILD)/gen/schema-files.c (scripts/embed-files; not in
# git), compiled as part of the redfish layer, which serves them under
# /redfish/v1/Schemas/ (src/redfish/resources/oem.c). The fuzz archive
# (mk/fuzz.mk) takes the same file.
RF_SCHEMA_FILES := $(sort $(wildcard schemas/oem/*.xml schemas/oem/*.json))
RF_SCHEMA_C     := $(BUILD)/gen/schema-files.c

$(RF_SCHEMA_C): $(RF_SCHEMA_FILES) scripts/embed-files mk/redfish-schemas.mk
	@mkdir -p $(dir $@)
	@scripts/embed-files $(RF_SCHEMA_FILES) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/schema-files.o: $(RF_SCHEMA_C) | $(redfish_INC)/.made
	$(CC) $(BASE_CFLAGS) $(redfish_CFLAGS) -c $< -o $@

$(call layer_lib,redfish): $(BUILD)/gen/schema-files.o

$(FUZZ_BUILD)/gen/schema-files.o: $(RF_SCHEMA_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_LIB): $(FUZZ_BUILD)/gen/schema-files.o

-include $(BUILD)/gen/schema-files.d
# --- end of OEM schemas ------------------------------------------------------------
