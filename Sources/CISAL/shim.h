#ifndef FTRL_CISAL_SHIM_H
#define FTRL_CISAL_SHIM_H
// Intel ISA-L's inflate (igzip): several times faster than zlib's on x86-64.
#include <isa-l/igzip_lib.h>
#endif
