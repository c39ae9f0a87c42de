# A thin wrapper around meson. The two commands a new user needs:
#   make demo   install missing packages, build, run the stack on the bundled demo
#   make test   install missing packages, build, run every test suite
# Both work on a fresh Debian 12 machine (apt-get runs as root when needed).

BUILD   ?= build
ASAN    ?= build-asan
DEMO    ?= demo-out
STAPEL  := $(BUILD)/cli/stapel
D       := testdata/demo

.PHONY: all deps deps-test build demo test test-sanitize clean

all: build

deps:
	@tools/install-deps

deps-test:
	@tools/install-deps --extra

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@mkdir -p $(DEMO)
	$(STAPEL) stack -o $(DEMO)/stack.gpkg --overwrite \
	  --layer nature=$(D)/nature.shp \
	  --layer water=$(D)/water.gpkg \
	  --layer 'agri=$(D)/claims.gpkg|layername=agri' \
	  --layer 'housing=$(D)/claims.gpkg|layername=housing' \
	  --layer 'infra=$(D)/claims.gpkg|layername=infra' \
	  --layer wind=$(D)/wind.geojson \
	  --layer solar=$(D)/solar.shp \
	  --provinces $(D)/provinces.gpkg --novex $(D)/novex.gpkg
	$(STAPEL) info $(DEMO)/stack.gpkg > $(DEMO)/stack-info.txt
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart.png --overwrite
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart.pdf --overwrite
	$(STAPEL) render $(DEMO)/stack.gpkg -o $(DEMO)/stapelkaart-almere-oosterwold.png \
	  --zone 'Almere Oosterwold' --overwrite
	@echo
	@echo "Demo outputs:"
	@echo "  $(CURDIR)/$(DEMO)/stack.gpkg      the stack map (open it in QGIS: it opens styled)"
	@echo "  $(CURDIR)/$(DEMO)/stack-info.txt  what the GeoPackage holds (stapel info)"
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
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp \
	  meson test -C $(ASAN) --print-errorlogs --no-suite slow

clean:
	rm -rf $(BUILD) $(ASAN) $(DEMO)

# Benchmark (issue 6): stapel against mapshaper -mosaic, the PostGIS overlay recipe
# and the GDAL read floor on the generated national scenario at scales 1 and 10
# (BENCH_BIG=1 adds 100). Writes docs/PERFORMANCE.md. Not part of `make test`.
.PHONY: bench
bench:
	@bench/run
