# ringcast: build, run, test, bench, fuzz.
#
# Every .c file of a layer folder goes into that folder's static library, except the
# programs' entry points listed in PROGRAMS; every test/unit/test_*.c is a cmocka
# binary and every test/fuzz/fuzz_*.c a libFuzzer target. Adding a file needs no
# edit here. O=DIR builds elsewhere (parallel checkouts, sanitizer variants).
#
# Layers depend only downward: common <- shm <- codec <- rtc, rtsp <- {ingest, egress,
# supervisor}; tools and tests sit on top. A program links its own folder's library and
# the ones below, highest first, so a call the wrong way is an undefined reference, and
# check-layers (part of all) fails on an include the wrong way or between siblings.

O        ?= build
CC       ?= gcc
VARIANT  ?= release

DEB_BUILD = build-essential pkg-config clang clang-format libclang-rt-14-dev libuv1-dev libre-dev \
            libsrtp2-dev libssl-dev libinih-dev libcmocka-dev
DEB_TEST  = ffmpeg gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi \
            gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
            python3-aiortc python3-prometheus-client chromium curl procps \
            iproute2 util-linux linux-perf nftables coturn haproxy
DEB_ALL   = $(DEB_BUILD) $(DEB_TEST)

LIBRE_DEFS = -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 -DUSE_OPENSSL -DUSE_ZLIB
PKGS       = libre libuv libsrtp2 inih openssl

CFLAGS_COMMON = -std=c11 -g -Wall -Wextra -Werror -Wno-format-truncation -D_GNU_SOURCE -I. $(LIBRE_DEFS) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS        = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

ifeq ($(VARIANT),asan)
CFLAGS_VARIANT = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_VARIANT = -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
CC := clang
CFLAGS_VARIANT = -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                 -Wno-unused-command-line-argument -Wno-unknown-warning-option -DRINGCAST_FUZZ
LDFLAGS_VARIANT = -fsanitize=fuzzer,address,undefined
else
CFLAGS_VARIANT = -O2
LDFLAGS_VARIANT =
endif

CFLAGS  += $(CFLAGS_COMMON) $(CFLAGS_VARIANT)
LDFLAGS += $(LDFLAGS_VARIANT)

# Program name -> entry-point source. Everything else in the role folders is library.
ALL_PROGRAMS  = ringcast ringcastctl ringcast-ingest ringcast-ingest-publish ringcast-egress
SRC_ringcast        = supervisor/main.c
SRC_ringcastctl     = supervisor/ringcastctl.c
SRC_ringcast-ingest = ingest/main.c
SRC_ringcast-ingest-publish = ingest/publish_main.c
SRC_ringcast-egress = egress/main.c
MAIN_SRCS = $(foreach p,$(ALL_PROGRAMS),$(SRC_$(p)))
PROGRAMS  = $(foreach p,$(ALL_PROGRAMS),$(if $(wildcard $(SRC_$(p))),$(p)))

# Each layer with the folders it may include and link, highest first (the link order).
LAYERS          = supervisor egress ingest rtsp rtc codec shm common
DEPS_common     =
DEPS_shm        = common
DEPS_codec      = shm common
DEPS_rtc        = codec shm common
DEPS_rtsp       = codec shm common
DEPS_ingest     = rtsp rtc codec shm common
DEPS_egress     = rtsp rtc codec shm common
DEPS_supervisor = rtsp rtc codec shm common

# A folder that is missing or holds no library source (rtc/ for now) has no library.
lib_srcs  = $(filter-out $(MAIN_SRCS),$(wildcard $(1)/*.c))
LIB_DIRS  = $(foreach d,$(LAYERS),$(if $(call lib_srcs,$(d)),$(d)))
lib_file  = $(O)/lib/libringcast_$(1).a
# The libraries a program of folder $(1) links, in link order.
libs_for  = $(foreach d,$(1) $(DEPS_$(1)),$(if $(filter $(d),$(LIB_DIRS)),$(call lib_file,$(d))))
ALL_LIBS  = $(foreach d,$(LIB_DIRS),$(call lib_file,$(d)))
prog_dir  = $(firstword $(subst /, ,$(SRC_$(1))))

# tools/<name>/*.c builds the tool program <name> (load generator, benchmarks).
TOOLS     = $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/main.c))))

UNIT_SRCS = $(wildcard test/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:test/unit/%.c=$(O)/test/%)
FUZZ_SRCS = $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:test/fuzz/%.c=$(O)/fuzz/%)

BINS = $(PROGRAMS:%=$(O)/bin/%) $(TOOLS:%=$(O)/bin/%)

.SECONDARY:
.PHONY: all deps run test unit bench bench-compare fuzz fuzz-build clean format check-format \
        check-layers
all: check-layers $(BINS) $(UNIT_BINS)

# Installs the Debian packages the build and tests need; a no-op when all are present.
deps:
	@missing=$$(for p in $(DEB_ALL); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$(echo $$missing | sed 's/^/ /')"; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v npm >/dev/null || { $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq npm; }
	@test -d test/browser/node_modules/playwright-core || \
	  (cd test/browser && npm install --no-audit --no-fund --silent >/dev/null)

# Quiet by default; V=1 prints every command.
ifneq ($(V),1)
Q = @
endif

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# egress/player.c embeds egress/player.html with .incbin, which -MMD does not see.
$(O)/obj/egress/player.o: egress/player.html

define lib_rule
$(call lib_file,$(1)): $(patsubst %.c,$(O)/obj/%.o,$(call lib_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(LIB_DIRS),$(eval $(call lib_rule,$(d))))

# Fails when a file of a layer includes a header of a folder it may not depend on: one above
# it, a sibling (rtc/rtsp, or another role), tools/ or test/.
check_layer = bad=$$(grep -Hn '^[[:space:]]*\#[[:space:]]*include[[:space:]]*"' \
    $(wildcard $(1)/*.c $(1)/*.h) /dev/null | grep -Ev \
    '\#[[:space:]]*include[[:space:]]*"($(subst $(eval) ,|,$(strip $(1) $(DEPS_$(1)))))/'); \
  if [ -n "$$bad" ]; then \
    echo "check-layers: $(1)/ may include only $(1)/ and $(or $(DEPS_$(1)),nothing else):"; \
    echo "$$bad"; fail=1; \
  fi;
# The same at the symbol level, once the libraries are built: a library's undefined symbols
# must not be defined by a library outside its own layers (a declaration written by hand
# instead of an include, or an object filed in the wrong folder).
check_symbols = others='$(filter-out $(1) $(DEPS_$(1)),$(LIB_DIRS))'; \
  for o in $$others; do \
    bad=$$(nm -u $(call lib_file,$(1)) | awk '{print $$NF}' | sort -u | \
           comm -12 - $(O)/lib/$$o.syms); \
    if [ -n "$$bad" ]; then \
      echo "check-layers: $(1)/ uses symbols of $$o/:" $$bad; fail=1; \
    fi; \
  done;
check-layers: $(ALL_LIBS)
	@fail=0; $(foreach d,$(LAYERS),$(call check_layer,$(d))) \
	$(foreach d,$(LIB_DIRS),nm -g --defined-only $(call lib_file,$(d)) | \
	  awk 'NF == 3 {print $$3}' | sort -u > $(O)/lib/$(d).syms;) \
	$(foreach d,$(LIB_DIRS),$(call check_symbols,$(d))) exit $$fail

define program_rule
$(O)/bin/$(1): $(O)/obj/$(SRC_$(1):.c=.o) $(call libs_for,$(call prog_dir,$(1)))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# ringcast-ingest (file: and rtsp:// paths, one process each) calls neither libre nor OpenSSL:
# loading libcrypto and libssl alone (libre needs both) dirties ~450 KiB of relocated pages in
# every process. --as-needed (gcc's default here, but not under every compiler or sanitizer)
# keeps them out of its NEEDED list; publish paths run ringcast-ingest-publish, which links all.
$(O)/bin/ringcast-ingest: LDLIBS := -Wl,--as-needed $(LDLIBS)

define tool_rule
$(O)/bin/$(1): $(patsubst %.c,$(O)/obj/%.o,$(wildcard tools/$(1)/*.c)) $(ALL_LIBS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(O)/test/%: $(O)/obj/test/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(O)/fuzz/%: $(O)/obj/test/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# make test: release build and unit tests, the same unit tests under ASan+UBSan,
# integration tests against the release binaries, then a short fuzz pass on the corpus.
test: deps
	$(MAKE) -j2 all
	$(MAKE) VARIANT=asan O=$(O)/asan $(UNIT_SRCS:test/unit/%.c=$(O)/asan/test/%)
	$(MAKE) VARIANT=fuzz O=$(O)/fuzz-build fuzz-build
	test/run.sh $(O)

unit: all
	test/run.sh --unit-only $(O)

FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) VARIANT=fuzz O=$(O)/fuzz-build fuzz-build
	test/fuzz/run.sh $(O)/fuzz-build/fuzz $(FUZZ_SECONDS)

# The supervisor runs in the foreground (Ctrl-C stops it); a poller beside it prints the URL
# once a worker serves the player page, and gives up when the supervisor is gone.
RUN_URL = http://localhost:8889/demo
run: deps all
	@sv=$$$$; ( while kill -0 $$sv 2>/dev/null; do \
	    if curl -fso /dev/null --max-time 1 $(RUN_URL); then \
	      echo "serving the demo at $(RUN_URL)"; exit 0; fi; \
	    sleep 0.2; done ) & \
	exec $(O)/bin/ringcast -c etc/ringcast.conf

bench: deps all
	tools/bench.sh $(O)
	tools/bench-cameras.sh $(O)
	tools/bench-whip.sh $(O)

bench-compare: deps all
	tools/bench-compare.sh $(O)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# clang-format, and the licence line every source file opens with (LICENSE).
check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	@missing=$$(awk 'FNR == 1 && !/^\/\* SPDX-License-Identifier: MIT \*\/$$/ {print FILENAME}' \
	            $$(git ls-files '*.c' '*.h')); \
	if [ -n "$$missing" ]; then echo "check-format: no SPDX line first in:" $$missing; exit 1; fi

clean:
	rm -rf $(O)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
