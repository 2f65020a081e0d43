#ifndef PODLINK_CARCHIVE_SHIM_H
#define PODLINK_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
// Layers carry extended attributes (overlay's opaque marker, file capabilities) that the
// image code sets and copies itself; Swift's Glibc module does not include this header.
#include <sys/xattr.h>
#endif
