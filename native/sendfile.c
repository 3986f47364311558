/*
 * Zero-copy file-to-socket transfers for the node plane (issue 17): Node has no
 * sendfile(2), so every byte of a boot asset was copied from a Buffer into the
 * socket by the main thread. Here the kernel moves page-cache pages to the TCP
 * socket itself, the way nginx serves files.
 *
 * One job per HTTP response body. The job owns a dup(2) of the socket's
 * descriptor and one of the file's, so the caller may close its own at any
 * time (a client that went away, a cancelled job). The body goes out on
 * sender threads with libuv loops of their own (native/loop-workers.h), not on
 * Node's loop: on a virtual NIC the whole transmit path, and the receiving
 * side's delivery too, runs inside the sendfile(2) call, and in the
 * 100-machine boot storm the main thread spent 72 % of its time there, with
 * every DHCP answer, TFTP request, boot script and registration waiting behind
 * the slices (docs/perf/changes.md, "Bodies on sender threads"). Node's thread
 * corks the socket and hands the job to the least busy sender thread; the
 * thread polls its descriptor for POLLOUT and sends at most SLICE bytes per
 * writable event, so the bodies on one thread take turns; it hands back
 * "ended" through a queue to Node's loop, where the JS callback runs. Sender
 * threads never call into JavaScript.
 *
 * JS API (server/http/asset-sendfile.ts wraps it):
 *   start(socketFd, fileFd, offset, length, done) -> job
 *     done(errno, bytesSent) is called once, on Node's thread: errno 0 when
 *     `length` bytes went, ENODATA when the file ended early, or the errno of
 *     the failed call.
 *   cancel(job): stop a running job (the client went away); done is not called.
 *   sent(job) -> bytes sent so far (the caller's stall check reads it).
 *   turns(job) -> writable events the job has handled (the tests check SLICE with it).
 *   slice: the most one writable event sends (SLICE).
 *   threads() -> { planned, running }: sender threads (named cc-sendfile) this process runs, and those running.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "loop-workers.h"
#include "napi-args.h"

/*
 * The socket is corked (TCP_CORK) while the body goes out and uncorked when the job stops, which sends the tail at
 * once: nginx's `tcp_nopush on` with sendfile. Node leaves TCP_NODELAY on, so without it each sendfile(2) that ended
 * off a segment boundary pushed a short segment. bench/http, four runs each, alternating (docs/perf/changes.md,
 * "HTTP: the body corked"): one client 1,385-1,413 -> 1,748-2,031 MB/s (0.67-0.76x -> 0.88-1.11x nginx) and
 * 610-645 -> 414-495 ms of server CPU per GB; 50 clients the same rate, 175 -> 206-223 ms per GB.
 */
static void set_cork(int sock, int on) { setsockopt(sock, IPPROTO_TCP, TCP_CORK, &on, sizeof on); /* not TCP: no-op */ }

/*
 * Bytes sent per writable event before the thread's loop turns (level-triggered polling brings the job back while
 * its socket has room), so bodies sharing a sender thread take turns. nginx's sendfile_max_chunk default.
 */
#define SLICE (2 * 1024 * 1024)

/* Sender threads: one per CPU the process may run on, at most this many. */
#define MAX_SENDERS 4

enum { C_START, C_CANCEL, C_STOP, E_ENDED };
static const int SENT = 0, TURNS = 1; /* which counter js_counter reads: the address of one of these */

typedef struct shared {
  napi_env env;
  uv_async_t events_async; /* on Node's loop: a sender thread ended a job */
  lw_list_t events;
  int active; /* Node's thread: jobs started and not yet delivered as ended (holds Node's loop alive) */
  int nworkers;
  int started;
  lw_worker_t workers[MAX_SENDERS];
} shared_t;

typedef struct job {
  uv_poll_t poll; /* on the sender thread's loop */
  shared_t *sh;
  lw_worker_t *w;
  napi_ref done; /* Node's thread: the JS callback; NULL once called or cancelled */
  int sock;      /* our dups, closed by the sender thread when the job ends */
  int file;
  int64_t offset; /* the sender thread's */
  int64_t left;
  int64_t sent;  /* atomic: written by the sender thread, read by Node's */
  int64_t turns; /* atomic */
  int cancelled; /* atomic: set by Node's thread */
  int polling;   /* the sender thread's */
  int ended;
  int code; /* set before E_ENDED is posted, read by Node's thread after */
  int refs; /* atomic: the JS external + the job until its end is delivered + each queued command */
  lw_msg_t start_msg, cancel_msg, end_msg; /* each posted at most once */
} job_t;

static void job_hold(job_t *j) { __atomic_add_fetch(&j->refs, 1, __ATOMIC_RELAXED); }

static void job_release(job_t *j) {
  if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) == 0) free(j);
}

/* ---- the sender thread ---- */

static void post_end(job_t *j) {
  j->end_msg.kind = E_ENDED;
  j->end_msg.job = j;
  lw_push(&j->sh->events, &j->end_msg);
  uv_async_send(&j->sh->events_async);
}

static void on_poll_closed(uv_handle_t *h) { post_end((job_t *)h->data); }

/* The job is over: give back both descriptors (uncorked: the tail leaves now and a next response is not held). */
static void finish(job_t *j, int code) {
  if (j->ended) return;
  j->ended = 1;
  j->code = code;
  if (j->polling) uv_poll_stop(&j->poll); /* libuv: never close a descriptor while a poll handle is active on it */
  set_cork(j->sock, 0);
  close(j->sock);
  close(j->file);
  if (j->polling)
    uv_close((uv_handle_t *)&j->poll, on_poll_closed);
  else
    post_end(j);
}

static void on_writable(uv_poll_t *h, int status, int events) {
  job_t *j = (job_t *)h->data;
  (void)events;
  if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) return finish(j, ECANCELED);
  if (status < 0) return finish(j, -status);
  __atomic_add_fetch(&j->turns, 1, __ATOMIC_RELAXED);
  int64_t budget = SLICE;
  while (j->left > 0 && budget > 0) {
    size_t want = (size_t)(j->left < budget ? j->left : budget);
    off_t off = (off_t)j->offset;
    ssize_t n = sendfile(j->sock, j->file, &off, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* socket buffer full: wait for POLLOUT */
      return finish(j, errno);
    }
    if (n == 0) return finish(j, ENODATA); /* the file is shorter than the range: it shrank while being sent */
    j->offset += n;
    j->left -= n;
    __atomic_add_fetch(&j->sent, n, __ATOMIC_RELEASE);
    budget -= n;
  }
  if (j->left == 0) finish(j, 0);
  /* else: the slice is spent; level-triggered polling brings us back on the next loop turn */
}

static void begin(job_t *j) {
  if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) return finish(j, ECANCELED);
  int err = uv_poll_init(&j->w->loop, &j->poll, j->sock);
  if (err != 0) return finish(j, -err);
  j->poll.data = j;
  j->polling = 1;
  err = uv_poll_start(&j->poll, UV_WRITABLE, on_writable);
  if (err != 0) finish(j, -err);
}

/* Environment teardown: end every job of this loop and close its wake-up handle, so uv_run returns. */
static void close_all(uv_handle_t *h, void *arg) {
  (void)arg;
  if (uv_is_closing(h)) return;
  if (h->type == UV_POLL)
    finish((job_t *)h->data, ECANCELED);
  else
    uv_close(h, NULL);
}

static void on_commands(uv_async_t *a) {
  lw_worker_t *w = (lw_worker_t *)a->data;
  lw_msg_t *m = lw_take_all(&w->commands);
  while (m) {
    lw_msg_t *next = m->next; /* a C_STOP message is freed below */
    job_t *j = (job_t *)m->job;
    switch (m->kind) {
      case C_START:
        begin(j);
        break;
      case C_CANCEL:
        finish(j, ECANCELED);
        break;
      case C_STOP:
        uv_walk(&w->loop, close_all, NULL);
        free(m);
        break;
    }
    if (j) job_release(j); /* the command's hold */
    m = next;
  }
}

/* ---- Node's thread ---- */

static void send_command(job_t *j, lw_msg_t *m, int kind) {
  m->kind = kind;
  m->job = j;
  job_hold(j);
  lw_send(j->w, m);
}

static void deliver_end(job_t *j) {
  shared_t *sh = j->sh;
  napi_env env = sh->env;
  j->w->jobs--;
  if (--sh->active == 0) uv_unref((uv_handle_t *)&sh->events_async);
  napi_ref ref = j->done;
  j->done = NULL;
  if (ref) {
    napi_value fn, recv, argv[2], result;
    if (napi_get_reference_value(env, ref, &fn) == napi_ok && fn) {
      napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
      napi_create_int32(env, j->code, &argv[0]);
      napi_create_int64(env, __atomic_load_n(&j->sent, __ATOMIC_ACQUIRE), &argv[1]);
      napi_make_callback(env, NULL, recv, fn, 2, argv, &result);
    }
    napi_delete_reference(env, ref);
  }
  job_release(j); /* the hold of a job not yet delivered */
}

static void on_events(uv_async_t *a) {
  shared_t *sh = (shared_t *)a->data;
  lw_msg_t *m = lw_take_all(&sh->events);
  if (!m) return;
  napi_handle_scope scope = NULL;
  napi_open_handle_scope(sh->env, &scope); /* without one the callbacks' values live until the loop turns */
  while (m) {
    lw_msg_t *next = m->next; /* the message is part of its job, which deliver_end may free */
    deliver_end((job_t *)m->job);
    m = next;
  }
  if (scope) napi_close_handle_scope(sh->env, scope);
}

static void cleanup(void *arg) {
  shared_t *sh = (shared_t *)arg;
  for (int i = 0; i < sh->nworkers; i++) {
    lw_worker_t *w = &sh->workers[i];
    if (!w->running) continue;
    lw_msg_t *m = calloc(1, sizeof *m);
    if (!m) continue;
    m->kind = C_STOP;
    lw_send(w, m);
    uv_thread_join(&w->thread);
    w->running = 0;
  }
  uv_close((uv_handle_t *)&sh->events_async, NULL); /* sh itself is never freed: the close callback may run later */
}

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  job_release((job_t *)data);
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "start(socketFd, fileFd, offset, length, done)");
    return NULL;
  }
  int32_t sock, file;
  int64_t offset, length;
  napi_valuetype t;
  napi_typeof(env, argv[4], &t);
  if (napi_get_value_int32(env, argv[0], &sock) != napi_ok || napi_get_value_int32(env, argv[1], &file) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      t != napi_function || sock < 0 || file < 0 || offset < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "start: descriptors, offset and length must be non-negative numbers, done a function");
    return NULL;
  }
  shared_t *sh;
  napi_get_instance_data(env, (void **)&sh);
  if (!sh->started) {
    sh->started = 1;
    for (int i = 0; i < sh->nworkers; i++) lw_start(&sh->workers[i], "cc-sendfile", on_commands);
  }
  lw_worker_t *w = lw_pick(sh->workers, sh->nworkers);
  if (!w) return throw_errno(env, "no sender thread could start", EAGAIN);
  job_t *j = calloc(1, sizeof(job_t));
  if (!j) return throw_errno(env, "out of memory", ENOMEM);
  j->sock = fcntl(sock, F_DUPFD_CLOEXEC, 0);
  j->file = j->sock < 0 ? -1 : fcntl(file, F_DUPFD_CLOEXEC, 0);
  if (j->file < 0) {
    int err = errno;
    if (j->sock >= 0) close(j->sock);
    free(j);
    return throw_errno(env, "dup of the socket or the file failed", err);
  }
  set_cork(j->sock, 1);
  j->sh = sh;
  j->w = w;
  j->offset = offset;
  j->left = length;
  j->refs = 2; /* the JS external, and the job until its end is delivered */
  napi_create_reference(env, argv[4], 1, &j->done);
  napi_value ext;
  napi_create_external(env, j, finalize_external, NULL, &ext);
  w->jobs++;
  if (sh->active++ == 0) uv_ref((uv_handle_t *)&sh->events_async);
  send_command(j, &j->start_msg, C_START);
  return ext;
}

static napi_value js_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "cancel(job)");
    return NULL;
  }
  job_t *j = (job_t *)data;
  if (__atomic_exchange_n(&j->cancelled, 1, __ATOMIC_ACQ_REL)) return NULL;
  if (j->done) {
    napi_delete_reference(env, j->done);
    j->done = NULL;
  }
  send_command(j, &j->cancel_msg, C_CANCEL);
  return NULL;
}

/* sent(job) and turns(job): a counter the sender thread keeps, read atomically (the function's data says which). */
static napi_value js_counter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  void *which = NULL, *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, &which);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "sent(job) / turns(job)");
    return NULL;
  }
  job_t *j = (job_t *)data;
  napi_create_int64(env, __atomic_load_n(which == &SENT ? &j->sent : &j->turns, __ATOMIC_ACQUIRE), &out);
  return out;
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  shared_t *sh;
  napi_get_instance_data(env, (void **)&sh);
  return threads_object(env, sh->nworkers, lw_running(sh->workers, sh->nworkers));
}

NAPI_MODULE_INIT() {
  shared_t *sh = calloc(1, sizeof *sh);
  if (!sh || lw_list_init(&sh->events) != 0 || !lw_node_async(env, &sh->events_async, sh, on_events)) {
    napi_throw_error(env, "ENOMEM", "sendfile: cannot set up its queues");
    return NULL;
  }
  sh->env = env;
  sh->nworkers = lw_count(uv_available_parallelism(), MAX_SENDERS);
  napi_set_instance_data(env, sh, NULL, NULL);
  napi_add_env_cleanup_hook(env, cleanup, sh);
  napi_value slice;
  napi_create_int32(env, SLICE, &slice);
  napi_property_descriptor sent = NAPI_METHOD("sent", js_counter), turns = NAPI_METHOD("turns", js_counter);
  sent.data = (void *)&SENT;
  turns.data = (void *)&TURNS;
  napi_property_descriptor props[] = {
      NAPI_METHOD("start", js_start), NAPI_METHOD("cancel", js_cancel), sent, turns, NAPI_METHOD("threads", js_threads),
      {"slice", NULL, NULL, NULL, NULL, slice, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
