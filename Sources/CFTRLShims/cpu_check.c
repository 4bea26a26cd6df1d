// The processor check of a build for x86-64-v3 (see the Makefile's TARGET_CPU).
#define _GNU_SOURCE
#include "CFTRLShims.h"
#ifdef FTRL_NEEDS_X86_64_V3
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

// The Makefile compiles the Swift code for x86-64-v3 (AVX2, FMA, BMI2) and
// defines FTRL_NEEDS_X86_64_V3. This file itself is compiled without those
// instructions, and its constructor runs before any Swift code: on a
// processor without them a tool says so and exits 69 (EX_UNAVAILABLE)
// instead of dying of an illegal instruction somewhere in the run.
__attribute__((constructor)) static void ftrl_check_cpu(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v3")) return;
    fprintf(stderr,
            "%s: error: this build needs an x86-64-v3 processor (AVX2, FMA, BMI2: Intel since 2013, AMD since 2015), "
            "which this one is not; build it for any x86-64 with `make build TARGET_CPU=generic`\n",
            program_invocation_short_name);
    _exit(69);
}
#endif

const char *ftrl_required_cpu(void) {
#ifdef FTRL_NEEDS_X86_64_V3
    return "x86-64-v3";
#else
    return 0;
#endif
}
