/*
 * fdatasync(2) on a thread of its own (`cc-fsync`), for the group commit of durable writes
 * (server/store/group-fsync.ts). Through Node's thread pool a sync shares its threads with everything else the pool
 * runs (file reads, the event log's appends, gunzip of an image); on one CPU with the main thread real-time
 * (server/system/background-threads.ts) a pool thread only runs when the main thread sleeps, so an ACK that waits for
 * its lease's sync waited for every busy stretch of the main thread first. This thread only syncs, so it can be given a
 * real-time priority above the main thread's: it takes the CPU for the microseconds it needs to start a sync and to
 * report one, and sleeps in the kernel for the rest.
 *
 * JS API: datasync(fd, done(errno, ms)) -> undefined: done runs on Node's thread with 0 or the errno and the sync's
 * wall time in ms. Jobs run one at a time in the order given. The thread starts with the addon and stops with the
 * environment.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "loop-workers.h"
#include "napi-args.h"

enum { C_SYNC = 1, C_STOP = 2 };

typedef struct shared shared_t;

typedef struct job {
  lw_msg_t msg; /* first: a message is its job */
  int fd;
  int err;
  double ms;
  napi_ref done;
} job_t;

struct shared {
  napi_env env;
  lw_worker_t worker;
  lw_list_t results;
  uv_async_t results_async;
  int active; /* jobs handed over and not yet reported, on Node's thread */
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- the sync thread ---- */

static void close_all(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_commands(uv_async_t *a) {
  lw_worker_t *w = (lw_worker_t *)a->data;
  shared_t *sh = (shared_t *)((char *)w - offsetof(shared_t, worker));
  lw_msg_t *m = lw_take_all(&w->commands);
  while (m) {
    lw_msg_t *next = m->next;
    if (m->kind == C_STOP) {
      uv_walk(&w->loop, close_all, NULL);
      free(m);
    } else {
      job_t *j = (job_t *)m;
      double t0 = now_ms();
      j->err = fdatasync(j->fd) == 0 ? 0 : errno;
      j->ms = now_ms() - t0;
      lw_push(&sh->results, &j->msg);
      uv_async_send(&sh->results_async);
    }
    m = next;
  }
}

/* ---- Node's thread ---- */

static void on_results(uv_async_t *a) {
  shared_t *sh = (shared_t *)a->data;
  lw_msg_t *m = lw_take_all(&sh->results);
  if (!m) return;
  napi_env env = sh->env;
  napi_handle_scope scope = NULL;
  napi_open_handle_scope(env, &scope);
  while (m) {
    lw_msg_t *next = m->next;
    job_t *j = (job_t *)m;
    if (--sh->active == 0) uv_unref((uv_handle_t *)&sh->results_async);
    napi_value fn, recv, argv[2], result;
    if (napi_get_reference_value(env, j->done, &fn) == napi_ok && fn) {
      napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
      napi_create_int32(env, j->err, &argv[0]);
      napi_create_double(env, j->ms, &argv[1]);
      napi_make_callback(env, NULL, recv, fn, 2, argv, &result); /* runs the microtasks the callback queued */
    }
    napi_delete_reference(env, j->done);
    free(j);
    m = next;
  }
  if (scope) napi_close_handle_scope(env, scope);
}

static napi_value js_datasync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_typeof(env, argv[1], &t) != napi_ok ||
      t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "fsync-thread: datasync(fd, done) with a descriptor and a function");
    return NULL;
  }
  shared_t *sh;
  napi_get_instance_data(env, (void **)&sh);
  if (!sh->worker.running) {
    napi_throw_error(env, "EIO", "fsync-thread: the sync thread is not running");
    return NULL;
  }
  job_t *j = calloc(1, sizeof *j);
  if (!j) return throw_errno(env, "fsync-thread", ENOMEM);
  j->fd = fd;
  j->msg.kind = C_SYNC;
  if (napi_create_reference(env, argv[1], 1, &j->done) != napi_ok) {
    free(j);
    return throw_errno(env, "fsync-thread", ENOMEM);
  }
  if (sh->active++ == 0) uv_ref((uv_handle_t *)&sh->results_async);
  lw_send(&sh->worker, &j->msg);
  return NULL;
}

static void cleanup(void *arg) {
  shared_t *sh = (shared_t *)arg;
  if (sh->worker.running) {
    lw_msg_t *m = calloc(1, sizeof *m);
    if (m) {
      m->kind = C_STOP;
      lw_send(&sh->worker, m);
      uv_thread_join(&sh->worker.thread);
    }
    sh->worker.running = 0;
  }
  uv_close((uv_handle_t *)&sh->results_async, NULL); /* sh itself is never freed: the close callback may run later */
}

NAPI_MODULE_INIT() {
  shared_t *sh = calloc(1, sizeof *sh);
  if (!sh || lw_list_init(&sh->results) != 0 || !lw_node_async(env, &sh->results_async, sh, on_results)) {
    napi_throw_error(env, "ENOMEM", "fsync-thread: cannot set up its queues");
    return NULL;
  }
  sh->env = env;
  if (!lw_start(&sh->worker, "cc-fsync", on_commands)) {
    napi_throw_error(env, "EIO", "fsync-thread: cannot start its thread");
    return NULL;
  }
  napi_set_instance_data(env, sh, NULL, NULL);
  napi_add_env_cleanup_hook(env, cleanup, sh);
  napi_property_descriptor props[] = {NAPI_METHOD("datasync", js_datasync)};
  napi_define_properties(env, exports, 1, props);
  return exports;
}
