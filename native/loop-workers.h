/*
 * Threads with libuv loops of their own, for an addon whose per-connection work should not wait for Node's main
 * thread (native/sendfile.c). Node's thread hands a worker a command through a mutex-guarded list and a uv_async on
 * the worker's loop; a worker hands an event back the same way through a uv_async on Node's loop. Messages are
 * links the caller embeds in its own structs or allocates; this file never frees one. Static inline functions,
 * included by an addon's one source file.
 */
#ifndef CRASHCART_LOOP_WORKERS_H
#define CRASHCART_LOOP_WORKERS_H
#include <node_api.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <uv.h>

typedef struct lw_msg {
  struct lw_msg *next;
  int kind;
  void *job;
} lw_msg_t;

typedef struct lw_list {
  uv_mutex_t lock;
  lw_msg_t *head, *tail;
} lw_list_t;

static inline int lw_list_init(lw_list_t *l) {
  l->head = l->tail = NULL;
  return uv_mutex_init(&l->lock);
}

static inline void lw_push(lw_list_t *l, lw_msg_t *m) {
  m->next = NULL;
  uv_mutex_lock(&l->lock);
  if (l->tail)
    l->tail->next = m;
  else
    l->head = m;
  l->tail = m;
  uv_mutex_unlock(&l->lock);
}

/* Every message queued so far, oldest first. */
static inline lw_msg_t *lw_take_all(lw_list_t *l) {
  uv_mutex_lock(&l->lock);
  lw_msg_t *m = l->head;
  l->head = l->tail = NULL;
  uv_mutex_unlock(&l->lock);
  return m;
}

/* One worker thread: its loop and the commands Node's thread sent it. */
typedef struct lw_worker {
  uv_loop_t loop;
  uv_async_t wake;
  uv_thread_t thread;
  lw_list_t commands;
  const char *name;
  int running;
  int jobs; /* Node's thread's count of jobs handed over and not yet ended: the next goes to the least busy */
} lw_worker_t;

static inline void lw_thread_main(void *arg) {
  lw_worker_t *w = (lw_worker_t *)arg;
  prctl(PR_SET_NAME, w->name); /* top -H, ps -L and the tests see which threads these are */
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* Start `w`; `on_commands` runs on its loop whenever Node's thread sent something. 0 if it could not start. */
static inline int lw_start(lw_worker_t *w, const char *name, uv_async_cb on_commands) {
  w->name = name;
  if (lw_list_init(&w->commands) != 0) return 0;
  if (uv_loop_init(&w->loop) != 0) return 0;
  if (uv_async_init(&w->loop, &w->wake, on_commands) != 0) {
    uv_loop_close(&w->loop);
    return 0;
  }
  w->wake.data = w;
  if (uv_thread_create(&w->thread, lw_thread_main, w) != 0) {
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    return 0;
  }
  w->running = 1;
  return 1;
}

static inline void lw_send(lw_worker_t *w, lw_msg_t *m) {
  lw_push(&w->commands, m);
  uv_async_send(&w->wake);
}

/* The least busy running worker of `n`, or NULL. */
static inline lw_worker_t *lw_pick(lw_worker_t *ws, int n) {
  lw_worker_t *best = NULL;
  for (int i = 0; i < n; i++)
    if (ws[i].running && (!best || ws[i].jobs < best->jobs)) best = &ws[i];
  return best;
}

/* How many of `n` workers run. */
static inline int lw_running(const lw_worker_t *ws, int n) {
  int running = 0;
  for (int i = 0; i < n; i++) running += ws[i].running;
  return running;
}

/* Threads for a process allowed `cpus` CPUs: one each, at most `max`, at least one. */
static inline int lw_count(unsigned cpus, int max) {
  int n = (int)cpus;
  return n < 1 ? 1 : n > max ? max : n;
}

/* The uv_async on Node's loop that workers wake with their events: unref'd, so it holds the loop only while work runs. */
static inline int lw_node_async(napi_env env, uv_async_t *a, void *data, uv_async_cb cb) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, a, cb) != 0) return 0;
  a->data = data;
  uv_unref((uv_handle_t *)a);
  return 1;
}

#endif
