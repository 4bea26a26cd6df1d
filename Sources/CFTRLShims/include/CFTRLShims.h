#ifndef FTRL_SHIMS_H
#define FTRL_SHIMS_H

/// Hint the CPU to fetch the cache line holding `p` for reading and writing.
/// The trainer calls it on the next example's weight slots while it works on
/// the current one, so the random table accesses overlap with computation.
static inline void ftrl_prefetch(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

#endif
