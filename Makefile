# imgclass - build, test and install.
#
#   make              library (shared + static), the imgclass CLI, imgclass-serve
#                     and imgclass-watch
#   make api-examples the small programs of examples/api (also built by check)
#   make check        install missing Debian packages, build, run every test
#                     (the suites, then under ASan + UBSan, then valgrind)
#   make test         only the suites: unit, parity, integration (quick)
#   make check-asan   the unit and integration tests under ASan + UBSan
#   make check-valgrind  the unit tests of decoders, preprocessing and parsers
#                     under valgrind (leaks are errors; VALGRIND_ALL=1: all)
#   make demo         the README's main job: export ResNet-18, classify photos
#   make bench        benchmarks against the Python pipeline (slow; not in check)
#   make bench-serve-fleet  only imgclass-serve's fleet goals (v2, hot swap, TLS;
#                     about 4 minutes), part of make bench
#   make fuzz         long-running fuzzing of every target (slow; a smoke run
#                     of each is part of make test and make check)
#   make install / uninstall   honour PREFIX and DESTDIR
#   make install-python / uninstall-python   the Python binding (bindings/python)
#   make deb          the Debian packages (debian/) into build-deb/, lintian-clean
#   make check-deb    builds them, installs them into this machine (root), uses
#                     them as the README's "Install" says, purges them
#   make wheel        the Python wheel, the core library inside, in build/dist/
#
# Sources are found by wildcard: lib/*.c form the core library (pure C),
# lib/*.cpp plus lib/engine_module.c the libtorch engine module that the core
# dlopen()s on the first model load, examples/cli/*.c the CLI,
# examples/serve/*.c the HTTP server,
# examples/common/*.c the helpers the example programs share,
# test/unit/test_*.c one cmocka binary each.

# Build on every CPU unless the caller chose a job count (only at the top
# level: sub-makes share its jobserver).
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

# The version and the soname number come from include/imgclass.h, their one
# home (IMGCLASS_VERSION_* and IMGCLASS_SOVERSION).
header_define = $(shell sed -n 's/^\#define IMGCLASS_$(1) \([0-9][0-9]*\)$$/\1/p' include/imgclass.h)
VERSION := $(call header_define,VERSION_MAJOR).$(call header_define,VERSION_MINOR).$(call header_define,VERSION_PATCH)
SOVERSION := $(call header_define,SOVERSION)
SONAME := libimgclass.so.$(SOVERSION)
# The file's own name carries the soname number first, as ldconfig and
# Debian expect (libimgclass.so.1 -> libimgclass.so.1.MINOR.PATCH).
REALNAME := $(SONAME).$(call header_define,VERSION_MINOR).$(call header_define,VERSION_PATCH)
PY_VERSION_FILE := bindings/python/imgclass/_version.py

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# Engine modules live in a folder of their own: nothing links them.
ENGINEDIR ?= $(LIBDIR)/imgclass

# The interpreter that has Debian's torch, torchvision, Pillow and numpy.
PYTHON ?= /usr/bin/python3

BUILD ?= build
CC ?= cc
CXX ?= c++

TORCH_CFLAGS := -isystem /usr/include/torch/csrc/api/include
TORCH_LIBS := -ltorch -ltorch_cpu -lc10
DEP_CFLAGS := $(shell pkg-config --cflags libjpeg zlib json-c nettle 2>/dev/null) -I/usr/include/stb
DEP_LIBS := $(shell pkg-config --libs libjpeg zlib json-c nettle 2>/dev/null || echo -ljpeg -lz -ljson-c -lnettle)

WARN := -Wall -Wextra
OPT ?= -O2 -g
# CPPFLAGS, CFLAGS, CXXFLAGS and LDFLAGS from the command line or the
# environment are added to the project's own (debian/rules passes
# dpkg-buildflags' hardening flags this way).
# SANITIZE=1 builds everything with AddressSanitizer + UBSan.
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# A unit test may set its own ASan defaults (__asan_default_options, as
# test_model.c does); GCC's ASan runtime is a shared library, which sees
# the hook only when the executable exports it.
SAN_TEST_LDFLAGS := -Wl,--export-dynamic-symbol=__asan_default_options
endif
# SANITIZE=thread builds everything with ThreadSanitizer (make check-tsan).
ifeq ($(SANITIZE),thread)
SAN := -fsanitize=thread -fno-omit-frame-pointer
endif

CPPFLAGS_LIB := -Iinclude -Ilib -I$(BUILD)/generated -DIMGCLASS_BUILD $(DEP_CFLAGS) $(CPPFLAGS)
CFLAGS_LIB := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden $(CFLAGS)
CXXFLAGS_LIB := -std=c++17 $(WARN) $(OPT) $(SAN) -fPIC -fvisibility=hidden -fvisibility-inlines-hidden $(TORCH_CFLAGS) $(CXXFLAGS)
# The core links no libtorch (and no C++ runtime); only the engine module does.
CORE_LIBS := $(DEP_LIBS) -ldl -lpthread -lm
ENGINE_LIBS := $(TORCH_LIBS) -fopenmp -lstdc++ -lpthread -lm

ENGINE_C_SRC := lib/engine_module.c
LIB_C_SRC := $(filter-out $(ENGINE_C_SRC),$(sort $(wildcard lib/*.c)))
LIB_OBJ := $(LIB_C_SRC:%.c=$(BUILD)/%.o)
# The core sources the fuzz targets link (test/fuzz/run.sh reads this list
# with `make -s print-fuzz-lib-sources` and builds them with libFuzzer's
# flags): all of the core but the engine loader, which the targets replace
# with test/fuzz/engine_stub.c. A new lib/*.c joins both lists by itself.
FUZZ_LIB_C_SRC := $(filter-out lib/engine_loader.c,$(LIB_C_SRC))
ENGINE_CXX_SRC := $(sort $(wildcard lib/*.cpp))
# lib/huge_pages.c is part of the core and also linked into the module (the
# module's version script keeps its copy private).
ENGINE_OBJ := $(ENGINE_CXX_SRC:%.cpp=$(BUILD)/%.o) $(ENGINE_C_SRC:%.c=$(BUILD)/%.o) \
              $(BUILD)/lib/huge_pages.o
COMMON_SRC := $(sort $(wildcard examples/common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
CLI_SRC := $(sort $(wildcard examples/cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
SERVE_SRC := $(sort $(wildcard examples/serve/*.c))
SERVE_OBJ := $(SERVE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/examples/serve/page_html.o
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
# imgclass-serve checks its TLS certificate and key with GnuTLS itself
# (examples/serve/tls_config.c), the library libmicrohttpd serves TLS with.
GNUTLS_CFLAGS := $(shell pkg-config --cflags gnutls 2>/dev/null)
GNUTLS_LIBS := $(shell pkg-config --libs gnutls 2>/dev/null || echo -lgnutls)
# Nettle's base64 decoder for the v2 API's BYTES inputs (GnuTLS, under
# libmicrohttpd, already brings Nettle into the process).
NETTLE_LIBS := $(shell pkg-config --libs nettle 2>/dev/null || echo -lnettle)
# What imgclass-serve links beside the core (test/abi/grow.mk too).
SERVE_LIBS = $(MHD_LIBS) $(GNUTLS_LIBS) $(NETTLE_LIBS)
WATCH_SRC := $(sort $(wildcard examples/watch/*.c))
WATCH_OBJ := $(WATCH_SRC:%.c=$(BUILD)/%.o)
# examples/api/*.c: one small program each, built against imgclass.h alone.
API_EXAMPLE_SRC := $(sort $(wildcard examples/api/*.c))
API_EXAMPLES := $(API_EXAMPLE_SRC:examples/api/%.c=$(BUILD)/examples/api/%)
UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
UNIT_HELPER_SRC := $(filter-out $(UNIT_SRC),$(sort $(wildcard test/unit/*.c)))
UNIT_HELPER_OBJ := $(UNIT_HELPER_SRC:%.c=$(BUILD)/%.o)

SHLIB := $(BUILD)/$(REALNAME)
STLIB := $(BUILD)/libimgclass.a
CLI := $(BUILD)/imgclass
SERVE := $(BUILD)/imgclass-serve
WATCH := $(BUILD)/imgclass-watch
ENGINE_MODULE := $(BUILD)/libimgclass-torch.so
# Test doubles of an engine module (test/unit/fake_engine/).
FAKE_ENGINES := $(BUILD)/test/fake_engine.so $(BUILD)/test/fake_engine_abi999.so \
                $(BUILD)/test/fake_engine_no_entry.so

.PHONY: all lib cli serve watch api-examples tests test-programs test check check-build check-deb-phase check-asan \
        check-tsan check-valgrind deps demo bench \
        bench-startup bench-serve-fleet fuzz check-asan-build check-asan-beside check-asan-rest print-fuzz-lib-sources print-dep-cflags print-dep-libs print-lib-sources install uninstall install-python uninstall-python \
        print-version deb check-deb wheel clean FORCE

all: lib cli serve watch

lib: $(SHLIB) $(BUILD)/libimgclass.so $(STLIB) $(ENGINE_MODULE) $(PY_VERSION_FILE)

# The binding's version, written from the header (the one place it is
# stated); pyproject.toml reads it too (dynamic version).
$(PY_VERSION_FILE): include/imgclass.h
	printf '"""Written by make from include/imgclass.h (IMGCLASS_VERSION_*): do not edit."""\n__version__ = "%s"\n' $(VERSION) > $@
cli: $(CLI)
serve: $(SERVE)
watch: $(WATCH)
api-examples: $(API_EXAMPLES)
tests: test-programs abi-grow-programs $(BUILD)/test-models/.stamp
# What the tests run, without the test models (the sanitizer builds share
# the plain build's: they are made by PyTorch, not compiled).
test-programs: $(UNIT_BIN) $(FAKE_ENGINES) $(API_EXAMPLES)

# Tiny TorchScript models with known outputs, made by PyTorch itself for the
# unit and integration tests (seconds to build).
$(BUILD)/test-models/.stamp: test/models/make_test_models.py tools/export_model.py
	@mkdir -p $(dir $@)
	$(PYTHON) test/models/make_test_models.py $(BUILD)/test-models
	touch $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS_LIB) $(CXXFLAGS_LIB) -MMD -MP -c $< -o $@

# at::parallel_for's region is an OpenMP pragma (lib/engine_parallel.cpp).
# Under ThreadSanitizer that file alone is not instrumented: libgomp's fork
# and join are invisible to TSan, so the team's use of the caller's stack
# frame (the shared counter, the closure) would read as races. The tasks it
# runs are instrumented, and the pipeline's take its lock.
ENGINE_PARALLEL_CXXFLAGS := $(filter-out -fsanitize=thread,$(CXXFLAGS_LIB)) -fopenmp
$(BUILD)/lib/engine_parallel.o: CXXFLAGS_LIB = $(ENGINE_PARALLEL_CXXFLAGS)

# The engine module's two locations are compiled into the core
# (lib/engine_loader.c). The header is rewritten only when a path changes,
# so a different PREFIX or BUILD recompiles just the loader. A package build
# passes ENGINE_BUILD_PATH= (empty, debian/rules): an installed core must not
# look into the tree it was built in.
ENGINE_INSTALL_PATH := $(ENGINEDIR)/libimgclass-torch.so
ENGINE_BUILD_PATH := $(abspath $(ENGINE_MODULE))
# $(call write_engine_paths,INSTALL,BUILD) writes engine_paths.h ($@). Each
# writer has its own temporary file: make check's phases running side by side
# may both rewrite it, and the rename is atomic.
define write_engine_paths
	@mkdir -p $(dir $@)
	@tmp=$@.tmp.$$$$; \
	printf '#define IC_ENGINE_INSTALL_PATH "%s"\n#define IC_ENGINE_BUILD_PATH "%s"\n' \
	    '$(1)' '$(2)' > $$tmp && \
	if cmp -s $$tmp $@; then rm -f $$tmp; else mv $$tmp $@; fi
endef
$(BUILD)/generated/engine_paths.h: FORCE
	$(call write_engine_paths,$(ENGINE_INSTALL_PATH),$(ENGINE_BUILD_PATH))
$(BUILD)/lib/engine_loader.o: $(BUILD)/generated/engine_paths.h
include test/abi/grow.mk
.PHONY: abi-grow-programs

FORCE:

# Only imgclass_* symbols leave the shared library (-fvisibility=hidden and
# the version script).
$(SHLIB): $(LIB_OBJ) lib/imgclass.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/imgclass.map \
	    -Wl,--no-undefined $(SAN) $(LDFLAGS) -o $@ $(LIB_OBJ) $(CORE_LIBS)

# The libtorch engine: exports only its entry point (lib/engine_abi.h);
# the version script also hides what libtorch's headers instantiate.
$(ENGINE_MODULE): $(ENGINE_OBJ) lib/engine_module.map
	$(CXX) -shared -Wl,-soname,libimgclass-torch.so -Wl,--version-script=lib/engine_module.map \
	    -Wl,--no-undefined $(SAN) $(LDFLAGS) -o $@ $(ENGINE_OBJ) $(ENGINE_LIBS)

$(BUILD)/libimgclass.so: $(SHLIB)
	ln -sf $(REALNAME) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

# The CLI and the tests link the static library, so they run from the build
# tree without LD_LIBRARY_PATH (the tests also reach internal functions);
# both find the engine module in the build tree (lib/engine_loader.c).
$(CLI): $(CLI_OBJ) $(COMMON_OBJ) $(STLIB)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(CLI_OBJ) $(COMMON_OBJ) $(STLIB) $(CORE_LIBS)

# imgclass-serve (examples/serve): libmicrohttpd for HTTP. Its web page is
# kept as plain HTML and compiled in as one C string.
$(SERVE): $(SERVE_OBJ) $(COMMON_OBJ) $(STLIB)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(SERVE_OBJ) $(COMMON_OBJ) $(STLIB) $(CORE_LIBS) $(SERVE_LIBS)

$(BUILD)/examples/serve/page_html.c: examples/serve/page.html
	@mkdir -p $(dir $@)
	{ echo '/* Generated from examples/serve/page.html by the Makefile. */'; \
	  echo 'const char serve_page_html[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/examples/serve/page_html.o: $(BUILD)/examples/serve/page_html.c
	$(CC) -std=c11 $(OPT) $(SAN) $(CFLAGS) -c $< -o $@

# imgclass-watch: libmicrohttpd for its /metrics (--metrics-listen).
$(WATCH): $(WATCH_OBJ) $(COMMON_OBJ) $(STLIB)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(WATCH_OBJ) $(COMMON_OBJ) $(STLIB) $(CORE_LIBS) $(MHD_LIBS)

# Only include/ on the include path: the examples may use nothing else.
$(BUILD)/examples/api/%: examples/api/%.c $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 $(WARN) $(OPT) $(SAN) $(CFLAGS) -o $@ $< $(STLIB) $(CORE_LIBS)

# No object is deleted as an intermediate: make check's suites phase and
# its background valgrind phase both run `make all tests` in build/, and
# with the test objects deleted after the build phase each remade them, one
# linking while the other wrote them (a rehearsal saw a test_serve_v2.o
# without main).
.SECONDARY:

$(BUILD)/test/%: $(BUILD)/test/unit/%.o $(UNIT_HELPER_OBJ) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(SAN_TEST_LDFLAGS) -o $@ $(filter %.o,$^) $(STLIB) $(CORE_LIBS) -lcmocka \
	    $(TEST_EXTRA_LIBS)

# Unit tests of the example programs' own parts link those parts' objects,
# as the programs do (a test never #includes a program's .c file).
$(BUILD)/test/test_cli_escape: \
    $(addprefix $(BUILD)/examples/common/,cli_args.o pp_options.o text_escape.o torchvision_presets.o)
$(BUILD)/test/test_serve: $(addprefix $(BUILD)/examples/common/,prom_text.o text_escape.o) \
    $(addprefix $(BUILD)/examples/serve/,json_buf.o metrics.o responses.o route_path.o router.o)
$(BUILD)/test/test_serve_mgmt: $(addprefix $(BUILD)/examples/common/,prom_text.o text_escape.o) \
    $(addprefix $(BUILD)/examples/serve/,json_buf.o management_router.o metrics.o model_store.o \
    route_path.o)
$(BUILD)/test/test_serve_auth: $(addprefix $(BUILD)/examples/serve/,auth.o secret_file.o)
$(BUILD)/test/test_serve_v2: TEST_EXTRA_LIBS := $(NETTLE_LIBS)
$(BUILD)/test/test_serve_v2: $(BUILD)/examples/common/text_escape.o \
    $(addprefix $(BUILD)/examples/serve/,json_buf.o route_path.o router.o v2_json.o)
$(BUILD)/test/test_watch_journal: $(addprefix $(BUILD)/examples/watch/,durable_io.o journal.o \
    key_set.o)

$(BUILD)/test/fake_engine.so: test/unit/fake_engine/fake_engine.c lib/engine_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -shared -o $@ $<
$(BUILD)/test/fake_engine_abi999.so: test/unit/fake_engine/fake_engine.c lib/engine_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -DFAKE_ENGINE_ABI=999 -shared -o $@ $<
$(BUILD)/test/fake_engine_no_entry.so: test/unit/fake_engine/fake_engine.c lib/engine_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -DFAKE_ENGINE_NO_ENTRY -shared -o $@ $<

# valgrind 3.19 stops with SIGILL in libhwy's load-time timer probe (an
# rdtscp this virtual CPU does not advertise), reached through libtorch ->
# OpenCV -> libavcodec -> libjxl. This preload replaces that one probe for
# valgrind runs only.
$(BUILD)/test/valgrind_hwy_shim.so: test/valgrind_hwy_shim.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -o $@ $<

$(BUILD)/test/unit/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_LIB) $(CFLAGS_LIB) -Itest/unit -Iexamples/common -Iexamples/serve \
	    -Iexamples/watch -MMD -MP -c $< -o $@

$(BUILD)/examples/%.o: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -Iexamples/common $(DEP_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS) $(CPPFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(OPT) $(SAN) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- dependencies -----------------------------------------------------------

deps:
	@sh tools/deps.sh

# --- tests ------------------------------------------------------------------

# Every test: the suites (unit, parity against torchvision, integration),
# the unit and integration suites again under ASan + UBSan, the decoding
# and preprocessing unit suites under valgrind, the threaded unit suites
# under TSan. Each phase prints "N passed, N failed"; the closing lines
# give each phase's time and total them per phase and overall. `make test`
# runs only the suites.
SUMMARY = $(CURDIR)/build-test-summary.txt

# Every phase runs even when an earlier one failed (test/check_phases.sh);
# the totals per phase and overall include failures and skips, and the
# exit status is non-zero if anything failed. The phases marked & run
# (niced) beside the suites, which wait on servers, watchers and pipes for
# a quarter of their time: valgrind (one busy core), the ASan build and the
# TSan phase; the ASan tests wait for their build (@asan-build), then run
# as two halves at once (check-asan-beside, niced, and check-asan-rest);
# deb, which installs packages into the machine, waits for both. Everything
# in build/ is built first, and each sanitizer has its own folder, so that
# no two phases build the same file; after a failure the phases run one by
# one.
check: deps
	+@sh test/check_phases.sh $(SUMMARY) "$(MAKE)" build:check-build \
	    'valgrind:check-valgrind&' 'asan-build:check-asan-build&' 'tsan:check-tsan&' \
	    suites:test 'asan-beside:check-asan-beside@asan-build&' asan:check-asan-rest \
	    deb:check-deb-phase@asan-beside

# make check's last phase: make check-deb where this machine allows it
# (root, no imgclass installed), a listed skip otherwise.
check-deb-phase:
	+@sh test/deb/check_deb_phase.sh "$(MAKE)" $(SUMMARY_FILE)

# What every phase of check needs in build/ (the sanitizer builds have
# their own folders).
check-build: all tests $(BUILD)/test/valgrind_hwy_shim.so

test: all tests
	BUILD=$(BUILD) PYTHON=$(PYTHON) SUMMARY_LABEL=suites sh test/run_all.sh

# intercept_tls_get_addr=0: libtorch, dlopen()ed with the engine module, keeps
# its thread-locals in dynamic TLS, and GCC 12's LeakSanitizer crashes at exit
# ("Tracer caught signal 11") on the bogus DTLS range it records for them.
# exitcode=86 (SANITIZER_EXIT), in each runtime's own options (UBSan's and
# TSan's are not read from ASAN_OPTIONS): by default a report exits 1, the
# programs' status for a refused input, so a check expecting that refusal
# would pass over a leak on its error path. No program here exits 86.
SANITIZER_EXIT := 86
ASAN_RUN = BUILD=build-asan PYTHON=$(PYTHON) SANITIZED=1 SUMMARY_LABEL=asan \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:intercept_tls_get_addr=0:exitcode=$(SANITIZER_EXIT) \
	LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp:print_suppressions=0:exitcode=$(SANITIZER_EXIT) \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=$(SANITIZER_EXIT) \
	sh test/run_all.sh
check-asan: check-asan-build
	$(ASAN_RUN) --unit --integration

# make check runs the ASan tests as two halves at once, after check-asan-build
# (neither builds): the unit tests with the integration suites that mostly
# wait on servers, watchers and pipes, beside the CPU-bound rest. Each run_all
# has its own temporary folders and model cache; servers take port 0.
ASAN_BESIDE := serve_load serve_v2 watch serve_security watch_crash cli_stream serve_api
ASAN_REST := $(filter-out $(ASAN_BESIDE),$(basename $(notdir $(wildcard test/integration/*.sh))))
check-asan-beside:
	INTEGRATION_TESTS="$(ASAN_BESIDE)" $(ASAN_RUN) --unit --integration
check-asan-rest:
	INTEGRATION_TESTS="$(ASAN_REST)" $(ASAN_RUN) --integration

# check-asan's build alone: make check builds it in the background beside
# the suites, which leave a core idle while they wait on servers and pipes.
check-asan-build:
	$(MAKE) BUILD=build-asan SANITIZE=1 OPT="-O1 -g" all test-programs abi-grow-programs

# The threaded code (the pipeline, and imgclass_classify's workers) under
# ThreadSanitizer. libtorch and its OpenMP pool are not instrumented:
# test/tsan.supp silences what TSan cannot see inside them.
check-tsan:
	$(MAKE) BUILD=build-tsan SANITIZE=thread OPT="-O1 -g" lib $(TSAN_UNIT:%=build-tsan/test/%) build-tsan/test/fake_engine.so
	BUILD=build-tsan PYTHON=$(PYTHON) SUMMARY_LABEL=tsan \
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=$(SANITIZER_EXIT) suppressions=$(CURDIR)/test/tsan.supp" \
	UNIT_TESTS="$(TSAN_UNIT)" sh test/run_all.sh --unit

# TSan builds only the unit tests it runs (the threaded code's; test_alloc_cache: the
# allocation cache's lock, taken by every forward pass's allocations;
# test_engine_parallel: tasks on the engine's OpenMP team; test_prepare_order: a team
# round on the fake engine module, built beside it).
TSAN_UNIT := test_pipeline test_classify test_alloc_cache test_engine_parallel test_prepare_order

# The sanitizer phases run on the plain build's test models.
check-asan check-asan-beside check-asan-rest check-tsan: $(BUILD)/test-models/.stamp
check-asan check-asan-beside check-asan-rest check-tsan: export IMGCLASS_TEST_MODELS = $(CURDIR)/$(BUILD)/test-models

# valgrind is for what ASan cannot see: reads of uninitialised memory, in
# the decoders, preprocessing and the parsers of what users hand in (every
# unit test that does not need libtorch, plus YUV, labels and recipes). The
# unit tests left out here drive libtorch, whose start-up alone takes about
# 30 s under valgrind per binary (8 binaries: 7 of the phase's 9 minutes);
# their C code runs under ASan + UBSan + LSan, the threaded parts under
# TSan, and the decoding and preprocessing they call are the code the
# binaries kept here check. A new unit test runs under valgrind unless
# listed. VALGRIND_ALL=1 runs every unit test.
VALGRIND_SKIP := test_abi test_alloc_cache test_classify test_engine_loader test_filter \
                 test_load_timings test_model test_model_cache test_model_cycles \
                 test_pipeline test_precision test_predict test_topk
VALGRIND_UNIT := $(filter-out $(if $(filter 1,$(VALGRIND_ALL)),,$(VALGRIND_SKIP)),$(notdir $(UNIT_BIN)))
check-valgrind: all tests $(BUILD)/test/valgrind_hwy_shim.so
	BUILD=$(BUILD) PYTHON=$(PYTHON) VALGRIND=1 SUMMARY_LABEL=valgrind \
	UNIT_TESTS="$(VALGRIND_UNIT)" sh test/run_all.sh --unit

# --- jobs -------------------------------------------------------------------

demo: deps
	$(MAKE) all
	PYTHON=$(PYTHON) BUILD=$(BUILD) sh tools/demo.sh

bench: all
	PYTHON=$(PYTHON) BUILD=$(BUILD) sh bench/run.sh

# Engine benchmark (bench/predict_bench.sh): a library-side C driver and a
# bare libtorch forward, the latter bench code that may include libtorch.
$(BUILD)/bench/predict_bench: $(BUILD)/bench/predict_bench.o $(STLIB) $(ENGINE_MODULE)
	$(CC) $(SAN) -o $@ $< $(STLIB) $(CORE_LIBS)

$(BUILD)/bench/bare_forward: bench/bare_forward.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WARN) $(OPT) $(TORCH_CFLAGS) -o $@ $< $(TORCH_LIBS) -lpthread

# Start-up benchmark (bench/startup_bench.py): the engine as a module, and
# as a baseline the same core with the engine linked in directly (the
# loader's object replaced by the engine's C++ objects), as before the split.
$(BUILD)/bench/engine_load_bench: $(BUILD)/bench/engine_load_bench.o $(STLIB) $(ENGINE_MODULE)
	$(CC) $(SAN) -o $@ $< $(STLIB) $(CORE_LIBS)

$(BUILD)/bench/engine_load_bench_linked: $(BUILD)/bench/engine_load_bench.o \
        $(filter-out $(BUILD)/lib/engine_loader.o,$(LIB_OBJ)) $(ENGINE_CXX_SRC:%.cpp=$(BUILD)/%.o)
	$(CXX) $(SAN) -o $@ $^ $(CORE_LIBS) $(ENGINE_LIBS)

bench-startup: all $(BUILD)/bench/engine_load_bench $(BUILD)/bench/engine_load_bench_linked
	$(PYTHON) bench/startup_bench.py --build $(BUILD) --update docs/benchmarks.md

# imgclass-serve in a fleet (bench/serve_fleet_bench.py): v2 infer against
# /predictions, p99 during hot swaps, HTTPS against HTTP; its own section of
# docs/benchmarks.md, also written by make bench.
bench-serve-fleet: all
	$(PYTHON) bench/serve_fleet_bench.py --build $(BUILD)

# Preprocessing benchmark (bench/preprocess_bench.sh): decode + preprocess
# from memory, one thread, against PIL + torchvision.
$(BUILD)/bench/preprocess_bench: bench/preprocess_bench.c $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -o $@ $< $(STLIB) $(CORE_LIBS)

# Camera-frame benchmark (bench/yuv_bench.py): NV12 and I420 against RGB.
$(BUILD)/bench/yuv_bench: bench/yuv_bench.c $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -o $@ $< $(STLIB) $(CORE_LIBS)

# Pipeline benchmark (bench/pipeline_bench.py): steady state, low-load
# latency and the bare forward pass, measured through the public API.
$(BUILD)/bench/pipeline_bench: bench/pipeline_bench.c $(STLIB) $(ENGINE_MODULE)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -o $@ $< $(STLIB) $(CORE_LIBS)

fuzz: all
	PYTHON=$(PYTHON) BUILD=$(BUILD) sh test/fuzz/run.sh

# The project's version (test/integration/wheel.sh names the wheel by it).
print-version:
	@echo $(VERSION)

print-fuzz-lib-sources:
	@echo $(FUZZ_LIB_C_SRC)

# The core's dependency flags (test/fuzz/run.sh links its targets with them).
print-dep-cflags:
	@echo $(DEP_CFLAGS)

print-dep-libs:
	@echo $(DEP_LIBS)

# The core library's C sources, engine module excluded: test/layering/
# lib_calls.sh judges their objects' call graph and reads the list here,
# so a new lib/*.c cannot escape it.
print-lib-sources:
	@echo $(LIB_C_SRC)

# --- install ----------------------------------------------------------------

$(BUILD)/imgclass.pc: imgclass.pc.in Makefile
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The systemd template units (examples/systemd), with the programs' path.
SYSTEMD_UNITS := $(BUILD)/systemd/imgclass-serve@.service $(BUILD)/systemd/imgclass-watch@.service
$(BUILD)/systemd/%.service: examples/systemd/%.service.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(BINDIR)|g' $< > $@

install: all $(BUILD)/imgclass.pc $(SYSTEMD_UNITS)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(ENGINEDIR)
	install -m 644 include/imgclass.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libimgclass.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(ENGINE_MODULE) $(DESTDIR)$(ENGINEDIR)/
	install -m 755 $(CLI) $(SERVE) $(WATCH) $(DESTDIR)$(BINDIR)/
	install -m 644 $(BUILD)/imgclass.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 644 docs/imgclass.1 docs/imgclass-serve.1 docs/imgclass-watch.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/imgclass.3 $(DESTDIR)$(MANDIR)/man3/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 $(SYSTEMD_UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/imgclass.h \
	    $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libimgclass.so $(DESTDIR)$(LIBDIR)/libimgclass.a \
	    $(DESTDIR)$(BINDIR)/imgclass $(DESTDIR)$(BINDIR)/imgclass-serve \
	    $(DESTDIR)$(BINDIR)/imgclass-watch $(DESTDIR)$(PKGCONFIGDIR)/imgclass.pc \
	    $(DESTDIR)$(MANDIR)/man1/imgclass.1 $(DESTDIR)$(MANDIR)/man1/imgclass-serve.1 \
	    $(DESTDIR)$(MANDIR)/man1/imgclass-watch.1 $(DESTDIR)$(MANDIR)/man3/imgclass.3 \
	    $(DESTDIR)$(ENGINEDIR)/libimgclass-torch.so \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/imgclass-serve@.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/imgclass-watch@.service
	rmdir $(DESTDIR)$(ENGINEDIR) 2>/dev/null || true

# The Python binding, with Debian's pip and setuptools, offline. --target
# puts it in a site folder of $(PREFIX) (on Debian /usr/local/lib/python3.X/
# dist-packages is on sys.path) without touching the packages Debian's pip
# protects (PEP 668). It finds the library that `make install` put there.
PYTHON_SITEDIR ?= $(PREFIX)/lib/python$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages

install-python:
	$(PYTHON) -m pip install --no-build-isolation --no-deps --no-index --upgrade \
	    --target $(DESTDIR)$(PYTHON_SITEDIR) bindings/python
	rm -rf bindings/python/build bindings/python/imgclass.egg-info

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHON_SITEDIR)/imgclass $(DESTDIR)$(PYTHON_SITEDIR)/imgclass-*.dist-info

# --- packages ---------------------------------------------------------------

# Debian packages (debian/): dpkg-buildpackage, offline, in a copy of the
# tree; the .debs land in $(DEB_OUT), then lintian judges them.
DEB_OUT ?= build-deb
deb:
	sh tools/deb/build.sh $(VERSION) $(DEB_OUT)

# Builds the packages, installs them into this machine (root), runs what
# the README's "Install" says, purges them and checks nothing is left.
check-deb: deb api-examples
	PYTHON=$(PYTHON) BUILD=$(BUILD) sh test/deb/check_deb.sh $(DEB_OUT)

# The Python wheel: $(WHEEL_DIST)/imgclass-VERSION-py3-none-PLATFORM.whl,
# the package with the core library inside (tools/wheel/build.sh). The
# bundled core is this build's, relinked with its engine loader compiled to
# look where the Debian package libimgclass-torch puts the module
# (/usr/lib/MULTIARCH/imgclass/), then in this build tree (only the loader
# is recompiled). The wheel holds no engine: a model load needs
# libimgclass-torch, this build tree's module, or IMGCLASS_ENGINE_PATH.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
WHEEL_ENGINE_INSTALL_PATH ?= /usr/lib/$(MULTIARCH)/imgclass/libimgclass-torch.so
WHEEL_BUILD := $(BUILD)/wheel
WHEEL_CORE := $(WHEEL_BUILD)/libimgclass.so
WHEEL_DIST ?= $(BUILD)/dist
$(WHEEL_BUILD)/generated/engine_paths.h: FORCE
	$(call write_engine_paths,$(WHEEL_ENGINE_INSTALL_PATH),$(ENGINE_BUILD_PATH))
# Its engine_paths.h comes first on the include path, ahead of the build's.
$(WHEEL_BUILD)/engine_loader.o: lib/engine_loader.c $(WHEEL_BUILD)/generated/engine_paths.h
	$(CC) -I$(WHEEL_BUILD)/generated $(CPPFLAGS_LIB) $(CFLAGS_LIB) -MMD -MP -c $< -o $@
$(WHEEL_CORE): $(filter-out $(BUILD)/lib/engine_loader.o,$(LIB_OBJ)) $(WHEEL_BUILD)/engine_loader.o \
        lib/imgclass.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/imgclass.map \
	    -Wl,--no-undefined $(SAN) $(LDFLAGS) -o $@ $(filter %.o,$^) $(CORE_LIBS)

wheel: $(WHEEL_CORE) $(ENGINE_MODULE) $(PY_VERSION_FILE)
	PYTHON=$(PYTHON) sh tools/wheel/build.sh $(WHEEL_CORE) $(VERSION) $(WHEEL_DIST)

clean:
	rm -rf build build-asan build-tsan build-deb build-test-summary.txt
