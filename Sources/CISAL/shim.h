#ifndef FTRL_CISAL_SHIM_H
#define FTRL_CISAL_SHIM_H
// Intel ISA-L's inflate (igzip): several times faster than zlib's on x86-64.
#include <isa-l/igzip_lib.h>
// Its CRC-32 (gzip's, zlib's crc32 bit for bit) with carry-less multiplies: model files' checksums.
#include <isa-l/crc.h>
#endif
