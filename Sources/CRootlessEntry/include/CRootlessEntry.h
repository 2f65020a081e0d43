#ifndef PODLINK_ROOTLESS_ENTRY_H
#define PODLINK_ROOTLESS_ENTRY_H

/// Why this process could not join the user namespace it was started to join (see
/// rootless_entry.c), or NULL when it joined or was not asked to.
const char *podlink_rootless_entry_error(void);

/// Whether this process was started to join a user namespace and did.
int podlink_rootless_entry_joined(void);

#endif
