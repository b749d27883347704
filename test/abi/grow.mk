# The grown-library test's programs (test/integration/abi_grow.sh), made by
# `make abi-grow-programs` (part of `make tests`). Included by the Makefile.
#  - $(BUILD)/grown/libimgclass.so.1: the library with one field appended to
#    every growable struct (-DIMGCLASS_TEST_GROW_STRUCTS, include/imgclass.h):
#    a stand-in for a later minor release.
#  - $(BUILD)/dyn/*: the API examples, the CLI, imgclass-serve,
#    imgclass-watch and test/abi/abi_client.c, built against today's header
#    and linked to the SHARED library (the usual builds link the static one),
#    so LD_LIBRARY_PATH picks which library they run with.
#  - $(BUILD)/grown/abi_client: the client built against the grown header
#    (the reverse case: a newer program on today's library).
GROW_FLAG := -DIMGCLASS_TEST_GROW_STRUCTS
GROWN := $(BUILD)/grown
DYN := $(BUILD)/dyn
GROWN_OBJ := $(LIB_C_SRC:lib/%.c=$(GROWN)/lib/%.o)
GROWN_LIB := $(GROWN)/libimgclass.so.1
DYN_LINK := -L$(BUILD) -l:libimgclass.so.1
DYN_API := $(API_EXAMPLE_SRC:examples/api/%.c=$(DYN)/api/%)
ABI_GROW_PROGRAMS := $(GROWN_LIB) $(DYN_API) $(DYN)/imgclass $(DYN)/imgclass-serve \
    $(DYN)/imgclass-watch $(DYN)/abi_client $(GROWN)/abi_client

abi-grow-programs: $(ABI_GROW_PROGRAMS)

$(GROWN)/lib/%.o: lib/%.c $(BUILD)/generated/engine_paths.h
	@mkdir -p $(dir $@)
	$(CC) $(GROW_FLAG) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -MMD -MP -c $< -o $@

$(GROWN_LIB): $(GROWN_OBJ) lib/imgclass.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/imgclass.map \
	    -Wl,--no-undefined $(SAN) $(LDFLAGS) -o $@ $(GROWN_OBJ) $(CORE_LIBS)

$(DYN)/api/%: examples/api/%.c $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 $(WARN) $(OPT) $(SAN) $(CFLAGS) -o $@ $< $(DYN_LINK) -lpthread

$(DYN)/imgclass: $(CLI_OBJ) $(COMMON_OBJ) $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(CLI_OBJ) $(COMMON_OBJ) $(DYN_LINK) $(CORE_LIBS)

$(DYN)/imgclass-serve: $(SERVE_OBJ) $(COMMON_OBJ) $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(SERVE_OBJ) $(COMMON_OBJ) $(DYN_LINK) $(CORE_LIBS) $(SERVE_LIBS)

$(DYN)/imgclass-watch: $(WATCH_OBJ) $(COMMON_OBJ) $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(WATCH_OBJ) $(COMMON_OBJ) $(DYN_LINK) $(CORE_LIBS) $(MHD_LIBS)

$(DYN)/abi_client: test/abi/abi_client.c include/imgclass.h $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -o $@ $< $(DYN_LINK) -lpthread

$(GROWN)/abi_client: test/abi/abi_client.c include/imgclass.h $(BUILD)/libimgclass.so
	@mkdir -p $(dir $@)
	$(CC) $(GROW_FLAG) -Iinclude -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -o $@ $< $(DYN_LINK) -lpthread

-include $(GROWN_OBJ:.o=.d)
