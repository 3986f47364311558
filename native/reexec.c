/*
 * Replace the running process with Node started again with extra flags, keeping its PID (execv(2)). V8's
 * collector is chosen when V8 starts: `--single-threaded-gc` cannot be switched on later (V8 aborts when a
 * concurrent marking job is already scheduled), and Node 20 has no process.execve. bin/crashcart.mjs calls this
 * first thing for `serve` when a flag it wants is missing, before anything else runs, so the PID that a
 * launcher, systemd or a test holds is the server's (bin/v8-flags.mjs; server/system/v8-flags.ts says why).
 *
 * JS API: exec(file, argv) -> only returns by throwing (the errno of execv).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "napi-args.h"

#define MAX_ARGS 512
#define MAX_ARG_BYTES 8192

static napi_value js_exec(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv_js[2];
  napi_get_cb_info(env, info, &argc, argv_js, NULL, NULL);
  static char file[4096];
  size_t len = 0;
  uint32_t n = 0;
  bool is_array = false;
  if (argc != 2 || napi_get_value_string_utf8(env, argv_js[0], file, sizeof file, &len) != napi_ok || len == 0 ||
      len >= sizeof file - 1 || napi_is_array(env, argv_js[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv_js[1], &n) != napi_ok || n == 0 || n >= MAX_ARGS) {
    napi_throw_type_error(env, "EINVAL", "reexec: exec(file, argv) with a file and 1-511 arguments");
    return NULL;
  }
  char **argv = calloc(n + 1, sizeof *argv);
  if (!argv) return throw_errno(env, "reexec", ENOMEM);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t l = 0;
    argv[i] = malloc(MAX_ARG_BYTES);
    if (!argv[i] || napi_get_element(env, argv_js[1], i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, argv[i], MAX_ARG_BYTES, &l) != napi_ok || l >= MAX_ARG_BYTES - 1) {
      for (uint32_t k = 0; k <= i; k++) free(argv[k]);
      free(argv);
      napi_throw_type_error(env, "EINVAL", "reexec: every argument must be a string under 8 KiB");
      return NULL;
    }
  }
  /* Node opens or marks the standard descriptors close-on-exec: keep them for the new image, as a shell would. */
  for (int fd = 0; fd < 3; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  /*
   * Under `--cpu-prof` V8's sampler thread sends SIGPROF to this thread every interval. A signal pending at execv(2)
   * stays pending in the new image, where SIGPROF's default action ends the process ("Profiling timer expired":
   * serve under --cpu-prof died so in 1 start of 6 at the default 1 ms interval, in every one at 50 us). An ignored
   * signal is discarded, pending ones included, and stays ignored across execv until the new Node resets its
   * handlers at start; the sampler thread itself ends with the old image.
   */
  struct sigaction ignore = {0}, before;
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPROF, &ignore, &before);
  execv(file, argv); /* returns only on failure; the environment stays (environ) */
  int err = errno;
  sigaction(SIGPROF, &before, NULL);
  for (uint32_t i = 0; i < n; i++) free(argv[i]);
  free(argv);
  return throw_errno(env, "execv", err);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {{"exec", NULL, js_exec, NULL, NULL, NULL, napi_default, NULL}};
  napi_define_properties(env, exports, 1, props);
  return exports;
}
