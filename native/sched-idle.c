/*
 * Move one thread of this process to the SCHED_IDLE policy (sched(7)): it runs only when no other thread wants
 * the CPU, and a thread of the normal policy that wakes takes the CPU from it at once. Nice 19 is not enough on a
 * kernel with the EEVDF scheduler (Linux 6.6 and later): a nice-19 thread that got the CPU while the main thread
 * slept keeps it for its slice, milliseconds, after the main thread wakes (server/system/background-threads.ts
 * says where that showed).
 *
 * JS API: idle(tid) -> undefined; throws the errno (ESRCH: the thread ended, EPERM: not allowed).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <sched.h>
#include <sys/types.h>

#include "napi-args.h"

static napi_value js_idle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t tid = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &tid) != napi_ok || tid <= 0) {
    napi_throw_type_error(env, "EINVAL", "sched-idle: idle(tid) with a thread ID above 0");
    return NULL;
  }
  struct sched_param p = {.sched_priority = 0};
  /* On Linux the policy is per thread: sched_setscheduler(2) with a thread ID changes that thread alone. */
  if (sched_setscheduler((pid_t)tid, SCHED_IDLE, &p) != 0) return throw_errno(env, "sched_setscheduler", errno);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {{"idle", NULL, js_idle, NULL, NULL, NULL, napi_default, NULL}};
  napi_define_properties(env, exports, 1, props);
  return exports;
}
