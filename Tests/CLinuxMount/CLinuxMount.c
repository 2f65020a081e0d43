#define _GNU_SOURCE
#include "CLinuxMount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CLINUX_SYS_STATMOUNT 457
#define CLINUX_STATX_MNT_ID_UNIQUE 0x4000U
#define CLINUX_STATMOUNT_MNT_OPTS 0x80U

struct clinux_mnt_id_req {
    uint32_t size;
    uint32_t spare;
    uint64_t mnt_id;
    uint64_t param;
};

// The leading part of struct statmount that this needs (the rest is ignored).
struct clinux_statmount {
    uint32_t size;
    uint32_t mnt_opts;
    uint64_t mask;
    uint32_t sb_dev_major;
    uint32_t sb_dev_minor;
    uint64_t sb_magic;
    uint32_t sb_flags;
    uint32_t fs_type;
    uint64_t mnt_id;
    uint64_t mnt_parent_id;
    uint32_t mnt_id_old;
    uint32_t mnt_parent_id_old;
    uint64_t mnt_attr;
    uint64_t mnt_propagation;
    uint64_t mnt_peer_group;
    uint64_t mnt_master;
    uint64_t propagate_from;
    uint32_t mnt_root;
    uint32_t mnt_point;
    uint64_t mnt_ns_id;
    uint32_t fs_subtype;
    uint32_t sb_source;
    uint32_t opt_num;
    uint32_t opt_array;
    uint32_t opt_sec_num;
    uint32_t opt_sec_array;
    uint64_t spare2[46];
    char str[];
};

int clinux_mount_options(const char *path, char *buffer, size_t size) {
    struct statx info;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, CLINUX_STATX_MNT_ID_UNIQUE, &info) != 0) return -errno;
    if (!(info.stx_mask & CLINUX_STATX_MNT_ID_UNIQUE)) return -ENOSYS;
    struct clinux_mnt_id_req request = {.size = 24, .mnt_id = info.stx_mnt_id, .param = CLINUX_STATMOUNT_MNT_OPTS};
    size_t length = sizeof(struct clinux_statmount) + 64 * 1024;
    struct clinux_statmount *result = calloc(1, length);
    if (result == NULL) return -ENOMEM;
    if (syscall(CLINUX_SYS_STATMOUNT, &request, result, length, 0) != 0) {
        int code = errno;
        free(result);
        return -code;
    }
    if (!(result->mask & CLINUX_STATMOUNT_MNT_OPTS)) {
        free(result);
        return -ENOSYS;
    }
    const char *options = result->str + result->mnt_opts;
    size_t available = length - sizeof(struct clinux_statmount) - result->mnt_opts;
    size_t copied = strnlen(options, available);
    if (copied >= size) copied = size - 1;
    memcpy(buffer, options, copied);
    buffer[copied] = '\0';
    free(result);
    return 0;
}
