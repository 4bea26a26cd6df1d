// Signal handling for a graceful stop: the handler only records the signal
// (async-signal-safe) and restores the default action, so that a second
// Ctrl-C ends the process at once.
#define _GNU_SOURCE  // for O_DIRECT
#include "CFTRLShims.h"
#include <fcntl.h>
#include <pthread.h>
#include <string.h>

int ftrl_o_direct(void) {
    return O_DIRECT;
}

volatile sig_atomic_t ftrl_stop_flag = 0;

static void ftrl_on_stop(int sig) {
    ftrl_stop_flag = sig;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, 0);
}

void ftrl_install_stop_handlers(void) {
    // Once per process: installing again after a first signal would take
    // back the default action that lets a second signal end the process.
    static int installed = 0;
    if (installed) return;
    installed = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ftrl_on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    // A parent may have started us with these signals blocked (test
    // runners, some supervisors): let them reach this thread.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
}

