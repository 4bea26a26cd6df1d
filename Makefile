# ftrl: make demo | test | dist | spark-test | bench-spark | bench-search | bench-table | bench-cache | bench-score | sanitize | fuzz | mutate | bench | bench-compare BASELINE=DIR | quality | lint | install [PREFIX=/usr/local] | deps
SWIFT   ?= swift
PREFIX  ?= /usr/local
RELEASE := .build/release
TOOLS   := ftrl-train ftrl-predict ftrl-model

# The processor the tools are compiled for. On x86-64 the default, haswell,
# is x86-64-v3 (AVX2, FMA, BMI2: every x86-64 server processor since 2013):
# one pass trains 5-10% faster than a generic build (BENCHMARKS.md), and a
# tool started on a processor without them says so and exits 69. generic
# builds for any processor of the machine's architecture; another LLVM CPU
# name (skylake-avx512, znver4) is passed on unchecked. make dist, whose
# tools go to other machines, builds for DIST_CPU (generic).
TARGET_CPU ?= $(if $(filter x86_64,$(shell uname -m)),haswell,generic)
DIST_CPU   ?= generic
cpu_flags   = $(if $(filter generic,$(1)),,-Xswiftc -target-cpu -Xswiftc $(1)$(if $(filter haswell,$(1)), -Xcc -DFTRL_NEEDS_X86_64_V3))

.PHONY: all deps test-deps build dist spark-deps spark-test install-test bench-spark bench-search bench-table bench-cache bench-score demo test sanitize fuzz mutate bench bench-compare quality lint install clean

all: build

# System packages the build needs: zlib (checksums written) and ISA-L (fast gunzip, checksums checked).
deps:
	@missing=""; \
	[ -f /usr/include/zlib.h ] || missing="$$missing zlib1g-dev"; \
	[ -f /usr/include/isa-l/igzip_lib.h ] || missing="$$missing libisal-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release $(call cpu_flags,$(TARGET_CPU))

# Self-contained tools for machines without Swift (Spark executors): a
# release build with the Swift runtime and Foundation linked in, ISA-L
# shipped beside them in dist/lib (found through RUNPATH $$ORIGIN/../lib);
# they need only glibc, libstdc++ and zlib from the system.
DIST := dist
dist: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-dist -Xlinker -rpath -Xlinker '$$ORIGIN/../lib' $(call cpu_flags,$(DIST_CPU))
	rm -rf $(DIST) && mkdir -p $(DIST)/bin $(DIST)/lib
	for t in $(TOOLS); do strip -o $(DIST)/bin/$$t .build-dist/release/$$t; done
	cp -L $$(ldd $(DIST)/bin/ftrl-train | awk '/libisal/ { print $$3 }') $(DIST)/lib/
	@ls -l $(DIST)/bin $(DIST)/lib

# pyspark for the Spark driver (spark/); Java 17 must be on the machine.
spark-deps:
	@python3 -c 'import pyspark' 2>/dev/null || python3 -m pip install -q pyspark
	@command -v java >/dev/null || { echo "the Spark driver needs Java 17 (apt-get install openjdk-17-jre-headless)"; exit 1; }

# The Spark driver's tests in local mode (local[2] and local-cluster).
spark-test: dist spark-deps
	cd spark && python3 -m unittest -v test_ftrl_spark

# Train on the shipped a9a sample, score its held-out tenth, print logloss and AUC.
demo: build
	@echo "== training on data-samples/a9a-train.libsvm.gz"
	$(RELEASE)/ftrl-train -m demo.ftrl data-samples/a9a-train.libsvm.gz
	@echo "== scoring the held-out data-samples/a9a-test.libsvm.gz"
	$(RELEASE)/ftrl-predict -m demo.ftrl --metrics data-samples/a9a-test.libsvm.gz > demo-scores.txt
	@echo "== first scores (demo-scores.txt)"
	@head -n 5 demo-scores.txt
	$(RELEASE)/ftrl-model info demo.ftrl | head -n 4

# What the command tests drive besides the tools: headless Chromium renders
# the HTML report, util-linux script gives the progress line a terminal,
# qemu-user emulates an older processor for the x86-64-v3 build's check.
test-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/script ] || missing="$$missing bsdutils"; \
	[ "$$(uname -m)" != x86_64 ] || [ -x /usr/bin/qemu-x86_64 ] || missing="$$missing qemu-user"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

test: deps test-deps
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors $(call cpu_flags,$(TARGET_CPU))
	$(SWIFT) test --skip-build
	$(MAKE) install-test
	$(MAKE) spark-test

# The whole suite under ThreadSanitizer, then AddressSanitizer with leak
# checking; the tools the command tests run are instrumented too. Any report
# fails the run (Tests/Sanitizers/ holds the one suppressions file).
SANITIZERS := $(CURDIR)/Tests/Sanitizers
sanitize: deps test-deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(SWIFT) test --skip-build --scratch-path .build-tsan
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS="detect_leaks=1 halt_on_error=1" LSAN_OPTIONS="suppressions=$(SANITIZERS)/lsan.supp print_suppressions=0" \
		$(SWIFT) test --skip-build --scratch-path .build-asan

# libFuzzer targets (Tests/Fuzz/FuzzTargets.swift) built with the library's
# sources under AddressSanitizer, each run for FUZZ_SECONDS from its seed
# corpus in Tests/Fuzz/corpus/; a crash or a broken property fails the run and
# leaves the input in .build-fuzz/crashes/ (add it to the corpus once fixed);
# the log shows the error with its stack and the input (gzip'd, base64), so that a
# failure on a CI machine can be replayed here.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := libsvm delimited gzip model config
FUZZ := .build-fuzz
fuzz: deps
	@mkdir -p $(FUZZ)/crashes
	rm -f $(FUZZ)/ftrl-fuzz
	printf 'module CFTRLShims {\n    header "%s/Sources/CFTRLShims/include/CFTRLShims.h"\n    export *\n}\n' "$(CURDIR)" > $(FUZZ)/module.modulemap
	clang -c -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CFTRLShims/include Sources/CFTRLShims/CFTRLShims.c -o $(FUZZ)/shims.o
	swiftc -O -g -swift-version 6 -sanitize=fuzzer,address -parse-as-library -module-name FTRLFuzz -I Sources/CZlib -I Sources/CISAL -I $(FUZZ) \
		$$(find Sources/FTRL -name '*.swift' | sort) Tests/FTRLTests/ChunkingOracle.swift Tests/Fuzz/FuzzTargets.swift \
		$(FUZZ)/shims.o -o $(FUZZ)/ftrl-fuzz > $(FUZZ)/build.log 2>&1 || { cat $(FUZZ)/build.log; exit 1; }
	@grep -v 'ld.gold: warning: Cannot export local symbol' $(FUZZ)/build.log || true
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ)/work/$$t; \
		echo "== fuzz $$t: $(FUZZ_SECONDS) s from Tests/Fuzz/corpus/$$t"; \
		if FTRL_FUZZ_TARGET=$$t $(FUZZ)/ftrl-fuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=30 \
			-artifact_prefix=$(FUZZ)/crashes/$$t- $(FUZZ)/work/$$t Tests/Fuzz/corpus/$$t > $(FUZZ)/$$t.log 2>&1; then \
			grep -E 'DONE' $(FUZZ)/$$t.log | tail -n 1; \
		else \
			grep -m 1 -A 40 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|property violated|Fatal error' $(FUZZ)/$$t.log \
				|| tail -n 40 $(FUZZ)/$$t.log; \
			input=$$(ls -t $(FUZZ)/crashes/$$t-* 2>/dev/null | head -n 1); \
			if [ -n "$$input" ]; then echo "the input, gzip'd, in base64 ('base64 -d | gunzip' gives it back):"; gzip -9c "$$input" | base64 -w 0; echo; fi; \
			echo "fuzz $$t failed: the input is in $(FUZZ)/crashes/"; exit 1; \
		fi; \
	done

# Mutation testing (not in CI: one build and test run per mutant, about an
# hour): each mutant of Tests/Mutation/mutants.txt applied alone to a copy of
# the tree; the report goes to .build-mutate/report.md. ONLY=P01,T02 for some.
mutate: deps
	python3 Tests/Mutation/mutate.py

# Side-by-side speed and quality against Vowpal Wabbit; results go to bench-work/.
bench: build
	python3 Benchmarks/bench.py

# This build against another (BASELINE=DIR with its ftrl-train and
# ftrl-predict), Vowpal Wabbit in the same rounds; needs make bench's logs.
bench-compare: build
	@test -n "$(BASELINE)" || { echo "give BASELINE=DIR (a build's bin folder)"; exit 64; }
	python3 Benchmarks/compare.py "$(BASELINE)"

# The Spark driver on make bench's 1M-row log: logloss and time for K
# partitions and R rounds against one plain run; scoring bytes compared.
bench-spark: dist spark-deps
	python3 Benchmarks/spark_bench.py

# A search of settings (six learning rates, auto) against one, on make bench's log.
bench-search: build
	python3 Benchmarks/search_bench.py

# The sparse weight table against the dense one: speed, 32 bits, growth with rows (BENCHMARKS.md).
bench-table: build
	python3 Benchmarks/table_bench.py

# Reading the example cache (--cache) against the gzip'd text (BENCHMARKS.md).
bench-cache: build
	python3 Benchmarks/cache_bench.py

# ftrl-predict against vw -t on 200,000 held-out rows, model loading included (needs make bench's models).
bench-score: build
	python3 Benchmarks/score_bench.py

# Holdout logloss at default settings against Vowpal Wabbit on ../shared/data's real logs.
quality: build
	python3 Benchmarks/quality.py

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# The tools, their man pages (swift-argument-parser's generate-manual plugin,
# from the commands' own definitions) and bash, zsh and fish completions
# (the tools' --generate-completion-script).
MAN := .build/plugins/GenerateManual/outputs
# The fish script spells a long option as an argparse spec ('t-mul='), which
# fish reads as the short flag -t (and 'm-mul=' clashes with -m), so its
# parse loop never ends and the shell hangs on Tab; 'T/t-mul=' keeps it long.
FISH_FIX := s/'([a-z])-([a-z0-9-]+=?\+?)'/'\U\1\E\/\1-\2'/g
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for t in $(TOOLS); do install -m 755 $(RELEASE)/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done
	$(SWIFT) package plugin generate-manual > .build/generate-manual.log 2>&1 || { cat .build/generate-manual.log; exit 1; }
	for t in $(TOOLS); do install -m 644 $(MAN)/$$t/$$t.1 $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1; done
	for t in $(TOOLS); do \
		$(RELEASE)/$$t --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t && \
		$(RELEASE)/$$t --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t && \
		$(RELEASE)/$$t --generate-completion-script fish | sed -E "$(FISH_FIX)" > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish || exit 1; \
	done

# make install into a scratch prefix, then the shells and man read what it wrote.
install-test:
	@for s in zsh fish; do command -v $$s > /dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq zsh fish; break; }; done
	rm -rf .build/install-test && $(MAKE) install PREFIX=$(CURDIR)/.build/install-test
	bash Tests/install_test.sh $(CURDIR)/.build/install-test

clean:
	rm -rf .build .build-tsan .build-asan .build-fuzz .build-mutate .build-dist $(DIST) demo.ftrl demo-scores.txt
