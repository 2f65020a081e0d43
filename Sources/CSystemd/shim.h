#ifndef PODLINK_CSYSTEMD_SHIM_H
#define PODLINK_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
