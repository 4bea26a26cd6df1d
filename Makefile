# ftrl: make demo | test | bench | quality | lint | install [PREFIX=/usr/local] | deps
SWIFT   ?= swift
PREFIX  ?= /usr/local
RELEASE := .build/release
TOOLS   := ftrl-train ftrl-predict ftrl-model

.PHONY: all deps build demo test bench quality lint install clean

all: build

# System packages the build needs: zlib (checksums) and ISA-L (fast gunzip).
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
	$(SWIFT) build -c release

# Train on the shipped a9a sample, score its held-out tenth, print logloss and AUC.
demo: build
	@echo "== training on data-samples/a9a-train.libsvm.gz"
	$(RELEASE)/ftrl-train -m demo.ftrl data-samples/a9a-train.libsvm.gz
	@echo "== scoring the held-out data-samples/a9a-test.libsvm.gz"
	$(RELEASE)/ftrl-predict -m demo.ftrl --metrics data-samples/a9a-test.libsvm.gz > demo-scores.txt
	@echo "== first scores (demo-scores.txt)"
	@head -n 5 demo-scores.txt
	$(RELEASE)/ftrl-model info demo.ftrl | head -n 4

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Side-by-side speed and quality against Vowpal Wabbit; results go to bench-work/.
bench: build
	python3 Benchmarks/bench.py

# Holdout logloss at default settings against Vowpal Wabbit on ../shared/data's real logs.
quality: build
	python3 Benchmarks/quality.py

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	for t in $(TOOLS); do install -m 755 $(RELEASE)/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done

clean:
	rm -rf .build demo.ftrl demo-scores.txt
