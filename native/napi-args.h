/*
 * What every Crashcart addon (a C file in native/) does at its JavaScript boundary: throw an errno as an Error whose
 * `code` is the errno's name (server/errors/cc-error.ts bindError reads EADDRINUSE, EACCES, EPERM), and read
 * the named fields of an options object. Static inline functions (an addon that uses some of them compiles without
 * warnings), included by each addon's one source file.
 */
#ifndef CRASHCART_NAPI_ARGS_H
#define CRASHCART_NAPI_ARGS_H
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Throw `what: strerror(err)` with the errno's name as code; returns NULL for a binding to return. */
static inline napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = "EIO";
  switch (err) {
    case EACCES: code = "EACCES"; break;
    case EPERM: code = "EPERM"; break;
    case EADDRINUSE: code = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: code = "EADDRNOTAVAIL"; break;
    case ENODEV: code = "ENODEV"; break;
    case EMFILE: code = "EMFILE"; break;
    case ENFILE: code = "ENFILE"; break;
    case EINVAL: code = "EINVAL"; break;
    case ENETUNREACH: code = "ENETUNREACH"; break;
  }
  napi_throw_error(env, code, msg);
  return NULL;
}

/* A socket call `step` failed on `fd`: close it, throw errno as above, return -1 (the descriptor a caller returns). */
static inline int close_and_throw(napi_env env, int fd, const char *step) {
  int err = errno;
  close(fd);
  throw_errno(env, step, err);
  return -1;
}

/* o[name] into *out; 0 when it cannot be read. */
static inline int get_prop(napi_env env, napi_value o, const char *name, napi_value *out) {
  return napi_get_named_property(env, o, name, out) == napi_ok;
}

/* o[name] as a number; clears *ok when it is missing or not a number. */
static inline double get_num(napi_env env, napi_value o, const char *name, int *ok) {
  napi_value v;
  double d = 0;
  if (!get_prop(env, o, name, &v) || napi_get_value_double(env, v, &d) != napi_ok) *ok = 0;
  return d;
}

/* A method for napi_define_properties. */
#define NAPI_METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

/* { a: va, b: vb }: an object of two numbers, as the addons' counters return them. */
static inline napi_value pair_object(napi_env env, const char *a, double va, const char *b, double vb) {
  napi_value o, x, y;
  napi_create_object(env, &o);
  napi_create_double(env, va, &x);
  napi_create_double(env, vb, &y);
  napi_set_named_property(env, o, a, x);
  napi_set_named_property(env, o, b, y);
  return o;
}

/* { planned, running }: the worker threads an addon runs once work arrived, and those running (its threads()). */
static inline napi_value threads_object(napi_env env, int planned, int running) {
  return pair_object(env, "planned", planned, "running", running);
}

#endif
