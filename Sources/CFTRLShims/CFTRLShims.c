// The helpers are static inline functions in include/CFTRLShims.h; SwiftPM
// needs one source file to build the target.
#include "CFTRLShims.h"
