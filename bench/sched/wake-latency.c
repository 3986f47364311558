/*
 * How long a wake-up waits for the CPU on this kernel, in the pattern of a Node server pinned to one CPU: a main
 * thread sleeps in epoll_wait(2) on a UDP socket, does 20 µs of work per datagram and now and then hands a job to a
 * worker thread on the same CPU (as V8's main thread hands a function to its optimising compiler); a sender on the
 * other CPU sends datagrams at a steady pace, each carrying the time it was sent. Prints the latency from send to
 * the main thread's return from epoll_wait, one JSON line. Loopback only (127.0.0.1, a port the kernel picks).
 *
 *   wake-latency MAIN WORKER [--gap-us 160] [--work-us 3000] [--every 50] [--count 20000]
 *     MAIN    normal | fifo   the main thread's policy (fifo: SCHED_FIFO priority 1 with reset-on-fork, as
 *                             server/system/background-threads.ts sets it; root or RLIMIT_RTPRIO >= 1)
 *     WORKER  idle | nice19   the worker's: SCHED_IDLE, or the normal policy at nice 19
 *     --every N: a job every N datagrams, of --work-us of CPU each
 *
 * bench/sched/run.ts compiles and runs it (docs/perf/changes.md, "The main thread real-time on one CPU").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static long gap_us = 160, work_us = 3000, every = 50, count = 20000;
static int worker_idle = 1;
static struct sockaddr_in dest;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long jobs;
static volatile unsigned long sink;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void spin_us(double us) {
  double t0 = now_us();
  while (now_us() - t0 < us) sink++;
}

static void die(const char *what) {
  fprintf(stderr, "wake-latency: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  if (sched_setaffinity(0, sizeof s, &s) != 0) die("sched_setaffinity (two CPUs needed)");
}

static void *worker(void *arg) {
  (void)arg;
  pin(0);
  struct sched_param p = {.sched_priority = 0};
  if (worker_idle ? sched_setscheduler(0, SCHED_IDLE, &p) != 0 : setpriority(PRIO_PROCESS, 0, 19) != 0) die("worker policy");
  for (;;) {
    pthread_mutex_lock(&mu);
    while (jobs == 0) pthread_cond_wait(&cv, &mu);
    jobs--;
    pthread_mutex_unlock(&mu);
    spin_us((double)work_us);
  }
  return NULL;
}

static void *sender(void *arg) {
  (void)arg;
  pin(1);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  for (long i = 0; i <= count; i++) {
    double t = i < count ? now_us() : -1;
    if (sendto(s, &t, sizeof t, 0, (struct sockaddr *)&dest, sizeof dest) < 0) die("sendto");
    if (i < count) spin_us((double)gap_us);
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long num_arg(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "wake-latency: %s needs a number\n", argv[*i]);
    exit(2);
  }
  return strtol(argv[++*i], NULL, 10);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: wake-latency normal|fifo idle|nice19 [--gap-us N] [--work-us N] [--every N] [--count N]\n");
    return 2;
  }
  int fifo = strcmp(argv[1], "fifo") == 0;
  worker_idle = strcmp(argv[2], "idle") == 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--gap-us") == 0) gap_us = num_arg(argc, argv, &i);
    else if (strcmp(argv[i], "--work-us") == 0) work_us = num_arg(argc, argv, &i);
    else if (strcmp(argv[i], "--every") == 0) every = num_arg(argc, argv, &i);
    else if (strcmp(argv[i], "--count") == 0) count = num_arg(argc, argv, &i);
  }
  if (count <= 0 || every <= 0) {
    fprintf(stderr, "wake-latency: --count and --every must be above 0\n");
    return 2;
  }
  pin(0);
  if (fifo) {
    /* With reset-on-fork, as the appliance sets it: the worker and the sender start at the normal policy. */
    struct sched_param p = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) != 0) die("SCHED_FIFO for the main thread (run as root)");
  }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &alen) != 0) die("bind");
  dest = a;
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0) die("epoll");
  pthread_t tw, ts;
  if (pthread_create(&tw, NULL, worker, NULL) != 0 || pthread_create(&ts, NULL, sender, NULL) != 0) die("pthread_create");
  double *lat = malloc(sizeof(double) * (size_t)count);
  long n = 0;
  for (;;) {
    struct epoll_event e;
    if (epoll_wait(ep, &e, 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    double t;
    if (recv(s, &t, sizeof t, 0) != sizeof t) continue;
    if (t < 0) break;
    if (n < count) lat[n++] = now_us() - t;
    spin_us(20);
    if (n % every == 0) {
      pthread_mutex_lock(&mu);
      jobs++;
      pthread_cond_signal(&cv);
      pthread_mutex_unlock(&mu);
    }
  }
  qsort(lat, (size_t)n, sizeof(double), cmp);
  long over1ms = 0;
  for (long i = 0; i < n; i++) over1ms += lat[i] > 1000;
  printf("{\"main\":\"%s\",\"worker\":\"%s\",\"n\":%ld,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%.0f,\"over1ms\":%ld}\n",
         fifo ? "fifo" : "normal", worker_idle ? "idle" : "nice19", n, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100],
         lat[n * 999 / 1000], lat[n - 1], over1ms);
  return 0;
}
