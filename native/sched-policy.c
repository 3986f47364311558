/*
 * A thread's scheduling policy (sched(7)), set by thread ID; on Linux the policy is per thread, so
 * sched_setscheduler(2) with a thread ID changes that thread alone. Used on one CPU only
 * (server/system/background-threads.ts says why):
 *   idle(tid)       SCHED_IDLE: the thread runs only when no other wants the CPU. Nice 19 is not enough on a kernel
 *                   with the EEVDF scheduler (Linux 6.6 and later): a nice-19 thread that got the CPU while the main
 *                   thread slept keeps it for its slice, milliseconds, after the main thread wakes.
 *   fifo(tid, prio) SCHED_FIFO at `prio` with SCHED_RESET_ON_FORK: a real-time thread takes the CPU from any thread of
 *                   the normal and idle policies the moment it wakes. Threads and processes it creates start at the
 *                   normal policy (the reset flag), so a spawned tool or a new pool thread never runs real-time.
 *
 * JS API: idle(tid) -> undefined; fifo(tid, prio) -> undefined; each throws the errno (ESRCH: the thread ended,
 * EPERM: not allowed, EINVAL: a bad argument).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <sched.h>
#include <sys/types.h>

#include "napi-args.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* Read argument `i` of `argv` as an int32 above `min`, or throw EINVAL with `usage`; returns 0 when it threw. */
static int int_arg(napi_env env, size_t argc, napi_value *argv, size_t i, int32_t min, int32_t *out, const char *usage) {
  if (argc <= i || napi_get_value_int32(env, argv[i], out) != napi_ok || *out < min) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  return 1;
}

static napi_value js_idle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t tid = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!int_arg(env, argc, argv, 0, 1, &tid, "sched-policy: idle(tid) with a thread ID above 0")) return NULL;
  struct sched_param p = {.sched_priority = 0};
  if (sched_setscheduler((pid_t)tid, SCHED_IDLE, &p) != 0) return throw_errno(env, "sched_setscheduler", errno);
  return NULL;
}

static napi_value js_fifo(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t tid = 0;
  int32_t prio = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *usage = "sched-policy: fifo(tid, priority) with a thread ID above 0 and a priority from 1";
  if (!int_arg(env, argc, argv, 0, 1, &tid, usage) || !int_arg(env, argc, argv, 1, 1, &prio, usage)) return NULL;
  struct sched_param p = {.sched_priority = prio};
  if (sched_setscheduler((pid_t)tid, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) != 0) return throw_errno(env, "sched_setscheduler", errno);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"idle", NULL, js_idle, NULL, NULL, NULL, napi_default, NULL},
      {"fifo", NULL, js_fifo, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}
