/*
 * A UDP socket read in batches, for the DHCP server (issue 17). Through
 * Node's datagram layer every DHCP message cost a libuv receive callback, a
 * Buffer and an rinfo object made in C++, a MakeCallback into JavaScript with
 * its microtask checkpoint and an 'message' event; every reply cost a send
 * request object, a second MakeCallback when the send completed and a
 * promise. At the rates where drops start (10,000 DORA/s pinned to one core)
 * that layer was a third of the server's CPU per exchange, and Kea has none
 * of it.
 *
 * Here a readable socket is drained with recvmmsg(2), up to SLOTS datagrams
 * per call, into memory the JavaScript side owns (two Buffers handed over at
 * open), and JavaScript is entered once per batch. A reply is one sendto(2)
 * from the caller's Buffer, on the caller's stack, with nothing to complete
 * later. The socket is opened here: bound, pinned to the NIC
 * (SO_BINDTOIFINDEX), SO_BROADCAST, and a receive buffer past rmem_max when
 * the process may (SO_RCVBUFFORCE), as server/net/pinned-udp.ts does for a
 * Node socket. Everything runs on Node's thread and loop (a uv_poll handle).
 *
 * A datagram longer than a slot is dropped (MSG_TRUNC) and counted: a slot is
 * sized by the caller for its protocol (DHCP: 2,048 bytes against at most
 * 1,472 on an Ethernet link).
 *
 * JS API (server/net/native-udp.ts wraps it):
 *   open(o) -> sock   o: { address, port, ifindex (-1: none), broadcast, recvBufferBytes, data (Buffer),
 *                          meta (Buffer), slot, onBatch }
 *       Throws an Error with the errno's name as `code` (EADDRINUSE, EACCES, ...).
 *       onBatch(n): n datagrams wait; datagram i is data[i*slot, i*slot + len), and meta, read as uint32
 *       in the machine's order, holds len, the source IPv4 address (host order) and the source port at
 *       3i, 3i+1, 3i+2. Valid only during the call (the next batch overwrites them).
 *   port(sock) -> the bound port
 *   send(sock, buf, address, port) -> 0, or the errno of sendto(2) (EAGAIN when the send buffer is full)
 *   close(sock)    stops reading and closes the descriptor (once; later calls do nothing)
 *   stats(sock) -> [batches, datagrams, truncated, readErrors]
 */
#define _GNU_SOURCE /* recvmmsg(2) */
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "napi-args.h"

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

/* Most datagrams one recvmmsg(2) takes, and so one call into JavaScript. */
#define MAX_SLOTS 64
/*
 * Batches read per readable event before the loop gets a turn: a flood cannot keep timers, the disk's
 * completions and the other sockets waiting. epoll is level-triggered, so the rest brings the loop back.
 */
#define ROUNDS 8

typedef struct sock_s {
  napi_env env;
  int fd;
  int closed;
  int refs; /* the JS handle and the uv handle; freed at zero (both on Node's thread) */
  uv_poll_t poll;
  napi_ref on_batch, data_ref, meta_ref;
  uint8_t *data;
  uint32_t *meta;
  size_t slot;
  unsigned slots;
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iov[MAX_SLOTS];
  struct sockaddr_in from[MAX_SLOTS];
  double batches, datagrams, truncated, read_errors;
  struct sock_s *next; /* open sockets, for the environment's cleanup */
} sock_t;

typedef struct {
  sock_t *open;
} shared_t;

static void sock_release(sock_t *s) {
  if (--s->refs > 0) return;
  free(s);
}

static void forget(sock_t *s) {
  shared_t *sh = NULL;
  napi_get_instance_data(s->env, (void **)&sh);
  if (!sh) return;
  for (sock_t **p = &sh->open; *p; p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      return;
    }
}

static void on_closed(uv_handle_t *h) { sock_release((sock_t *)h->data); }

/* Stop reading, close the descriptor, drop the references to the caller's Buffers and callback. */
static void sock_close(sock_t *s) {
  if (s->closed) return;
  s->closed = 1;
  forget(s);
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(s->env, s->on_batch);
  napi_delete_reference(s->env, s->data_ref);
  napi_delete_reference(s->env, s->meta_ref);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

/* One batch into JavaScript; an exception there is the process's uncaught exception, as from an 'message' listener. */
static void deliver(sock_t *s, unsigned n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[1], result;
  if (napi_get_reference_value(env, s->on_batch, &fn) == napi_ok && fn) {
    napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
    napi_create_uint32(env, n, &argv[0]);
    if (napi_make_callback(env, NULL, recv, fn, 1, argv, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  sock_t *s = (sock_t *)h->data;
  if (status < 0) return;
  for (int round = 0; round < ROUNDS && !s->closed; round++) {
    for (unsigned i = 0; i < s->slots; i++) {
      s->iov[i].iov_base = s->data + i * s->slot;
      s->iov[i].iov_len = s->slot;
      memset(&s->msgs[i].msg_hdr, 0, sizeof s->msgs[i].msg_hdr);
      s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
      s->msgs[i].msg_hdr.msg_iovlen = 1;
      s->msgs[i].msg_hdr.msg_name = &s->from[i];
      s->msgs[i].msg_hdr.msg_namelen = sizeof s->from[i];
    }
    int n = recvmmsg(s->fd, s->msgs, s->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) s->read_errors++;
      return;
    }
    if (n == 0) return;
    /* Compact: a truncated datagram leaves no gap for JavaScript to step over. */
    unsigned kept = 0;
    for (int i = 0; i < n; i++) {
      if (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        s->truncated++;
        continue;
      }
      if (kept != (unsigned)i) memmove(s->data + kept * s->slot, s->data + i * s->slot, s->msgs[i].msg_len);
      s->meta[kept * 3] = s->msgs[i].msg_len;
      s->meta[kept * 3 + 1] = ntohl(s->from[i].sin_addr.s_addr);
      s->meta[kept * 3 + 2] = ntohs(s->from[i].sin_port);
      kept++;
    }
    s->batches++;
    s->datagrams += kept;
    if (kept) deliver(s, kept);
    if ((unsigned)n < s->slots) return; /* drained */
  }
}

static void cleanup(void *arg) {
  shared_t *sh = (shared_t *)arg;
  while (sh->open) sock_close(sh->open);
}

/* ---- JS bindings ---- */

static int get_ipv4(napi_env env, napi_value v, struct in_addr *out) {
  char str[64];
  size_t len;
  if (napi_get_value_string_utf8(env, v, str, sizeof str, &len) != napi_ok) return 0;
  return inet_pton(AF_INET, str, out) == 1;
}

static sock_t *unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (sock_t *)data;
}

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_release((sock_t *)data);
}

/* The socket: bound, pinned, broadcast if asked, its receive buffer raised. -1 with a JS error thrown. */
static int open_socket(napi_env env, struct in_addr local, int port, int ifindex, int broadcast, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno), -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = local};
  const char *step = "bind";
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) goto fail;
  step = "SO_BINDTOIFINDEX";
  if (ifindex >= 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof ifindex) < 0) goto fail;
  step = "SO_BROADCAST";
  int one = 1;
  if (broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) goto fail;
  if (rcvbuf > 0) {
    /* Capped by net.core.rmem_max; past it with CAP_NET_ADMIN. Without either the kernel's size stays. */
    int got = 0;
    socklen_t gl = sizeof got;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && got < rcvbuf)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  }
  return fd;
fail:
  return close_and_throw(env, fd, step);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value o;
  napi_get_cb_info(env, info, &argc, &o, NULL, NULL);
  int ok = argc == 1;
  struct in_addr local;
  napi_value v, data_v, meta_v, fn;
  ok = ok && get_prop(env, o, "address", &v) && get_ipv4(env, v, &local);
  int port = (int)get_num(env, o, "port", &ok);
  int ifindex = (int)get_num(env, o, "ifindex", &ok);
  int rcvbuf = (int)get_num(env, o, "recvBufferBytes", &ok);
  double slot = get_num(env, o, "slot", &ok);
  bool broadcast = false;
  ok = ok && get_prop(env, o, "broadcast", &v) && napi_get_value_bool(env, v, &broadcast) == napi_ok;
  void *data = NULL, *meta = NULL;
  size_t data_len = 0, meta_len = 0;
  ok = ok && get_prop(env, o, "data", &data_v) && napi_get_buffer_info(env, data_v, &data, &data_len) == napi_ok;
  ok = ok && get_prop(env, o, "meta", &meta_v) && napi_get_buffer_info(env, meta_v, &meta, &meta_len) == napi_ok;
  ok = ok && get_prop(env, o, "onBatch", &fn);
  napi_valuetype t = napi_undefined;
  if (ok) napi_typeof(env, fn, &t);
  if (!ok || t != napi_function || port < 0 || port > 65535 || slot < 64 || slot > 65536) {
    napi_throw_type_error(env, "EINVAL", "udp-batch open: address, port, ifindex, broadcast, recvBufferBytes, data, meta, slot, onBatch");
    return NULL;
  }
  size_t slots = data_len / (size_t)slot;
  if (slots > MAX_SLOTS) slots = MAX_SLOTS;
  if (slots > meta_len / 12) slots = meta_len / 12;
  if (slots < 1 || ((uintptr_t)meta & 3) != 0) {
    napi_throw_type_error(env, "EINVAL", "udp-batch open: data must hold a slot and meta 12 bytes per slot, 4-byte aligned");
    return NULL;
  }
  int fd = open_socket(env, local, port, ifindex, broadcast, rcvbuf);
  if (fd < 0) return NULL;
  sock_t *s = calloc(1, sizeof *s);
  uv_loop_t *loop;
  if (!s || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    close(fd);
    free(s);
    napi_throw_error(env, "ENOMEM", "udp-batch: cannot watch the socket");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->refs = 2;
  s->poll.data = s;
  s->data = data;
  s->meta = meta;
  s->slot = (size_t)slot;
  s->slots = (unsigned)slots;
  napi_create_reference(env, fn, 1, &s->on_batch);
  napi_create_reference(env, data_v, 1, &s->data_ref);
  napi_create_reference(env, meta_v, 1, &s->meta_ref);
  shared_t *sh = NULL;
  napi_get_instance_data(env, (void **)&sh);
  s->next = sh->open;
  sh->open = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, s, finalize_external, NULL, &handle);
  return handle;
}

static sock_t *arg_sock(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t *s = argc == want ? unwrap(env, argv[0]) : NULL;
  if (!s) napi_throw_type_error(env, "EINVAL", "udp-batch: not a socket");
  return s;
}

static napi_value js_port(napi_env env, napi_callback_info info) {
  napi_value argv[1], r;
  sock_t *s = arg_sock(env, info, 1, argv);
  if (!s) return NULL;
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int port = !s->closed && getsockname(s->fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : -1;
  napi_create_int32(env, port, &r);
  return r;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[4], r;
  sock_t *s = arg_sock(env, info, 4, argv);
  if (!s) return NULL;
  void *buf = NULL;
  size_t len = 0;
  struct in_addr to;
  int32_t port = 0;
  int err = 0;
  if (napi_get_buffer_info(env, argv[1], &buf, &len) != napi_ok) {
    /* a Uint8Array that is not a Buffer */
    napi_typedarray_type tt;
    size_t n = 0, off;
    napi_value ab;
    if (napi_get_typedarray_info(env, argv[1], &tt, &n, &buf, &ab, &off) != napi_ok || tt != napi_uint8_array) err = EINVAL;
    len = n;
  }
  if (!err && (!get_ipv4(env, argv[2], &to) || napi_get_value_int32(env, argv[3], &port) != napi_ok || port < 0 || port > 65535))
    err = EINVAL;
  if (!err && s->closed) err = EBADF;
  if (!err) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = to};
    if (sendto(s->fd, buf, len, 0, (struct sockaddr *)&a, sizeof a) < 0) err = errno;
  }
  napi_create_int32(env, err, &r);
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sock_t *s = arg_sock(env, info, 1, argv);
  if (s) sock_close(s);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr, v;
  sock_t *s = arg_sock(env, info, 1, argv);
  if (!s) return NULL;
  double vals[4] = {s->batches, s->datagrams, s->truncated, s->read_errors};
  napi_create_array_with_length(env, 4, &arr);
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

NAPI_MODULE_INIT() {
  shared_t *sh = calloc(1, sizeof *sh);
  if (!sh) {
    napi_throw_error(env, "ENOMEM", "udp-batch: out of memory");
    return NULL;
  }
  napi_set_instance_data(env, sh, NULL, NULL);
  napi_add_env_cleanup_hook(env, cleanup, sh);
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
