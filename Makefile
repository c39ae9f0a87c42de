# A thin wrapper around meson. The two commands a new user needs:
#   make demo   install missing packages, build, run the stack on the bundled demo
#   make test   install missing packages, build, run every test suite
# Both work on a fresh Debian 12 machine (apt-get runs as root when needed).

BUILD   ?= build
ASAN    ?= build-asan
MEMCHECK ?= build-memcheck
FUZZ    ?= build-fuzz
FUZZ_SECONDS ?= 30
DEMO    ?= demo-out
STAPEL  := $(BUILD)/cli/stapel
D       := testdata/demo

.PHONY: all deps deps-test build demo test test-sanitize fuzz memcheck clean

all: build

deps:
	@tools/install-deps

deps-test:
	@tools/install-deps --extra

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The inputs of the demo stack (also run under valgrind by `make memcheck`).
DEMO_INPUTS := \
	  --layer nature=$(D)/nature.shp \
	  --layer water=$(D)/water.gpkg \
	  --layer 'agri=$(D)/claims.gpkg|layername=agri' \
	  --layer 'housing=$(D)/claims.gpkg|layername=housing' \
	  --layer 'infra=$(D)/claims.gpkg|layername=infra' \
	  --layer wind=$(D)/wind.geojson \
	  --layer solar=$(D)/solar.shp \
	  --provinces $(D)/provinces.gpkg --novex $(D)/novex.gpkg

demo: build
	@mkdir -p $(DEMO)
	$(STAPEL) stack -o $(DEMO)/stack.gpkg --overwrite $(DEMO_INPUTS)
	$(STAPEL) info $(DEMO)/stack.gpkg > $(DEMO)/stack-info.txt
	$(STAPEL) summary $(DEMO)/stack.gpkg | tee $(DEMO)/summary.txt
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart.png --overwrite
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart.pdf --overwrite
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart-almere-oosterwold.png \
	  --zone 'Almere Oosterwold' --overwrite
	@echo
	@echo "Demo outputs:"
	@echo "  $(CURDIR)/$(DEMO)/stack.gpkg      the stack map (open it in QGIS: it opens styled)"
	@echo "  $(CURDIR)/$(DEMO)/stack-info.txt  what the GeoPackage holds (stapel info)"
	@echo "  $(CURDIR)/$(DEMO)/summary.txt     the puzzle in numbers (stapel summary)"
	@echo "  $(CURDIR)/$(DEMO)/stapelkaart.png the stack map as a picture (also .pdf)"
	@echo "  $(CURDIR)/$(DEMO)/stapelkaart-almere-oosterwold.png  one NOVEX area, the rest greyed out"

test: build deps-test
	meson test -C $(BUILD) --print-errorlogs

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer; any
# finding fails the run.
test-sanitize: deps-test
	@[ -f $(ASAN)/build.ninja ] || meson setup $(ASAN) -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debug -Dc_args=-fno-sanitize-recover=all
	ninja -C $(ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
	  meson test -C $(ASAN) --print-errorlogs --no-suite slow

# The demo's stack run, then info, summary and render on its output, under
# valgrind: any invalid read or write, use of uninitialised memory or definite
# leak fails. tools/valgrind.supp lists the few caches libraries keep by design.
# Its own build, with glibc's malloc: valgrind must see every allocation, and
# the tool's mimalloc would hide them.
VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	  --fair-sched=yes --suppressions=tools/valgrind.supp --quiet
MC_STAPEL := $(MEMCHECK)/cli/stapel
memcheck: deps-test
	@[ -f $(MEMCHECK)/build.ninja ] || meson setup $(MEMCHECK) -Dmimalloc=disabled
	ninja -C $(MEMCHECK) cli/stapel
	@mkdir -p $(DEMO)
	$(VALGRIND) $(MC_STAPEL) stack -q -o $(DEMO)/memcheck.gpkg --overwrite $(DEMO_INPUTS)
	$(VALGRIND) $(MC_STAPEL) info $(DEMO)/memcheck.gpkg > /dev/null
	$(VALGRIND) $(MC_STAPEL) summary $(DEMO)/memcheck.gpkg > /dev/null
	$(VALGRIND) $(MC_STAPEL) render $(DEMO)/memcheck.gpkg -o $(DEMO)/memcheck.png --overwrite
	@echo "memcheck: no memory errors and no leaks in stack, info, summary and render"

# libFuzzer harnesses (engine/tests/fuzz/), built with clang, ASan and UBSan,
# each run for FUZZ_SECONDS; any crash fails. The crash inputs found so far
# (testdata/fuzz/regressions/) are replayed by `make test` in every build.
fuzz: deps-test
	@[ -f $(FUZZ)/build.ninja ] || CC=clang meson setup $(FUZZ) -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
	  -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all'
	ninja -C $(FUZZ)
	tools/run-fuzz $(FUZZ) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) $(MEMCHECK) $(DEMO)

# Benchmark (issue 6): stapel against mapshaper -mosaic, the PostGIS overlay recipe
# and the GDAL read floor on the generated national scenario at scales 1 and 10
# (BENCH_BIG=1 adds 100). Writes docs/PERFORMANCE.md. Not part of `make test`.
.PHONY: bench bench-patho
bench:
	@bench/run

# stapel and mapshaper on pathological inputs (bench/patho.py)
bench-patho:
	@BENCH_SUITE=patho bench/run
