// Entering a rootless user namespace has to happen before the process has a second
// thread: unshare(CLONE_NEWUSER) and setns() into a user namespace refuse a
// multithreaded caller, and the Swift runtime, Dispatch and NIO start threads as soon as
// they are used. So the two moments that need it run here, in a constructor that the
// dynamic loader calls before main, driven by environment variables that only Podlink's
// own rootless code (Sources/Libpod/Rootless) sets and that are removed at once so that
// no child inherits them.
//
//   _PODLINK_PAUSE=READY,GO   become the pause process: unshare a user and a mount
//                             namespace, tell the parent on READY, wait on GO while the
//                             parent writes the id mappings, then hold the namespaces
//                             open for as long as it lives. With _PODLINK_PAUSE_JOIN=PID
//                             it joins PID's namespaces instead (a pause process killed
//                             while containers ran: their conmon still holds them).
//   _PODLINK_JOIN_USERNS=PID  join PID's user and mount namespaces (the pause process),
//                             then carry on into main as root of that namespace.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>

#include "CRootlessEntry.h"

static char entry_error[512];
static int entry_joined;

const char *podlink_rootless_entry_error(void) { return entry_error[0] ? entry_error : NULL; }

int podlink_rootless_entry_joined(void) { return entry_joined; }

static void become_root(void) {
    // Supplementary groups of the host user are unmapped inside; dropping them fails
    // (harmlessly) where setgroups is denied, as with a single-id mapping.
    (void)setgroups(0, NULL);
    (void)setresgid(0, 0, 0);
    (void)setresuid(0, 0, 0);
}

/// setns into PID's user and mount namespaces; 0, or the errno of the step that failed
/// (and what it was, in entry_error).
static int join_namespaces(const char *pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/ns/user", pid);
    int user = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
    int mount = open(path, O_RDONLY | O_CLOEXEC);
    int code = 0;
    if (user < 0 || mount < 0) {
        code = errno;
        snprintf(entry_error, sizeof entry_error, "opening the namespaces of process %s: %s", pid, strerror(code));
    } else if (setns(user, CLONE_NEWUSER) != 0) {
        code = errno;
        snprintf(entry_error, sizeof entry_error, "joining the user namespace of process %s: %s", pid, strerror(code));
    } else if (setns(mount, CLONE_NEWNS) != 0) {
        code = errno;
        snprintf(entry_error, sizeof entry_error, "joining the mount namespace of process %s: %s", pid, strerror(code));
    }
    if (user >= 0) close(user);
    if (mount >= 0) close(mount);
    return code;
}

static void become_pause_process(const char *descriptors) {
    int ready = -1, go = -1;
    if (sscanf(descriptors, "%d,%d", &ready, &go) != 2) _exit(125);
    unsetenv("_PODLINK_PAUSE");
    const char *join = getenv("_PODLINK_PAUSE_JOIN");
    unsigned char status = 0;
    if (join != NULL) {
        status = (unsigned char)join_namespaces(join);
        unsetenv("_PODLINK_PAUSE_JOIN");
    } else if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        status = (unsigned char)errno;
    }
    if (write(ready, &status, 1) != 1 || status != 0) _exit(125);
    // The parent writes uid_map and gid_map (of a new namespace), then one byte; it
    // closes GO without writing when it could not.
    unsigned char answer;
    if (read(go, &answer, 1) != 1) _exit(125);
    close(ready);
    close(go);
    become_root();
    setsid();
    if (chdir("/") != 0) _exit(125);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    prctl(PR_SET_NAME, "podlink-pause", 0, 0, 0);
    // Only SIGKILL and SIGTERM end it: a terminal's signals do not reach a new session,
    // and a stray SIGHUP or SIGINT must not take every container's namespace with it.
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (;;) pause();
}

static void join_user_namespace(const char *pid) {
    unsetenv("_PODLINK_JOIN_USERNS");
    if (join_namespaces(pid) == 0) {
        become_root();
        entry_joined = 1;
    }
}

__attribute__((constructor)) static void podlink_rootless_entry(void) {
    const char *pause = getenv("_PODLINK_PAUSE");
    if (pause != NULL) become_pause_process(pause);
    const char *pid = getenv("_PODLINK_JOIN_USERNS");
    if (pid != NULL) join_user_namespace(pid);
}
