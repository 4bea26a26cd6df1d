#ifndef FTRL_SHIMS_H
#define FTRL_SHIMS_H

#include <signal.h>

/// Hint the CPU to fetch the cache line holding `p` for reading and writing.
/// The trainer calls it on the next example's weight slots while it works on
/// the current one, so the random table accesses overlap with computation.
static inline void ftrl_prefetch(const void *p) {
    __builtin_prefetch(p, 1, 3);
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

#endif
