#ifndef FTRL_TRAIN_STARTUP_H
#define FTRL_TRAIN_STARTUP_H

/// Always 1; ftrl-train calls it so that the linker keeps this module, whose
/// constructor installs the stop handlers before main.
int ftrl_train_startup_linked(void);

#endif
