#ifndef FTRL_SHIMS_H
#define FTRL_SHIMS_H

#include <signal.h>

/// The `O_DIRECT` flag of this platform (its value differs by architecture,
/// and the C library defines it for GNU sources only: see CFTRLShims.c).
int ftrl_o_direct(void);

/// Hint the CPU to fetch the cache line holding `p` for reading and writing.
/// The trainer calls it on the next example's weight slots while it works on
/// the current one, so the random table accesses overlap with computation.
static inline void ftrl_prefetch(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

/// Four floats or doubles, imported into Swift as SIMD4<Float> and SIMD4<Double>.
typedef float ftrl_float4 __attribute__((ext_vector_type(4)));
typedef double ftrl_double4 __attribute__((ext_vector_type(4)));

/// The square root of each lane, correctly rounded as the scalar one (IEEE
/// 754): Swift's SIMD `squareRoot()` runs lane by lane through libm.
static inline ftrl_float4 ftrl_sqrt4f(ftrl_float4 x) {
    return __builtin_elementwise_sqrt(x);
}

static inline ftrl_double4 ftrl_sqrt4d(ftrl_double4 x) {
    return __builtin_elementwise_sqrt(x);
}

/// The signal (SIGINT or SIGTERM) that asked training to stop, or 0.
extern volatile sig_atomic_t ftrl_stop_flag;

/// The signal that asked training to stop, or 0; cheap enough to read per example.
static inline int ftrl_stop_signal(void) {
    return ftrl_stop_flag;
}

/// Makes SIGINT and SIGTERM set `ftrl_stop_flag` instead of killing the
/// process; a second such signal kills it as usual.
void ftrl_install_stop_handlers(void);

/// The processor level the build requires and checks at start
/// ("x86-64-v3"), or NULL for a build for any processor.
const char *ftrl_required_cpu(void);

#endif
