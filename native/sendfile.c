/*
 * Zero-copy file-to-socket transfers for the node plane (issue 17): Node has no
 * sendfile(2), so every byte of a boot asset was copied from a Buffer into the
 * socket by the main thread. Here the kernel moves page-cache pages to the TCP
 * socket itself, the way nginx serves files.
 *
 * One job per HTTP response body. The job owns a dup(2) of the socket's
 * descriptor: libuv already polls the original for reads, and epoll keeps one
 * registration per (descriptor, open file) pair, so a second descriptor may be
 * polled for POLLOUT on Node's own loop beside it. Everything runs on the main
 * thread; there are no worker threads and no locks. Each writable event sends
 * at most SLICE bytes, so one fast client cannot starve the loop.
 *
 * JS API (server/http/native-sendfile.ts wraps it):
 *   start(socketFd, fileFd, offset, length, done) -> job
 *     done(errno, bytesSent) is called once: errno 0 when `length` bytes went,
 *     ENODATA when the file ended early, or the errno of the failed call.
 *   cancel(job): stop a running job (the client went away); done is not called.
 *   sent(job) -> bytes sent so far (the caller's stall check reads it).
 * The file descriptor stays the caller's: the job only reads through it.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <uv.h>

/*
 * The socket is corked (TCP_CORK) while the body goes out and uncorked when the job stops, which sends the tail at
 * once: nginx's `tcp_nopush on` with sendfile. Node leaves TCP_NODELAY on, so without it each sendfile(2) that ended
 * off a segment boundary pushed a short segment. bench/http, four runs each, alternating (docs/perf/changes.md,
 * "HTTP: the body corked"): one client 1,385-1,413 -> 1,748-2,031 MB/s (0.67-0.76x -> 0.88-1.11x nginx) and
 * 610-645 -> 414-495 ms of server CPU per GB; 50 clients the same rate, 175 -> 206-223 ms per GB.
 */
static void set_cork(int sock, int on) { setsockopt(sock, IPPROTO_TCP, TCP_CORK, &on, sizeof on); /* not TCP: no-op */ }

/* Bytes sent per writable event before the loop gets its turn back. */
#define SLICE (8 * 1024 * 1024)

typedef struct job {
  uv_poll_t poll;
  napi_env env;
  napi_ref done;    /* the JS callback; NULL once called or cancelled */
  int sock;         /* our dup of the socket; -1 once closed */
  int file;         /* borrowed from the caller */
  int64_t offset;   /* next file offset to send */
  int64_t left;     /* bytes still to send */
  int64_t sent;     /* bytes sent so far */
  int refs;         /* libuv handle + JS external: freed when both let go */
  int stopped;
} job_t;

static void job_release(job_t *j) {
  if (--j->refs == 0) free(j);
}

static void on_closed(uv_handle_t *h) { job_release((job_t *)h->data); }

/* Stop polling and give back the descriptor; the job's memory goes when libuv and JS both let go. */
static void job_stop(job_t *j) {
  if (j->stopped) return;
  j->stopped = 1;
  uv_poll_stop(&j->poll);
  set_cork(j->sock, 0); /* the tail leaves now, and a next response on the connection is not held */
  close(j->sock); /* libuv: never close a descriptor while a poll handle is active on it */
  j->sock = -1;
  uv_close((uv_handle_t *)&j->poll, on_closed);
  if (j->done) {
    napi_delete_reference(j->env, j->done);
    j->done = NULL;
  }
}

/* Call done(code, sent) once, from the loop (not from inside a JS call). */
static void job_finish(job_t *j, int code) {
  napi_env env = j->env;
  napi_ref ref = j->done;
  j->done = NULL;
  int64_t sent = j->sent;
  job_stop(j);
  if (!ref) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2], result;
  if (napi_get_reference_value(env, ref, &fn) == napi_ok && fn) {
    napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
    napi_create_int32(env, code, &argv[0]);
    napi_create_int64(env, sent, &argv[1]);
    napi_make_callback(env, NULL, recv, fn, 2, argv, &result);
  }
  napi_delete_reference(env, ref);
  napi_close_handle_scope(env, scope);
}

static void on_writable(uv_poll_t *h, int status, int events) {
  job_t *j = (job_t *)h->data;
  (void)events;
  if (j->stopped) return;
  if (status < 0) {
    job_finish(j, -status);
    return;
  }
  int64_t budget = SLICE;
  while (j->left > 0 && budget > 0) {
    size_t want = (size_t)(j->left < budget ? j->left : budget);
    off_t off = (off_t)j->offset;
    ssize_t n = sendfile(j->sock, j->file, &off, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* socket buffer full: wait for POLLOUT */
      job_finish(j, errno);
      return;
    }
    if (n == 0) {
      job_finish(j, ENODATA); /* the file is shorter than the range: it shrank while being sent */
      return;
    }
    j->offset += n;
    j->left -= n;
    j->sent += n;
    budget -= n;
  }
  if (j->left == 0) job_finish(j, 0);
  /* else: the slice is spent; level-triggered polling brings us back on the next loop turn */
}

static void on_external_gone(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  job_release((job_t *)data);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_value code, msg, e;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &msg);
  napi_create_int32(env, err, &code);
  napi_create_error(env, NULL, msg, &e);
  napi_set_named_property(env, e, "errno", code);
  napi_throw(env, e);
  return NULL;
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
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "no event loop", EINVAL);
  job_t *j = calloc(1, sizeof(job_t));
  if (!j) return throw_errno(env, "out of memory", ENOMEM);
  j->sock = fcntl(sock, F_DUPFD_CLOEXEC, 0);
  if (j->sock < 0) {
    int err = errno;
    free(j);
    return throw_errno(env, "dup of the socket failed", err);
  }
  set_cork(j->sock, 1);
  int err = uv_poll_init(loop, &j->poll, j->sock);
  if (err == 0) {
    j->poll.data = j;
    err = uv_poll_start(&j->poll, UV_WRITABLE, on_writable);
    if (err != 0) {
      set_cork(j->sock, 0);
      close(j->sock); /* the handle never started polling, so the descriptor may go first */
      j->refs = 1;    /* freed by the close callback */
      uv_close((uv_handle_t *)&j->poll, on_closed);
      return throw_errno(env, "polling the socket failed", -err);
    }
  } else {
    set_cork(j->sock, 0);
    close(j->sock);
    free(j);
    return throw_errno(env, "polling the socket failed", -err);
  }
  j->env = env;
  j->file = file;
  j->offset = offset;
  j->left = length;
  j->refs = 2;
  napi_create_reference(env, argv[4], 1, &j->done);
  napi_value ext;
  napi_create_external(env, j, on_external_gone, NULL, &ext);
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
  job_stop((job_t *)data);
  return NULL;
}

static napi_value js_sent(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "sent(job)");
    return NULL;
  }
  napi_create_int64(env, ((job_t *)data)->sent, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, js_start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, js_cancel, NULL, &fn);
  napi_set_named_property(env, exports, "cancel", fn);
  napi_create_function(env, "sent", NAPI_AUTO_LENGTH, js_sent, NULL, &fn);
  napi_set_named_property(env, exports, "sent", fn);
  return exports;
}
