// A UDP sender thread for a socket the event loop also uses (Linux): batches of datagrams
// handed over by JavaScript go out from a thread of their own with sendmmsg, so the event
// loop pays one call per batch instead of a send (a SendWrap, a system call and, over
// loopback, the receiver's wake-up) per datagram. Used for keep-alive pings, which at
// 100,000 endpoints are thousands of datagrams a second next to the REGISTERs
// (bench/keep-alive.mjs). It sends from the listener's request socket (udp_socket.c), which
// the event loop reads; it must be stopped before that socket is closed.
//
// The event loop never wakes the thread: on a virtual machine waking a sleeping thread costs
// the waker tens of microseconds (an inter-processor interrupt), as much as sending the
// datagrams itself. The thread looks for work every POLL_MS instead (a ping can wait that
// long), and only after DEEP_AFTER idle looks does it sleep until it is signalled.
//
// A batch is one buffer of entries, each: u16 payload length, u16 port, u8 address length,
// the address as text (IPv4 or IPv6, with a %scope allowed), the payload. Integers are
// little-endian.

#include "udp_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MMSG_BATCH 64
/** A full socket buffer is waited for this long, this many times, before the rest of a batch is dropped. */
#define FULL_WAIT_MS 10
#define FULL_WAITS 5
#define POLL_MS 5
/** Idle looks (of POLL_MS) before the thread sleeps until signalled: one second. */
#define DEEP_AFTER 200

static const napi_type_tag SENDER_TAG = {0x72636b61u, 0x73656e64u};

typedef struct block {
  struct block *next;
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
  /** The thread sleeps until signalled (idle for a while): a batch must wake it. */
  int deep;
  /* Written by the thread, read by JavaScript: under mu. */
  uint64_t sent, dropped;
  napi_env env;
} sender;

/** Sends msgs[0..n); returns how many were dropped. */
static uint64_t send_all(sender *s, struct mmsghdr *msgs, int n) {
  uint64_t dropped = 0;
  int at = 0, waits = 0;
  while (at < n) {
    int r = sendmmsg(s->fd, msgs + at, n - at, 0);
    if (r > 0) {
      at += r;
      waits = 0;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && waits < FULL_WAITS) {
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

static void send_block(sender *s, const block *b) {
  static __thread struct mmsghdr msgs[MMSG_BATCH];
  static __thread struct iovec iovs[MMSG_BATCH];
  static __thread struct sockaddr_storage addrs[MMSG_BATCH];
  uint64_t sent = 0, dropped = 0;
  int n = 0;
  size_t at = 0;
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
      uint64_t d = send_all(s, msgs, n);
      dropped += d;
      sent += (uint64_t)n - d;
      n = 0;
    }
  }
  if (n > 0) {
    uint64_t d = send_all(s, msgs, n);
    dropped += d;
    sent += (uint64_t)n - d;
  }
  pthread_mutex_lock(&s->mu);
  s->sent += sent;
  s->dropped += dropped;
  pthread_mutex_unlock(&s->mu);
}

static void *run(void *arg) {
  sender *s = arg;
  int idle = 0;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (s->head == NULL && !s->stopping) {
      if (idle >= DEEP_AFTER) {
        s->deep = 1;
        pthread_cond_wait(&s->cv, &s->mu);
        s->deep = 0;
        idle = 0;
        continue;
      }
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_nsec += POLL_MS * 1000000L;
      if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&s->cv, &s->mu, &until);
      if (s->head == NULL) idle++;
    }
    idle = 0;
    if (s->head == NULL) break; /* stopping, and everything handed over has gone out */
    block *list = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (list != NULL) {
      block *next = list->next;
      send_block(s, list);
      free(list);
      list = next;
    }
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static void stop(sender *s) {
  if (s->stopped) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->stopped = 1;
}

static void cleanup_hook(void *arg) { stop(arg); }

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  sender *s = data;
  stop(s);
  napi_remove_env_cleanup_hook(env, cleanup_hook, s);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

/** startSender(fd: number): object — the thread, stopped when the object is collected or by stopSender. */
napi_value start_sender(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_type(env, "startSender(fd)");
  sender *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_errno(env, "calloc", ENOMEM);
  s->fd = fd;
  s->env = env;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  int err = pthread_create(&s->thread, NULL, run, s);
  if (err != 0) {
    free(s);
    return throw_errno(env, "pthread_create", err);
  }
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  return wrap_tagged(env, s, &SENDER_TAG, finalize);
}

/** sendBatch(sender, buffer: Buffer, length: number): void — copies buffer[0..length) and hands it to the thread. */
napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sender *s = argc >= 3 ? unwrap_tagged(env, argv[0], &SENDER_TAG) : NULL;
  void *data;
  size_t cap;
  uint32_t len;
  if (s == NULL || napi_get_buffer_info(env, argv[1], &data, &cap) != napi_ok || napi_get_value_uint32(env, argv[2], &len) != napi_ok || len > cap)
    return throw_type(env, "sendBatch(sender, buffer, length)");
  if (s->stopping) return throw_type(env, "sendBatch: the sender is stopped");
  block *b = malloc(sizeof *b + len);
  if (b == NULL) return throw_errno(env, "malloc", ENOMEM);
  b->next = NULL;
  b->len = len;
  memcpy(b->data, data, len);
  pthread_mutex_lock(&s->mu);
  if (s->tail != NULL) s->tail->next = b;
  else s->head = b;
  s->tail = b;
  /* Otherwise the thread finds the block at its next look, within POLL_MS. */
  if (s->deep) pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/** stopSender(sender): void — sends what was handed over, then ends the thread (before the socket is closed). */
napi_value stop_sender(napi_env env, napi_callback_info info) {
  sender *s = only_object_arg(env, info, &SENDER_TAG);
  if (s == NULL) return throw_type(env, "stopSender(sender)");
  stop(s);
  return NULL;
}

/** senderCounters(sender): [sent, dropped] */
napi_value sender_counters(napi_env env, napi_callback_info info) {
  sender *s = only_object_arg(env, info, &SENDER_TAG);
  if (s == NULL) return throw_type(env, "senderCounters(sender)");
  pthread_mutex_lock(&s->mu);
  double sent = (double)s->sent, dropped = (double)s->dropped;
  pthread_mutex_unlock(&s->mu);
  napi_value arr, a, b;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_double(env, sent, &a);
  napi_create_double(env, dropped, &b);
  napi_set_element(env, arr, 0, a);
  napi_set_element(env, arr, 1, b);
  return arr;
}

