# napkit build. `make` builds build/napkit and build/libnapkit.a.
# `make test` and `make demo` install missing Debian packages first.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
PKGS    := sndfile fftw3f soxr libcjson espeak-ng cairo openblas
OPT     ?= -O2 -march=x86-64-v2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
ifdef SANITIZE
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
# OpenMPI scale-out of `napkit naps` when mpicc is there (MPI=0 turns it off).
MPI ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
ifeq ($(MPI),1)
MPI_CFLAGS = -DNK_WITH_MPI $(shell mpicc --showme:compile)
MPI_LIBS   = $(shell mpicc --showme:link)
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fopenmp $(WARN) $(CFLAGS) -Iinclude -I$(BUILD) $(PKG_CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) -fopenmp -lm

LIB_SRC   := $(wildcard src/*.c)
CLI_SRC   := $(wildcard src/cli/*.c)
CLI_CMDS  := $(wildcard src/cli/cmd_*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: FORCE all deps test asan bench install demo check-report clean fixtures check-long corpora models doc-figures

all: $(BUILD)/napkit $(BUILD)/libnapkit.a

deps:
	@bash scripts/install-deps.sh

# Quiet rules: `make V=1` shows the full commands.
Q := $(if $(V),,@)

# Everything built depends on the flags it was built with, so a changed flag
# (CI's -Werror, OpenMPI or a -dev package that install-deps.sh added after a
# first build) rebuilds it instead of linking stale objects.
FLAGS := $(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) $(LDFLAGS) $(LIBS) $(MPI_LIBS)
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' '$(FLAGS)' | cmp -s - $@ || printf '%s\n' '$(FLAGS)' > $@
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libnapkit.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

# One COMMAND(name) line per src/cli/cmd_NAME.c: adding a subcommand is adding a file.
$(BUILD)/commands.inc: $(CLI_CMDS) Makefile
	@mkdir -p $(BUILD)
	@for f in $(sort $(CLI_CMDS)); do n=$${f#src/cli/cmd_}; echo "COMMAND($${n%.c})"; done > $@.tmp && mv $@.tmp $@

$(BUILD)/src/cli/main.o: $(BUILD)/commands.inc

$(BUILD)/src/cli/%.o: src/cli/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c $< -o $@

$(BUILD)/napkit: $(CLI_OBJ) $(BUILD)/libnapkit.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) $(CLI_OBJ) $(BUILD)/libnapkit.a $(LIBS) $(MPI_LIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libnapkit.a tests/check.h $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(BUILD)/libnapkit.a $(LIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libnapkit.a $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(BUILD)/libnapkit.a $(LIBS) -o $@

# Tests run from the repository root with one OpenBLAS/OpenMP thread unless a test sets its own.
test: deps
	@$(MAKE) --no-print-directory -j2 all $(TESTS)
	@NAPKIT=$(BUILD)/napkit OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 bash tests/run.sh $(TESTS) $(wildcard tests/cli_*.sh)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 OPT=-O1 test

bench: deps
	@$(MAKE) --no-print-directory -j2 all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/napkit
	install -m 755 $(BUILD)/napkit $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libnapkit.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/napkit/*.h $(DESTDIR)$(PREFIX)/include/napkit/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/.*NK_VERSION "\(.*\)"/\1/p' include/napkit/napkit.h)|' \
	    -e 's|@REQUIRES@|$(filter-out openblas,$(PKGS))|' scripts/napkit.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/napkit.pc

# Regenerates the reference fixtures (needs python3-torch, -torchaudio, -scipy, -sklearn).
fixtures:
	@bash scripts/install-deps.sh fixtures
	@for s in tests/fixtures/make_*.py; do echo "== $$s"; /usr/bin/python3 $$s || exit 1; done

# Synthesizes the bundled corpora into corpora/out/ (git-ignored; about 15–20 minutes, 7.5 GB).
corpora: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/make-corpora.sh $(BUILD)/napkit

# Retrains models/{en,de}.safetensors and their model cards (hours on 2 cores).
models: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/train-models.sh $(BUILD)/napkit

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh $(BUILD)/napkit

# Regenerates the figures of docs/attribution.md (docs/img/attr_*.png) from
# models/en.safetensors on corpora/out/mini-en (make corpora first; under a minute).
doc-figures: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/doc-figures.sh $(BUILD)/napkit

# Renders the demo's report page in headless Chromium and fails on a missing or
# broken figure (REPORT=DIR checks another report; installs chromium if missing).
REPORT ?= build/demo/report
check-report:
	@bash scripts/install-deps.sh browser
	@bash scripts/check-report.sh $(REPORT)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
