# percore build. Output goes to build/ (or build-$(SAN)/ for sanitizer builds).
#   make            build/percore-server
#   make test       install test dependencies, build, run every test
#   make unit       C unit tests only
#   make asan       ASan+UBSan build in build-asan/
#   make tsan       TSan build in build-tsan/
#   make bench      percore vs redis-server (bench/RESULTS.md)
#   make bench-alloc  percore under glibc malloc, mimalloc, jemalloc
CC      ?= gcc
SAN     ?=
OPT     ?= -O2
CFLAGS_BASE = -Isrc -std=gnu11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -MMD -MP
LDLIBS  = -lxxhash -luring -lpthread -lm

# Allocator: mimalloc by default (bench/ALLOCATORS.md has the comparison with
# glibc and jemalloc), ALLOC=libc or ALLOC=jemalloc for the others. The
# sanitizer builds keep glibc's, which the sanitizers replace. The library is
# linked ahead of libc so that its malloc serves the whole process.
ALLOC ?= mimalloc
ifneq ($(SAN),)
  ALLOC = libc
endif
ifeq ($(ALLOC),mimalloc)
  ALLOC_LIBS = -lmimalloc
else ifeq ($(ALLOC),jemalloc)
  ALLOC_LIBS = -ljemalloc
else
  ALLOC_LIBS =
endif

ifeq ($(SAN),asan)
  BUILD = build-asan
  SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
  BUILD = build-tsan
  SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
else
  BUILD = build
  SANFLAGS =
endif

CFLAGS  += $(CFLAGS_BASE) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)

SRCS     := $(sort $(wildcard src/*/*.c))
MAIN_SRC := src/server/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(MAIN_SRC))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all unit unit-bins test integ asan tsan fmt clean bench bench-alloc

all: $(BUILD)/percore-server

$(BUILD)/percore-server: $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALLOC_LIBS) $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(ALLOC_LIBS) $(LDLIBS)

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@tests/run_unit.sh $(BUILD)/tests

# The README's test command: installs what the tests need, builds, runs all.
test:
	@tests/run_all.sh

integ: all
	@/usr/bin/python3 -m pytest -q tests/integ

# percore vs redis-server benchmark: bench/RESULTS.md (BENCH_QUICK=1: a quick check).
bench: all
	@bench/run

bench-alloc:
	@bench/alloc

asan:
	$(MAKE) SAN=asan all unit-bins

tsan:
	$(MAKE) SAN=tsan all unit-bins

fmt:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build build-asan build-tsan

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
