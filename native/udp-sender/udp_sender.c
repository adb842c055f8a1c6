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
// A batch is one buffer of entries, each: u16 payload length, u16 port, u8 address length,
// the address as text (IPv4 or IPv6, with a %scope allowed), the payload. Integers are
// little-endian.

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MMSG_BATCH 64
/** A full socket buffer is waited for this long, this many times, before the rest of a batch is dropped. */
#define FULL_WAIT_MS 10
#define FULL_WAITS 5
#define POLL_MS 5
/** Idle looks (of POLL_MS) before the thread sleeps until signalled: one second. */
#define DEEP_AFTER 200

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

static int parse_address(const char *text, uint16_t port, struct sockaddr_storage *out, socklen_t *out_len) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *out_len = sizeof *v4;
    return 0;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *out_len = sizeof *v6;
    return 0;
  }
  /* A scoped IPv6 address (fe80::1%eth0): the resolver knows scopes, and never looks up a name here. */
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM}, *res = NULL;
  if (getaddrinfo(text, NULL, &hints, &res) != 0 || res == NULL) return -1;
  memcpy(out, res->ai_addr, res->ai_addrlen);
  *out_len = res->ai_addrlen;
  freeaddrinfo(res);
  if (out->ss_family == AF_INET6) v6->sin6_port = htons(port);
  else v4->sin_port = htons(port);
  return 0;
}

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

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s", syscall, strerror(err));
  napi_value code, message, error;
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : err == EAFNOSUPPORT ? "EAFNOSUPPORT" : "ERR_UDP_SENDER";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value sys;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/** openSocket(address: string, port: number, ipv6Only: boolean): number — a bound, non-blocking UDP socket. */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char text[64];
  size_t len;
  uint32_t port;
  bool v6only = false;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], text, sizeof text, &len) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535 ||
      napi_get_value_bool(env, argv[2], &v6only) != napi_ok)
    return throw_type(env, "openSocket(address, port, ipv6Only)");
  struct sockaddr_storage sa;
  socklen_t sl;
  if (parse_address(text, (uint16_t)port, &sa, &sl) != 0) return throw_type(env, "openSocket: not an IP address");
  int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (sa.ss_family == AF_INET6) {
    int on = v6only ? 1 : 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  if (bind(fd, (struct sockaddr *)&sa, sl) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/** startSender(fd: number): object — the thread, stopped when the object is collected or by stopSender. */
static napi_value start_sender(napi_env env, napi_callback_info info) {
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
  napi_value obj;
  napi_create_object(env, &obj);
  napi_wrap(env, obj, s, finalize, NULL, NULL);
  return obj;
}

static sender *unwrap(napi_env env, napi_value obj) {
  void *p = NULL;
  if (napi_unwrap(env, obj, &p) != napi_ok) return NULL;
  return p;
}

/** The sender of a function whose only argument it is; NULL when it is missing or not one. */
static sender *only_sender_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc >= 1 ? unwrap(env, argv[0]) : NULL;
}

/** sendBatch(sender, buffer: Buffer, length: number): void — copies buffer[0..length) and hands it to the thread. */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sender *s = argc >= 3 ? unwrap(env, argv[0]) : NULL;
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
static napi_value stop_sender(napi_env env, napi_callback_info info) {
  sender *s = only_sender_arg(env, info);
  if (s == NULL) return throw_type(env, "stopSender(sender)");
  stop(s);
  return NULL;
}

/** senderCounters(sender): [sent, dropped] */
static napi_value sender_counters(napi_env env, napi_callback_info info) {
  sender *s = only_sender_arg(env, info);
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openSocket", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
      {"startSender", NULL, start_sender, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"stopSender", NULL, stop_sender, NULL, NULL, NULL, napi_default, NULL},
      {"senderCounters", NULL, sender_counters, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
