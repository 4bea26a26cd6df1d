// ftrl-train takes over SIGINT and SIGTERM before Swift's main runs: as a
// constructor of the executable, this runs as soon as the dynamic loader has
// finished, a few milliseconds earlier than the first line of main, so that
// the window in which a signal kills the process outright (and no model is
// written) is as short as the loader allows. Only ftrl-train links it.
#include "CTrainStartup.h"
#include "CFTRLShims.h"

__attribute__((constructor)) static void ftrl_train_startup(void) {
    ftrl_install_stop_handlers();
}

int ftrl_train_startup_linked(void) { return 1; }
