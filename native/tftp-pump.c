/*
 * The data phase of a TFTP read transfer, in native code (issue 17). In
 * JavaScript every lock-step block cost a trip through Node's datagram layer
 * each way (a libuv receive callback, a Buffer, an 'message' event, a send
 * request): 13-31 us of CPU per block against dnsmasq's 9-11, so one core
 * moved 0.56-0.83x of the best peer's bytes. Here a block costs one recv(2)
 * and one send(2).
 *
 * The protocol rules are those of server/tftp/transfer.ts, window.ts and
 * rto.ts, written a second time; server/tftp/native-transfer.ts says which
 * test holds both to the same behaviour. The request phase (RRQ, path
 * checks, option negotiation, the cache) stays in JavaScript; it hands over
 * a ready OACK and either the file laid out as DATA packets (the cache's
 * PacketRun: one slot of 4 + blksize bytes per block, headers written) or an
 * open descriptor to pread(2) from.
 *
 * One job per transfer. The job owns its socket: bound to the appliance's
 * address on a fresh port (RFC 1350 section 4, the server's TID), pinned to
 * the NIC (SO_BINDTOIFINDEX), connect()ed to the client so the kernel drops
 * datagrams from any other TID. The pump thread watches its sockets with
 * poll(2) itself (see pump_thread: epoll's per-datagram cost falls on the
 * client's CPU) and a uv_timer drives retransmission.
 *
 * The data phase runs on a pump thread with its own libuv loop, not on
 * Node's. On Node's loop an ACK waited for whatever JavaScript, compilation
 * or sendfile(2) slice was running: in the 100-machine boot storm the main
 * thread had busy stretches of 3-22 ms while machines fetched their loader,
 * and the server took a median 0.5 ms (p99 21 ms) from an ACK to the next
 * DATA against dnsmasq's 0.08 ms (p99 4 ms). The main thread opens the socket
 * and hands the job to the pump thread (a command queue and a uv_async on
 * that thread's loop); the pump thread hands back "started" and "ended" the
 * same way (an event queue and a uv_async on Node's loop), where the JS
 * callbacks run. Pump threads never call into JavaScript; a job's fields
 * belong to one thread at a time, passed with the queues' mutex. There are
 * PUMP_THREADS of them (one: see there; with more, each new transfer would go
 * to the least busy); they start with the first transfer and stop with the
 * Node environment.
 *
 * JS API (server/tftp/native-transfer.ts wraps it):
 *   start(o) -> job     o: { address, ifindex (-1: none), peerAddress, peerPort, size, blksize, windowsize,
 *                            packets (Buffer|null), fd (-1 with packets), oack (Buffer|null), initialMs, minMs,
 *                            maxMs, maxRetries, fixedMs (-1: adaptive), block1StallRetries, onStart, onEnd }
 *       Sends the OACK, or the first window when there is none (the caller has then reported the start).
 *       onStart() after the client acknowledged the OACK. onEnd(reason, acked, retransmits, malformed,
 *       duplicateAcks, sendErrors, started, readErrno, clientError) once; reason is an index into
 *       REASONS of native-transfer.ts, clientError the client's ERROR datagram (a Buffer) or undefined.
 *       Both run on Node's thread, later; onEnd runs inside start only when the first block of a file
 *       sent without an OACK cannot be read.
 *   duplicateRequest(job): the client re-sent its request: answer the OACK again, once per wait.
 *   abort(job, message): send ERROR 0 with `message`, end as an io-error (onEnd runs before abort returns:
 *       the call waits for the pump thread to act on it).
 *   threads() -> { planned, running }: pump threads (named cc-tftp-pump) this process runs, and those running.
 *   polling() -> { turns, reads }: loop turns spent polling for a fast client's ACK instead of sleeping
 *       (poll_for_ack), and datagrams read in them, since the process started.
 */
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "napi-args.h"

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

/*
 * Datagrams read per readable event. One: in lock-step (most firmware) exactly one ACK is waiting, and a
 * second recv(2) would only return EAGAIN, a syscall per block. poll(2) is level-triggered, so anything else
 * queued brings the loop straight back.
 */
#define BATCH 1

enum { OP_RRQ = 1, OP_WRQ = 2, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };
/* Same order as REASONS in server/tftp/native-transfer.ts. */
enum { R_COMPLETE, R_PROBE, R_CLIENT_ERROR, R_TIMEOUT, R_STALL_BLOCK1, R_IO_ERROR };
enum { ACK_ADVANCED, ACK_DONE, ACK_DUPLICATE, ACK_STRAY };

typedef struct pump pump_t;

/* A command for the pump thread, or an event for Node's thread. */
enum { M_BEGIN, M_DUPLICATE, M_ABORT, M_STOP, E_STARTED, E_ENDED };
typedef struct msg {
  struct msg *next;
  pump_t *p;
  int kind;
  int embedded;   /* part of its job (the two events): never freed on its own */
  uv_sem_t *done; /* M_ABORT: posted once acted on */
  char *text;     /* M_ABORT: the message for the client, allocated with the message (ABORT_TEXT_MAX bytes) */
} msg_t;

#define ABORT_TEXT_MAX 400

typedef struct queue {
  msg_t *head, *tail;
} queue_t;

/*
 * Pump threads per process: one, whatever the CPUs, as dnsmasq serves every transfer from one loop. A block costs
 * the thread one recv(2) and one send(2), nearly all of it kernel time, and one poll(2) wake serves every ACK that
 * came in meanwhile (about 15 per wake with 20 transfers running), so one thread moves one core's worth of
 * lock-step TFTP, far more than first-stage loaders ask of it. A thread per transfer (32 with more than one CPU,
 * until 2026-12-04) paid a context switch and a cross-CPU wake-up per block instead: with one client process
 * running 20 or 100 transfers at once (curl), 14.5-17.9 µs of server CPU per block against 8.5-10.1 with one
 * thread, and 67-86 MiB/s against 110-145 (bench/tftp unpinned; docs/perf/changes.md, "One pump thread"). With a
 * client process per transfer (atftp) the two did not differ beyond the noise. The pool code below still takes
 * any count up to PUMP_THREADS.
 */
#define PUMP_THREADS 1

typedef struct shared shared_t;

/* One pump thread: its loop, its commands, its receive buffer. */
typedef struct worker {
  shared_t *sh;
  int running; /* the thread and its loop exist */
  int jobs;    /* Node's thread: jobs handed to it and not yet delivered as ended (the next job goes to the least busy) */
  uv_loop_t loop;
  uv_async_t commands_async;
  uv_thread_t thread;
  queue_t commands;
  int stopping;          /* M_STOP arrived: leave the loop */
  int polling;           /* the loop turn running now is a poll (no wait) */
  uint64_t spin_until;   /* uv_hrtime() until which the loop polls instead of sleeping (poll_for_ack) */
  uint64_t polls;        /* atomic: loop turns spent polling, for polling() */
  uint64_t polled_reads; /* atomic: datagrams read in those turns */
  /* The pump thread's: slot 0 of `fds` is the loop's backend (commands, via its uv_async), slots 1..count the
     sockets of the jobs it runs, job[i] the job of fds[i]. */
  struct pollfd *fds;
  pump_t **job;
  int count, cap;
  uint8_t buf[65536]; /* the largest UDP payload, so a datagram is judged whole */
} worker_t;

/* One per Node environment (napi instance data). */
struct shared {
  napi_env env;
  uv_async_t events_async; /* on Node's loop: a pump thread posted events */
  uv_mutex_t lock;         /* guards every queue */
  queue_t events;
  int active; /* Node's thread: jobs begun and not yet delivered as ended (holds the loop alive) */
  int started; /* the pump threads were started (with the first transfer) */
  worker_t workers[PUMP_THREADS];
};

struct pump {
  uv_timer_t timer;
  shared_t *sh;
  worker_t *w; /* the pump thread that runs it */
  napi_ref on_start, on_end, source;
  int refs; /* atomic: JS external + timer handle + each message naming the job */
  int slot; /* the pump thread's: index in its worker's fds and job, 0 while not watched */
  int ended;      /* the pump thread's: the data phase is over */
  int delivered;  /* Node's thread's: onEnd ran */
  int end_reason; /* set with `ended`, read by Node's thread after E_ENDED */
  int sock, file;
  const uint8_t *packets; /* the whole file as DATA packets, or NULL: stream from `file` */
  uint8_t *scratch;       /* one DATA packet when streaming */
  uint8_t *oack;
  size_t oack_len;
  int64_t size;
  uint32_t blksize, windowsize, stride;
  /* window.ts: absolute block numbers from 1 */
  uint64_t last, base, next, recover, dup_resent_at;
  int rewound, awaiting_oack;
  /* rto.ts */
  double srtt, rttvar, initial_ms, min_ms, max_ms, fixed_ms;
  int max_retries, block1_stall_retries, tries;
  uint64_t deadline; /* loop time (ms) at which the current wait ends; the timer may be due earlier */
  uint64_t probe_abs;
  double probe_at;
  /* reported at the end */
  double retransmits, malformed, duplicate_acks, send_errors;
  int read_errno;
  uint8_t *client_error;
  size_t client_error_len;
  msg_t started_msg, ended_msg; /* each posted at most once: no allocation on the pump thread */
};

static double now_ms(void) { return (double)uv_hrtime() / 1e6; }

static void pump_hold(pump_t *p) { __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED); }

/* Either thread: the last holder frees the job (its napi references are gone by then: deliver_end). */
static void pump_release(pump_t *p) {
  if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  free(p->scratch);
  free(p->oack);
  free(p->client_error);
  free(p);
}

static void on_closed(uv_handle_t *h) { pump_release((pump_t *)h->data); }

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  pump_release((pump_t *)data);
}

/* ---- datagrams out ---- */

static void send_bytes(pump_t *p, const uint8_t *buf, size_t len) {
  for (;;) {
    if (send(p->sock, buf, len, 0) >= 0) return;
    if (errno != EINTR) break;
  }
  p->send_errors++; /* ENOBUFS, ECONNREFUSED after an ICMP from the client, a firewall's EPERM */
}

static void send_error(pump_t *p, const char *message) {
  uint8_t buf[520];
  size_t n = strlen(message);
  if (n > 500) n = 500;
  buf[0] = 0;
  buf[1] = OP_ERROR;
  buf[2] = 0;
  buf[3] = 0; /* code 0, not defined: the message says what happened */
  memcpy(buf + 4, message, n);
  buf[4 + n] = 0;
  send_bytes(p, buf, 5 + n);
}

/* Payload bytes of block `abs`: the final block is short, possibly empty. */
static size_t payload_len(const pump_t *p, uint64_t abs) {
  int64_t left = p->size - (int64_t)(abs - 1) * p->blksize;
  if (left <= 0) return 0;
  return left < p->blksize ? (size_t)left : p->blksize;
}

/* The DATA packet of block `abs`, or NULL when the file cannot be read (read_errno says why; 0 = it shrank). */
static const uint8_t *data_packet(pump_t *p, uint64_t abs, size_t *len) {
  size_t n = payload_len(p, abs);
  *len = 4 + n;
  if (p->packets) return p->packets + (abs - 1) * p->stride;
  uint8_t *s = p->scratch;
  uint32_t wire = (uint32_t)(abs & 0xffff); /* rolls over to 0 after 65535 (docs/tftp.md) */
  s[0] = 0;
  s[1] = OP_DATA;
  s[2] = (uint8_t)(wire >> 8);
  s[3] = (uint8_t)(wire & 0xff);
  off_t at = (off_t)(abs - 1) * p->blksize;
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(p->file, s + 4 + got, n - got, at + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      p->read_errno = r < 0 ? errno : 0;
      return NULL;
    }
    got += (size_t)r;
  }
  return s;
}

/* ---- rto.ts ---- */

static void rto_sample(pump_t *p, double ms) {
  if (p->srtt < 0) {
    p->srtt = ms;
    p->rttvar = ms / 2;
  } else {
    p->rttvar = 0.75 * p->rttvar + 0.25 * fabs(p->srtt - ms);
    p->srtt = 0.875 * p->srtt + 0.125 * ms;
  }
}

static uint64_t rto_wait_ms(const pump_t *p) {
  double cap = p->fixed_ms >= 0 ? p->fixed_ms : p->max_ms;
  double base = p->srtt < 0 ? p->initial_ms : fmax(p->min_ms, p->srtt + 4 * p->rttvar);
  double ms = ldexp(base, p->tries < 60 ? p->tries : 60);
  return (uint64_t)ceil(fmin(cap, ms));
}

/*
 * Polling instead of sleeping while a fast client answers (2026-12-04). In lock-step every block waits for the
 * client's ACK, and a thread asleep in poll(2) pays a wake-up for each one: on an idle core that is most of
 * the server's turn (on this VM the hypervisor's too). After it sends a block to a client whose smoothed round trip
 * is at most SPIN_MAX_US, the pump thread keeps polling its sockets (poll(2) with a zero timeout, sched_yield(2)
 * between polls so anything else runnable on its core goes first) for twice that round trip plus SPIN_SLACK_US, at
 * most SPIN_MAX_US, before it sleeps. A slow client (a busy rack, a ROM that takes a millisecond per block) has a
 * longer round trip and gets no polling, so the thread spends nothing on it. Lock-step rows of bench/tftp went from
 * 0.84-1.23x to 1.77-3.29x of the best peer with it, at the same CPU per block as dnsmasq's sleeping loop
 * (docs/perf/changes.md, "Polling between blocks").
 */
#define SPIN_MAX_US 200
#define SPIN_SLACK_US 20

/* Pump thread: a block went out to `p` and its ACK is awaited; poll for it if the client is fast. */
static void poll_for_ack(pump_t *p) {
  if (p->srtt < 0 || p->srtt * 1000 > SPIN_MAX_US) return;
  double us = p->srtt * 2000 + SPIN_SLACK_US;
  if (us > SPIN_MAX_US) us = SPIN_MAX_US;
  uint64_t until = uv_hrtime() + (uint64_t)(us * 1000);
  if (until > p->w->spin_until) p->w->spin_until = until;
}

/* ---- window.ts ---- */

static int window_ack(pump_t *p, uint32_t wire) {
  uint64_t prev = p->base - 1;
  uint64_t abs = prev + ((wire - (uint32_t)(prev & 0xffff)) & 0xffff);
  p->rewound = 0;
  if (abs > p->next - 1) return ACK_STRAY;
  if (abs == p->base - 1) {
    if (p->windowsize > 1 && p->next > p->base && p->dup_resent_at != p->base && abs > p->recover) {
      p->dup_resent_at = p->base;
      p->recover = p->next - 1;
      p->next = p->base;
      p->rewound = 1;
    }
    return ACK_DUPLICATE;
  }
  p->base = abs + 1;
  if (abs >= p->last) return ACK_DONE;
  p->rewound = abs < p->next - 1;
  p->next = p->base;
  return ACK_ADVANCED;
}

static void window_rewind(pump_t *p) {
  if (p->next - 1 > p->recover) p->recover = p->next - 1;
  p->next = p->base;
}

/* ---- the two queues ---- */

static void push(shared_t *sh, queue_t *q, msg_t *m) {
  m->next = NULL;
  uv_mutex_lock(&sh->lock);
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  uv_mutex_unlock(&sh->lock);
}

static msg_t *take_all(shared_t *sh, queue_t *q) {
  uv_mutex_lock(&sh->lock);
  msg_t *m = q->head;
  q->head = q->tail = NULL;
  uv_mutex_unlock(&sh->lock);
  return m;
}

/* Pump thread -> Node's thread. */
static void post_event(pump_t *p, int kind) {
  msg_t *m = kind == E_STARTED ? &p->started_msg : &p->ended_msg;
  m->p = p;
  m->kind = kind;
  m->embedded = 1;
  pump_hold(p);
  push(p->sh, &p->sh->events, m);
  uv_async_send(&p->sh->events_async);
}

/* ---- calls into JS (Node's thread) ---- */

static void call_js(pump_t *p, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = p->sh->env;
  napi_value fn, recv, result;
  if (!ref || napi_get_reference_value(env, ref, &fn) != napi_ok || !fn) return;
  napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
  napi_make_callback(env, NULL, recv, fn, argc, argv, &result);
}

/* Node's thread, once per job: report the end to JS and drop the references that kept its values alive. */
static void deliver_end(pump_t *p) {
  if (p->delivered) return;
  p->delivered = 1;
  shared_t *sh = p->sh;
  napi_env env = sh->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value argv[9];
    napi_create_int32(env, p->end_reason, &argv[0]);
    napi_create_double(env, (double)(p->base - 1), &argv[1]);
    napi_create_double(env, p->retransmits, &argv[2]);
    napi_create_double(env, p->malformed, &argv[3]);
    napi_create_double(env, p->duplicate_acks, &argv[4]);
    napi_create_double(env, p->send_errors, &argv[5]);
    napi_get_boolean(env, !p->awaiting_oack, &argv[6]);
    napi_create_int32(env, p->read_errno, &argv[7]);
    if (p->client_error) {
      void *copy;
      napi_create_buffer_copy(env, p->client_error_len, p->client_error, &copy, &argv[8]);
    } else {
      napi_get_undefined(env, &argv[8]);
    }
    napi_ref on_end = p->on_end;
    p->on_end = NULL;
    call_js(p, on_end, 9, argv);
    if (on_end) napi_delete_reference(env, on_end);
    napi_close_handle_scope(env, scope);
  }
  if (p->on_start) napi_delete_reference(env, p->on_start);
  if (p->source) napi_delete_reference(env, p->source);
  p->on_start = p->source = NULL;
  if (p->w) p->w->jobs--;
  if (--sh->active == 0) uv_unref((uv_handle_t *)&sh->events_async);
}

/* Node's thread: run what the pump thread reported, in order. */
static void drain_events(shared_t *sh) {
  msg_t *m = take_all(sh, &sh->events);
  if (!m) return;
  napi_handle_scope scope = NULL;
  napi_open_handle_scope(sh->env, &scope);
  while (m) {
    msg_t *next = m->next;
    pump_t *p = m->p;
    if (m->kind == E_STARTED && !p->delivered)
      call_js(p, p->on_start, 0, NULL);
    else if (m->kind == E_ENDED)
      deliver_end(p);
    if (!m->embedded) free(m);
    pump_release(p); /* may free the job, and with it an embedded message */
    m = next;
  }
  if (scope) napi_close_handle_scope(sh->env, scope);
}

static void on_events(uv_async_t *a) { drain_events((shared_t *)a->data); }

/* Pump thread: watch the job's socket (slot at the end of the worker's arrays). 0 when they cannot grow. */
static int watch(worker_t *w, pump_t *p) {
  if (w->count + 1 >= w->cap) {
    int cap = w->cap ? w->cap * 2 : 64;
    struct pollfd *fds = realloc(w->fds, (size_t)cap * sizeof *fds);
    if (fds) w->fds = fds;
    pump_t **job = realloc(w->job, (size_t)cap * sizeof *job);
    if (job) w->job = job;
    if (!fds || !job) return 0;
    w->cap = cap;
  }
  int i = ++w->count;
  w->fds[i] = (struct pollfd){.fd = p->sock, .events = POLLIN};
  w->job[i] = p;
  p->slot = i;
  return 1;
}

/* Pump thread: stop watching the job's socket; the last slot moves into its place. */
static void unwatch(worker_t *w, pump_t *p) {
  int i = p->slot;
  if (i == 0) return;
  int last = w->count--;
  w->fds[i] = w->fds[last];
  w->job[i] = w->job[last];
  w->job[i]->slot = i;
  p->slot = 0;
}

/* Pump thread: the data phase is over. Stop watching, close the timer, then tell Node's thread. */
static void finish(pump_t *p, int reason) {
  if (p->ended) return;
  p->ended = 1;
  p->end_reason = reason;
  uv_timer_stop(&p->timer);
  unwatch(p->w, p);
  close(p->sock);
  p->sock = -1;
  uv_close((uv_handle_t *)&p->timer, on_closed);
  post_event(p, E_ENDED);
}

/* ---- transfer.ts ---- */

/* Put every block the window allows on the wire. */
static void pump_window(pump_t *p, int is_retransmit) {
  if (p->ended) return;
  uint64_t end = p->base + p->windowsize - 1;
  if (end > p->last) end = p->last;
  while (p->next <= end) {
    size_t len;
    const uint8_t *pkt = data_packet(p, p->next, &len);
    if (!pkt) {
      send_error(p, "read error on server");
      finish(p, R_IO_ERROR);
      return;
    }
    send_bytes(p, pkt, len);
    p->next++;
  }
  if (is_retransmit)
    p->probe_abs = 0; /* Karn: no RTT sample across a resend */
  else if (p->probe_abs == 0) {
    p->probe_abs = end;
    p->probe_at = now_ms();
  }
}

static void on_timeout(uv_timer_t *t);

/*
 * Start the wait for the next ACK. Most ACKs arrive long before the wait ends, so the timer is not moved per
 * block (a heap removal and insertion each time): the new end goes into `deadline`, and a timer that fires
 * early re-arms itself for the rest. It is restarted only when the new end is earlier than its due time.
 */
static void arm_timer(pump_t *p) {
  if (p->ended) return;
  uint64_t wait = rto_wait_ms(p);
  uint64_t now = uv_now(p->timer.loop);
  p->deadline = now + wait;
  if (uv_is_active((uv_handle_t *)&p->timer) && uv_timer_get_due_in(&p->timer) <= wait) return;
  uv_timer_start(&p->timer, on_timeout, wait, 0);
}

static void on_timeout(uv_timer_t *t) {
  pump_t *p = (pump_t *)t->data;
  if (p->ended) return;
  uint64_t now = uv_now(t->loop);
  if (now < p->deadline) { /* an ACK came in time and moved the end: wait for the rest */
    uv_timer_start(&p->timer, on_timeout, p->deadline - now, 0);
    return;
  }
  p->tries++;
  int at_block1 = !p->awaiting_oack && p->base == 1;
  if (at_block1 && p->blksize > 512 && p->tries > p->block1_stall_retries) {
    send_error(p, "no ACK for block 1; retry, a smaller blksize will be used");
    finish(p, R_STALL_BLOCK1);
    return;
  }
  if (p->tries > p->max_retries) {
    char msg[96];
    if (p->awaiting_oack)
      snprintf(msg, sizeof msg, "timed out waiting for the ACK of the OACK");
    else
      snprintf(msg, sizeof msg, "timed out waiting for the ACK of block %llu", (unsigned long long)p->base);
    send_error(p, msg);
    finish(p, R_TIMEOUT);
    return;
  }
  p->retransmits++;
  p->probe_abs = 0;
  if (p->awaiting_oack)
    send_bytes(p, p->oack, p->oack_len);
  else {
    window_rewind(p);
    pump_window(p, 1);
  }
  arm_timer(p);
}

/* RFC 2347 option list: NUL-terminated non-empty names, each with a NUL-terminated value, up to the end. */
static int valid_options(const uint8_t *b, size_t n, size_t off) {
  while (off < n) {
    const uint8_t *nul = memchr(b + off, 0, n - off);
    if (!nul || nul == b + off) return 0;
    size_t a = (size_t)(nul - b) + 1;
    if (a >= n) return 0;
    nul = memchr(b + a, 0, n - a);
    if (!nul) return 0;
    off = (size_t)(nul - b) + 1;
  }
  return 1;
}

/* An RRQ or WRQ as codec.ts decodes it: filename, non-empty mode, options. */
static int valid_request(const uint8_t *b, size_t n) {
  const uint8_t *nul = memchr(b + 2, 0, n - 2);
  if (!nul) return 0;
  size_t a = (size_t)(nul - b) + 1;
  if (a >= n) return 0;
  nul = memchr(b + a, 0, n - a);
  if (!nul || nul == b + a) return 0;
  return valid_options(b, n, (size_t)(nul - b) + 1);
}

/* One datagram from the client (the connected socket has already refused every other TID). */
static void on_datagram(pump_t *p, const uint8_t *b, size_t n) {
  if (n < 4) {
    p->malformed++;
    return;
  }
  unsigned op = ((unsigned)b[0] << 8) | b[1];
  switch (op) {
    case OP_ACK:
      if (n != 4) { /* RFC 1350: an ACK is exactly 4 bytes */
        p->malformed++;
        return;
      }
      break;
    case OP_ERROR:
      /* Lenient, as codec.ts: whatever its tail, an ERROR ends the transfer (EDK2 pads it). */
      p->client_error = malloc(n);
      if (p->client_error) {
        memcpy(p->client_error, b, n);
        p->client_error_len = n;
      }
      /* PXE ROMs end a tsize probe with an error right after the OACK, then ask again. */
      finish(p, p->awaiting_oack ? R_PROBE : R_CLIENT_ERROR);
      return;
    case OP_DATA:
      return;
    case OP_RRQ:
    case OP_WRQ:
      if (!valid_request(b, n)) p->malformed++;
      return;
    case OP_OACK:
      if (!valid_options(b, n, 2)) p->malformed++;
      return;
    default:
      p->malformed++;
      return;
  }
  uint32_t block = ((uint32_t)b[2] << 8) | b[3];
  if (p->awaiting_oack) {
    if (block != 0) return;
    p->awaiting_oack = 0;
    p->tries = 0;
    post_event(p, E_STARTED);
    pump_window(p, 0);
    arm_timer(p);
    return;
  }
  int r = window_ack(p, block);
  if (r == ACK_STRAY) return;
  if (r == ACK_DUPLICATE) {
    p->duplicate_acks++;
    if (p->rewound) {
      p->retransmits++;
      pump_window(p, 1);
    }
    return;
  }
  if (p->probe_abs > 0 && p->base > p->probe_abs) {
    rto_sample(p, now_ms() - p->probe_at);
    p->probe_abs = 0;
  }
  if (r == ACK_DONE) {
    finish(p, R_COMPLETE);
    return;
  }
  p->tries = 0;
  int rewound = p->rewound;
  if (rewound) p->retransmits++;
  pump_window(p, rewound);
  arm_timer(p);
  poll_for_ack(p);
}

/* Pump thread: poll(2) found the job's socket readable (or an error on it, which recv reports). */
static void on_readable(pump_t *p) {
  if (p->ended) return;
  uint8_t *buf = p->w->buf;
  for (int i = 0; i < BATCH && !p->ended; i++) {
    ssize_t n = recv(p->sock, buf, sizeof p->w->buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) continue; /* ICMP port unreachable from the client: its next ACK may come */
      break;                                                /* EAGAIN: drained */
    }
    if (p->w->polling) __atomic_add_fetch(&p->w->polled_reads, 1, __ATOMIC_RELAXED);
    on_datagram(p, buf, (size_t)n);
  }
}

/* ---- the pump thread ---- */

static void begin(pump_t *p) {
  uv_timer_init(&p->w->loop, &p->timer);
  p->timer.data = p;
  if (!watch(p->w, p)) {
    p->read_errno = ENOMEM;
    send_error(p, "out of memory on server");
    finish(p, R_IO_ERROR);
    return;
  }
  if (p->awaiting_oack)
    send_bytes(p, p->oack, p->oack_len);
  else
    pump_window(p, 0);
  arm_timer(p);
}

static void on_commands(uv_async_t *a) {
  worker_t *w = (worker_t *)a->data;
  msg_t *m = take_all(w->sh, &w->commands);
  while (m) {
    msg_t *next = m->next;
    pump_t *p = m->p;
    switch (m->kind) {
      case M_BEGIN:
        begin(p);
        break;
      case M_DUPLICATE: /* the client re-sent its request (our first answer was lost): answer again, once per wait */
        if (!p->ended && p->awaiting_oack && p->tries == 0) {
          p->retransmits++;
          send_bytes(p, p->oack, p->oack_len);
        }
        break;
      case M_ABORT:
        if (!p->ended) {
          send_error(p, m->text);
          finish(p, R_IO_ERROR);
        }
        uv_sem_post(m->done);
        break;
      case M_STOP: /* pump_thread's loop ends after this turn */
        w->stopping = 1;
        break;
    }
    free(m); /* commands are never embedded */
    if (p) pump_release(p);
    m = next;
  }
}

/*
 * The pump thread's loop. Its sockets are watched with poll(2), not through the libuv loop's epoll (uv_poll,
 * until 2026-12-05): an epoll instance stays registered on every socket it watches, so each datagram a client
 * sends runs epoll's callback (two locks and the ready list) in the client's own send, on the client's CPU,
 * while the pump is busy as much as while it sleeps. poll(2) registers only for the time it sleeps, and a
 * zero-timeout poll not at all. With 20 transfers from one curl process the client's CPU was the limit, and
 * that callback was 5 of its 80 ms per round (`perf record -C` on the client's core, bench/tftp pinned); dnsmasq,
 * which polls, costs the client nothing there (docs/perf/changes.md, "The pump polls its sockets itself").
 * The libuv loop stays for the commands (its uv_async) and the retransmission timers: its backend descriptor
 * is slot 0 of the poll, and it runs a non-blocking turn when that is readable or a timer or close is due.
 * While poll_for_ack asks for it, the thread polls with a zero timeout and yields between polls, as before.
 */
static void pump_thread(void *arg) {
  prctl(PR_SET_NAME, "cc-tftp-pump"); /* top -H, ps -L and the tests see which threads these are */
  worker_t *w = (worker_t *)arg;
  uv_loop_t *loop = &w->loop;
  if (!w->fds) {
    w->fds = calloc(1, sizeof *w->fds); /* slot 0 only; watch() grows it */
    if (!w->fds) abort();
  }
  while (!w->stopping) {
    int polling = uv_hrtime() < w->spin_until;
    w->fds[0] = (struct pollfd){.fd = uv_backend_fd(loop), .events = POLLIN};
    int ready = poll(w->fds, (nfds_t)w->count + 1, polling ? 0 : uv_backend_timeout(loop));
    uv_update_time(loop); /* arm_timer reads the loop's time */
    if (polling) __atomic_add_fetch(&w->polls, 1, __ATOMIC_RELAXED);
    if (ready > 0) {
      /* From the last slot down: a job that ends gives its slot to the last one (unwatch), already seen. */
      w->polling = polling;
      for (int i = w->count; i >= 1; i--)
        if (w->fds[i].revents) on_readable(w->job[i]);
      w->polling = 0;
    }
    if ((ready > 0 && w->fds[0].revents) || uv_backend_timeout(loop) == 0) uv_run(loop, UV_RUN_NOWAIT);
    if (polling) sched_yield();
  }
}

/* Node's thread: hand a command to a pump thread. */
static int post_command(worker_t *w, pump_t *p, int kind, msg_t *given) {
  msg_t *m = given ? given : calloc(1, sizeof *m);
  if (!m) return 0;
  m->p = p;
  m->kind = kind;
  if (p) pump_hold(p);
  push(w->sh, &w->commands, m);
  uv_async_send(&w->commands_async);
  return 1;
}

static int start_worker(worker_t *w) {
  if (uv_loop_init(&w->loop) != 0) return 0;
  if (uv_async_init(&w->loop, &w->commands_async, on_commands) != 0) {
    uv_loop_close(&w->loop);
    return 0;
  }
  w->commands_async.data = w;
  if (uv_thread_create(&w->thread, pump_thread, w) != 0) {
    uv_close((uv_handle_t *)&w->commands_async, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    return 0;
  }
  w->running = 1;
  return 1;
}

/* Node's thread: the least busy running pump thread; the first call starts them all. NULL if none could start. */
static worker_t *pick_worker(shared_t *sh) {
  if (!sh->started) {
    sh->started = 1;
    for (int i = 0; i < PUMP_THREADS; i++) start_worker(&sh->workers[i]);
  }
  worker_t *w = NULL;
  for (int i = 0; i < PUMP_THREADS; i++)
    if (sh->workers[i].running && (!w || sh->workers[i].jobs < w->jobs)) w = &sh->workers[i];
  return w;
}

/* The environment is going away: stop the pump threads (transfers still running end with them). */
static void cleanup(void *arg) {
  shared_t *sh = (shared_t *)arg;
  for (int i = 0; i < PUMP_THREADS; i++) {
    worker_t *w = &sh->workers[i];
    if (!w->running) continue;
    msg_t *m = calloc(1, sizeof *m);
    if (m && post_command(w, NULL, M_STOP, m)) uv_thread_join(&w->thread);
    w->running = 0;
  }
  uv_close((uv_handle_t *)&sh->events_async, NULL); /* sh itself is never freed: the close callback may run later */
}

/* ---- JS bindings ---- */

static int get_ipv4(napi_env env, napi_value o, const char *name, struct in_addr *out) {
  napi_value v;
  char s[64];
  size_t len;
  if (!get_prop(env, o, name, &v) || napi_get_value_string_utf8(env, v, s, sizeof s, &len) != napi_ok) return 0;
  return inet_pton(AF_INET, s, out) == 1;
}

static pump_t *unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (pump_t *)data;
}

/* The transfer socket: bound to `address` on a fresh port, pinned to the NIC, connected to the client. */
static int open_socket(napi_env env, struct in_addr local, int ifindex, struct in_addr peer, int peer_port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno), -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr = local};
  const char *step = "bind";
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) goto fail;
  step = "SO_BINDTOIFINDEX";
  if (ifindex >= 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof ifindex) < 0) goto fail;
  struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons((uint16_t)peer_port), .sin_addr = peer};
  step = "connect";
  if (connect(fd, (struct sockaddr *)&b, sizeof b) < 0) goto fail;
  return fd;
fail:
  return close_and_throw(env, fd, step);
}

/* Node's thread: a job that never reached a pump thread ends here, its onEnd inside start (an io-error). */
static napi_value end_at_start(pump_t *p, napi_value job) {
  close(p->sock);
  p->sock = -1;
  p->ended = 1;
  p->end_reason = R_IO_ERROR;
  deliver_end(p);
  return job;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value o;
  if (napi_get_cb_info(env, info, &argc, &o, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "start(options)");
    return NULL;
  }
  int ok = 1;
  struct in_addr local, peer;
  if (!get_ipv4(env, o, "address", &local) || !get_ipv4(env, o, "peerAddress", &peer)) {
    napi_throw_type_error(env, NULL, "start: address and peerAddress must be IPv4 addresses");
    return NULL;
  }
  int ifindex = (int)get_num(env, o, "ifindex", &ok);
  int peer_port = (int)get_num(env, o, "peerPort", &ok);
  double size = get_num(env, o, "size", &ok);
  double blksize = get_num(env, o, "blksize", &ok);
  double windowsize = get_num(env, o, "windowsize", &ok);
  int fd = (int)get_num(env, o, "fd", &ok);
  shared_t *sh = NULL;
  napi_get_instance_data(env, (void **)&sh);
  if (!sh) {
    napi_throw_error(env, "EIO", "start: the addon was not initialised");
    return NULL;
  }
  pump_t tmpl = {0};
  tmpl.initial_ms = get_num(env, o, "initialMs", &ok);
  tmpl.min_ms = get_num(env, o, "minMs", &ok);
  tmpl.max_ms = get_num(env, o, "maxMs", &ok);
  tmpl.max_retries = (int)get_num(env, o, "maxRetries", &ok);
  tmpl.fixed_ms = get_num(env, o, "fixedMs", &ok);
  tmpl.block1_stall_retries = (int)get_num(env, o, "block1StallRetries", &ok);
  napi_value packets, oack, on_start, on_end;
  ok = ok && get_prop(env, o, "packets", &packets) && get_prop(env, o, "oack", &oack) && get_prop(env, o, "onStart", &on_start) &&
       get_prop(env, o, "onEnd", &on_end);
  if (!ok || size < 0 || blksize < 8 || blksize > 65464 || windowsize < 1 || windowsize > 65535 || peer_port < 1 || peer_port > 65535) {
    napi_throw_type_error(env, NULL, "start: a number option is missing or out of range");
    return NULL;
  }
  uint64_t last = (uint64_t)(size / blksize) + 1; /* options.ts blockCount */
  uint32_t stride = 4 + (uint32_t)blksize;
  bool is_buf = false;
  const uint8_t *pk = NULL;
  napi_is_buffer(env, packets, &is_buf);
  if (is_buf) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, packets, &data, &len);
    size_t tail = 4 + (size_t)((int64_t)size - (int64_t)(last - 1) * (int64_t)blksize);
    if (len < (last - 1) * stride + tail) {
      napi_throw_range_error(env, NULL, "start: packets is shorter than the file laid out at this blksize");
      return NULL;
    }
    pk = data;
  } else if (fd < 0) {
    napi_throw_type_error(env, NULL, "start: give packets or a file descriptor");
    return NULL;
  }
  bool has_oack = false;
  napi_is_buffer(env, oack, &has_oack);

  int sock = open_socket(env, local, ifindex, peer, peer_port);
  if (sock < 0) return NULL;

  pump_t *p = calloc(1, sizeof *p);
  if (!p) {
    close(sock);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  *p = tmpl;
  p->sh = sh;
  p->sock = sock;
  p->file = pk ? -1 : fd;
  p->packets = pk;
  p->size = (int64_t)size;
  p->blksize = (uint32_t)blksize;
  p->windowsize = (uint32_t)windowsize;
  p->stride = stride;
  p->last = last;
  p->base = p->next = 1;
  p->srtt = -1;
  if (!pk) p->scratch = malloc(stride);
  if (has_oack) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, oack, &data, &len);
    p->oack = malloc(len ? len : 1);
    if (p->oack) memcpy(p->oack, data, len);
    p->oack_len = len;
    p->awaiting_oack = 1;
  }
  p->refs = 1; /* the JS external */
  napi_value job;
  if ((!pk && !p->scratch) || (has_oack && !p->oack) || napi_create_external(env, p, finalize_external, NULL, &job) != napi_ok) {
    close(sock);
    pump_release(p); /* no external was made: this frees it */
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_create_reference(env, on_start, 1, &p->on_start);
  napi_create_reference(env, on_end, 1, &p->on_end);
  if (pk) napi_create_reference(env, packets, 1, &p->source); /* the cache may drop the run; we still send from it */
  if (++sh->active == 1) uv_ref((uv_handle_t *)&sh->events_async);
  size_t first_len;
  if (!p->awaiting_oack && !pk && !data_packet(p, 1, &first_len)) {
    /* No OACK and the first block is unreadable: end here, as the JavaScript transfer does, before any start. */
    send_error(p, "read error on server");
    return end_at_start(p, job);
  }
  __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED); /* the pump thread opens, and closes, the timer handle */
  worker_t *w = pick_worker(sh);
  if (w) {
    p->w = w;
    w->jobs++;
  }
  if (!w || !post_command(w, p, M_BEGIN, NULL)) {
    __atomic_sub_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    p->read_errno = ENOMEM;
    return end_at_start(p, job);
  }
  return job;
}

static napi_value js_duplicate_request(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value v;
  napi_get_cb_info(env, info, &argc, &v, NULL, NULL);
  pump_t *p = argc ? unwrap(env, v) : NULL;
  if (p && !p->delivered) post_command(p->w, p, M_DUPLICATE, NULL); /* not delivered: a pump thread has it */
  return NULL;
}

static napi_value js_abort(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  pump_t *p = argc ? unwrap(env, argv[0]) : NULL;
  if (!p || p->delivered) return NULL;
  msg_t *m = calloc(1, sizeof *m + ABORT_TEXT_MAX);
  if (!m) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  m->text = (char *)(m + 1);
  strcpy(m->text, "aborted");
  size_t len;
  if (argc > 1) napi_get_value_string_utf8(env, argv[1], m->text, ABORT_TEXT_MAX, &len);
  uv_sem_t done;
  uv_sem_init(&done, 0);
  m->done = &done;
  post_command(p->w, p, M_ABORT, m);
  uv_sem_wait(&done); /* microseconds: the pump thread never waits for this one */
  uv_sem_destroy(&done);
  drain_events(p->sh); /* its end is queued by now: deliver it before returning */
  return NULL;
}

/* threads() -> { planned, running }: pump threads this process runs once a transfer started, and those running. */
static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  shared_t *sh;
  napi_get_instance_data(env, (void **)&sh);
  int running = 0;
  for (int i = 0; i < PUMP_THREADS; i++) running += sh->workers[i].running;
  return threads_object(env, PUMP_THREADS, running);
}

/* polling() -> { turns, reads }: loop turns the pump threads polled instead of sleeping, and datagrams read in them. */
static napi_value js_polling(napi_env env, napi_callback_info info) {
  (void)info;
  shared_t *sh;
  napi_get_instance_data(env, (void **)&sh);
  double turns = 0, reads = 0;
  for (int i = 0; i < PUMP_THREADS; i++) {
    turns += (double)__atomic_load_n(&sh->workers[i].polls, __ATOMIC_RELAXED);
    reads += (double)__atomic_load_n(&sh->workers[i].polled_reads, __ATOMIC_RELAXED);
  }
  return pair_object(env, "turns", turns, "reads", reads);
}

NAPI_MODULE_INIT() {
  shared_t *sh = calloc(1, sizeof *sh);
  uv_loop_t *loop;
  if (!sh || uv_mutex_init(&sh->lock) != 0 || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_async_init(loop, &sh->events_async, on_events) != 0) {
    napi_throw_error(env, "ENOMEM", "tftp-pump: cannot set up its queues");
    return NULL;
  }
  sh->env = env;
  sh->events_async.data = sh;
  for (int i = 0; i < PUMP_THREADS; i++) sh->workers[i].sh = sh;
  uv_unref((uv_handle_t *)&sh->events_async); /* held only while transfers run */
  napi_set_instance_data(env, sh, NULL, NULL);
  napi_add_env_cleanup_hook(env, cleanup, sh);
  napi_property_descriptor props[] = {
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"duplicateRequest", NULL, js_duplicate_request, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, js_abort, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, js_threads, NULL, NULL, NULL, napi_default, NULL},
      {"polling", NULL, js_polling, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
