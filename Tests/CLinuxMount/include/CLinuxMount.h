// The kernel's own answer to "how is this path mounted", for tests that must not read
// /proc/self/mountinfo while other tests mount and unmount (statmount, Linux 6.8+;
// mount options since 6.11). The C library of Debian 12 predates both system calls.
#ifndef C_LINUX_MOUNT_H
#define C_LINUX_MOUNT_H

#include <stddef.h>

/// Writes the super block options of the mount at `path` (overlay's lowerdir=...,
/// volatile, ...) into `buffer`, NUL-terminated. Returns 0, or -errno: -ENOSYS where the
/// kernel has no statmount or no mount options in it.
int clinux_mount_options(const char *path, char *buffer, size_t size);

#endif
