// A UDP sender thread for a socket the event loop also uses (Linux): batches of datagrams
// handed over by JavaScript go out from a thread of their own with sendmmsg, so the event
// loop pays one call per batch instead of a send (a SendWrap, a system call and, over
// loopback, the receiver's wake-up) per datagram. Used for keep-alive pings, which at
// 100,000 endpoints are thousands of datagrams a second next to the REGISTERs
// (bench/keep-alive.mjs). The socket stays the event loop's: it is opened here only so that
// its descriptor is known (node:dgram wraps it with bind({ fd })), this thread never reads
// from it, and it must be stopped before the socket is closed.
//
// The event loop never wakes the thread: on a virtual machine waking a sleeping thread costs
// the waker tens of microseconds (an inter-processor interrupt), as much as sending the
// datagrams itself. The thread looks for work every POLL_MS instead (a ping can wait that
// long), and only after DEEP_AFTER idle looks does it sleep until it is signalled.
//
// The thread runs at SCHED_IDLE: it gets a core only when nothing else of ordinary priority
// wants it, so a REGISTER arriving while it sends never waits for it. On one core its sends
// (over loopback, with the receiver's whole receive path) otherwise took turns with the event
// loop, and that was much of what the pings added to REGISTER p95 (bench/RESULTS.md). A
// thread at SCHED_IDLE can starve while the core is saturated: a batch that has waited
// STARVED_MS for it is sent by the event loop itself at its next hand-over, so pings are late
// by at most that much, never lost.
//
// A batch is one buffer of entries, each: u16 payload length, u16 port, u8 address length,
// the address as text (IPv4 or IPv6, with a %scope allowed), the payload. Integers are
// little-endian.
//
// Each batch comes with a ticket. Just before its first datagram goes out, how long it waited
// since it was handed over is written to a ring of (ticket, ms) pairs that JavaScript passed
// in and reads: a ping's round-trip time is measured from when it was queued, and without
// this it would include the thread's wait (up to POLL_MS, up to STARVED_MS on a busy core).
// Written before the send, so an answer can never be read before its ping's entry.

#include "udp_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MMSG_BATCH 64
/** A full socket buffer is waited for this long, this many times, before the rest of a batch is dropped. */
#define FULL_WAIT_MS 10
#define FULL_WAITS 5
#define POLL_MS 5
/** A batch that waited this long for the thread is sent by the event loop (the thread is starved). */
#define STARVED_MS 50
/** Idle looks (of POLL_MS) before the thread sleeps until signalled: one second. */
#define DEEP_AFTER 200

typedef struct block {
  struct block *next;
  /** When it was handed over (CLOCK_MONOTONIC, µs). */
  int64_t queued_us;
  /** Its ticket (see above); negative: none. */
  double ticket;
  size_t len;
  unsigned char data[];
} block;

typedef struct sender {
  int fd;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  block *head, *tail;
  int stopping, stopped;
  /** How often the thread looks for work (POLL_MS; longer only in tests). */
  int poll_ms;
  /** The thread sleeps until signalled (idle for a while): a batch must wake it. */
  int deep;
  /* Written by the thread and the event loop, read by JavaScript: under mu. */
  uint64_t sent, dropped;
  /** Of `sent`, how many the event loop sent because the thread was starved. */
  uint64_t late;
  /** The (ticket, ms waited) ring, `ring_pairs` pairs, held by `ring_ref`; NULL: none. */
  double *ring;
  uint32_t ring_pairs;
  napi_ref ring_ref;
  napi_env env;
} sender;

/**
 * Sends msgs[0..n); returns how many were dropped. The thread waits a while for a full socket
 * buffer to drain (may_wait); the event loop never waits.
 */
static uint64_t send_all(sender *s, struct mmsghdr *msgs, int n, int may_wait) {
  uint64_t dropped = 0;
  int at = 0, waits = 0;
  while (at < n) {
    int r = sendmmsg(s->fd, msgs + at, n - at, 0);
    if (r > 0) {
      at += r;
      waits = 0;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && may_wait && waits < FULL_WAITS) {
      struct pollfd p = {.fd = s->fd, .events = POLLOUT};
      poll(&p, 1, FULL_WAIT_MS);
      waits++;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    /* This datagram cannot go (no route, a bad address family, or the buffer stayed full): skip it. */
    dropped++;
    at++;
    waits = 0;
  }
  return dropped;
}

static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/** Writes how long `b` waited to its ticket's place in the ring: the wait, then the ticket that vouches for it. */
static void record_wait(sender *s, const block *b) {
  if (s->ring == NULL || b->ticket < 0) return;
  double *pair = s->ring + 2 * ((uint64_t)b->ticket % s->ring_pairs);
  double waited = (double)(now_us() - b->queued_us) / 1000.0;
  __atomic_store(&pair[1], &waited, __ATOMIC_RELAXED);
  __atomic_store(&pair[0], &b->ticket, __ATOMIC_RELEASE);
}

/** Sends one handed-over block; returns how many of its datagrams went out. */
static uint64_t send_block(sender *s, const block *b, int may_wait) {
  static __thread struct mmsghdr msgs[MMSG_BATCH];
  static __thread struct iovec iovs[MMSG_BATCH];
  static __thread struct sockaddr_storage addrs[MMSG_BATCH];
  uint64_t sent = 0, dropped = 0;
  int n = 0;
  size_t at = 0;
  record_wait(s, b);
  while (at + 5 <= b->len) {
    const unsigned char *e = b->data + at;
    size_t payload_len = (size_t)e[0] | ((size_t)e[1] << 8);
    uint16_t port = (uint16_t)(e[2] | (e[3] << 8));
    size_t addr_len = e[4];
    if (at + 5 + addr_len + payload_len > b->len || addr_len >= 64) break; /* malformed: the rest is not trusted */
    char text[64];
    memcpy(text, e + 5, addr_len);
    text[addr_len] = 0;
    at += 5 + addr_len + payload_len;
    socklen_t sl;
    if (parse_address(text, port, &addrs[n], &sl) != 0) {
      dropped++;
      continue;
    }
    iovs[n] = (struct iovec){.iov_base = (void *)(e + 5 + addr_len), .iov_len = payload_len};
    msgs[n].msg_hdr = (struct msghdr){.msg_name = &addrs[n], .msg_namelen = sl, .msg_iov = &iovs[n], .msg_iovlen = 1};
    if (++n == MMSG_BATCH) {
      uint64_t d = send_all(s, msgs, n, may_wait);
      dropped += d;
      sent += (uint64_t)n - d;
      n = 0;
    }
  }
  if (n > 0) {
    uint64_t d = send_all(s, msgs, n, may_wait);
    dropped += d;
    sent += (uint64_t)n - d;
  }
  pthread_mutex_lock(&s->mu);
  s->sent += sent;
  s->dropped += dropped;
  pthread_mutex_unlock(&s->mu);
  return sent;
}

/** Sends and frees a list of blocks; returns how many datagrams went out. */
static uint64_t send_list(sender *s, block *list, int may_wait) {
  uint64_t sent = 0;
  while (list != NULL) {
    block *next = list->next;
    sent += send_block(s, list, may_wait);
    free(list);
    list = next;
  }
  return sent;
}

/** Waits one poll_ms for a signal (under mu). */
static void wait_poll(sender *s) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += s->poll_ms / 1000;
  until.tv_nsec += (long)(s->poll_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&s->cv, &s->mu, &until);
}

static void *run(void *arg) {
  sender *s = arg;
  int idle = 0;
  pthread_mutex_lock(&s->mu);
  /* The first look, like every other, comes one poll_ms after the last. */
  if (!s->stopping) wait_poll(s);
  for (;;) {
    while (s->head == NULL && !s->stopping) {
      if (idle >= DEEP_AFTER) {
        s->deep = 1;
        pthread_cond_wait(&s->cv, &s->mu);
        s->deep = 0;
        idle = 0;
        continue;
      }
      wait_poll(s);
      if (s->head == NULL) idle++;
    }
    idle = 0;
    if (s->head == NULL) break; /* stopping, and everything handed over has gone out */
    block *list = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    send_list(s, list, 1);
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static void stop(sender *s) {
  if (s->stopped) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  /* What is still queued goes out from here: at SCHED_IDLE the thread may be slow to. */
  block *rest = s->head;
  s->head = s->tail = NULL;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  send_list(s, rest, 1);
  pthread_join(s->thread, NULL);
  s->stopped = 1;
}

static void cleanup_hook(void *arg) { stop(arg); }

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  sender *s = data;
  stop(s);
  napi_remove_env_cleanup_hook(env, cleanup_hook, s);
  if (s->ring_ref != NULL) napi_delete_reference(env, s->ring_ref);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

static const napi_type_tag SENDER_TAG = {0x72636b61u, 0x73656e64u};

/**
 * startSender(fd: number, pollMs?: number, ring?: Float64Array): object — the thread, stopped
 * when the object is collected or by stopSender. pollMs (default POLL_MS) is how often it
 * looks for work, the first time one pollMs after the start. ring: (ticket, ms waited) pairs,
 * written as batches go out (an even length; held until the thread ends).
 */
napi_value start_sender(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, poll_ms = POLL_MS;
  napi_valuetype t2 = napi_undefined, t3 = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t2);
  if (argc >= 3) napi_typeof(env, argv[2], &t3);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      (t2 != napi_undefined && (napi_get_value_int32(env, argv[1], &poll_ms) != napi_ok || poll_ms < 1)))
    return throw_type(env, "startSender(fd, pollMs?, ring?)");
  double *ring = NULL;
  size_t ring_len = 0;
  if (t3 != napi_undefined) {
    bool is_typed = false;
    napi_typedarray_type kind;
    void *ring_data = NULL;
    if (napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed ||
        napi_get_typedarray_info(env, argv[2], &kind, &ring_len, &ring_data, NULL, NULL) != napi_ok || kind != napi_float64_array || ring_len < 2 ||
        ring_len % 2 != 0 || ring_len / 2 > UINT32_MAX)
      return throw_type(env, "startSender: ring must be a Float64Array of (ticket, ms) pairs");
    ring = ring_data;
  }
  sender *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_errno(env, "calloc", ENOMEM);
  s->fd = fd;
  s->poll_ms = poll_ms;
  s->env = env;
  if (ring != NULL) {
    /* Held for as long as the thread may write to it: released after it is joined. */
    if (napi_create_reference(env, argv[2], 1, &s->ring_ref) != napi_ok) {
      free(s);
      return throw_type(env, "startSender: cannot hold the ring");
    }
    s->ring = ring;
    s->ring_pairs = (uint32_t)(ring_len / 2);
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  int err = pthread_create(&s->thread, NULL, run, s);
  if (err != 0) {
    if (s->ring_ref != NULL) napi_delete_reference(env, s->ring_ref);
    free(s);
    return throw_errno(env, "pthread_create", err);
  }
  /* Set here rather than by the thread, so that they hold before it first runs. Named for
     top -H and the tests; either call may fail (an old kernel, a sandbox): no harm. */
  pthread_setname_np(s->thread, "rc-udp-sender");
  struct sched_param sp = {0};
  pthread_setschedparam(s->thread, SCHED_IDLE, &sp);
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  return wrap_tagged(env, s, &SENDER_TAG, finalize);
}

/**
 * sendBatch(sender, buffer: Buffer, length: number, ticket?: number): void — copies
 * buffer[0..length) and hands it to the thread; the ticket (an integer ≥ 0) names its entry in
 * the ring of waits.
 */
napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sender *s = argc >= 3 ? unwrap_tagged(env, argv[0], &SENDER_TAG) : NULL;
  void *data;
  size_t cap;
  uint32_t len;
  double ticket = -1;
  napi_valuetype t4 = napi_undefined;
  if (argc >= 4) napi_typeof(env, argv[3], &t4);
  if (s == NULL || napi_get_buffer_info(env, argv[1], &data, &cap) != napi_ok || napi_get_value_uint32(env, argv[2], &len) != napi_ok || len > cap ||
      (t4 != napi_undefined && (napi_get_value_double(env, argv[3], &ticket) != napi_ok || !(ticket >= 0) || ticket > 9007199254740991.0 || ticket != (double)(int64_t)ticket)))
    return throw_type(env, "sendBatch(sender, buffer, length, ticket?)");
  if (s->stopping) return throw_type(env, "sendBatch: the sender is stopped");
  block *b = malloc(sizeof *b + len);
  if (b == NULL) return throw_errno(env, "malloc", ENOMEM);
  b->next = NULL;
  b->queued_us = now_us();
  b->ticket = ticket;
  b->len = len;
  memcpy(b->data, data, len);
  block *starved = NULL;
  pthread_mutex_lock(&s->mu);
  if (s->tail != NULL) s->tail->next = b;
  else s->head = b;
  s->tail = b;
  if (b->queued_us - s->head->queued_us >= STARVED_MS * 1000) {
    /* The thread has not run for STARVED_MS: the event loop sends the queue itself. */
    starved = s->head;
    s->head = s->tail = NULL;
  } else if (s->deep) {
    /* Otherwise the thread finds the block at its next look, within POLL_MS. */
    pthread_cond_signal(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  if (starved != NULL) {
    uint64_t sent = send_list(s, starved, 0);
    pthread_mutex_lock(&s->mu);
    s->late += sent;
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

/** stopSender(sender): void — sends what was handed over, then ends the thread (before the socket is closed). */
napi_value stop_sender(napi_env env, napi_callback_info info) {
  sender *s = only_object_arg(env, info, &SENDER_TAG);
  if (s == NULL) return throw_type(env, "stopSender(sender)");
  stop(s);
  return NULL;
}

/** senderCounters(sender): [sent, dropped, late] */
napi_value sender_counters(napi_env env, napi_callback_info info) {
  sender *s = only_object_arg(env, info, &SENDER_TAG);
  if (s == NULL) return throw_type(env, "senderCounters(sender)");
  pthread_mutex_lock(&s->mu);
  double values[3] = {(double)s->sent, (double)s->dropped, (double)s->late};
  pthread_mutex_unlock(&s->mu);
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  for (uint32_t i = 0; i < 3; i++) {
    napi_value v;
    napi_create_double(env, values[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

