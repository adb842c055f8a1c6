// The reader of a UDP listener's response socket (udp_socket.c), Linux. At 100,000 endpoints
// the keep-alive's answers are thousands of datagrams a second; read by node:dgram, each one
// is an event-loop wake-up, a recvmsg, a Buffer and a callback that a REGISTER arriving
// meanwhile waits for (bench/keep-alive.mjs). Here they are read in batches (recvmmsg),
// recognised by our ping's branch and CSeq, and kept as small records (sequence number,
// arrival time from the kernel, source).
//
// Who reads: the keep-alive's 10 ms timer, on the event loop, in the same call that takes
// the records (takePingAnswers) — one system call for the ~33 answers of a slot, and no
// thread to wake. A thread of its own reads only when the event loop has not for JS_IDLE_MS
// (no keep-alive timer, or a stalled loop), so that a response is never left unread.
//
// Anything else on the response socket (a response that is not a ping answer, or one an
// endpoint rewrote so that we are not sure) goes to the event loop as it came, through a
// thread-safe function: the registrar's checks and parser see it as they would have.
//
// A ping-answer record: u32 sequence number, f64 arrival time (ms since the epoch), u16
// source port, u8 address length, the source address as text. Little-endian.

#include "udp_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RECV_BATCH 32
/** The largest UDP payload: a datagram is never cut short. */
#define DGRAM_MAX 65536
#define POLL_MS 5
#define DEEP_AFTER 200
/** The event loop read the socket this recently: the thread leaves it alone. */
#define JS_IDLE_MS 50
/** Ping answers kept for JavaScript at most (~1 MB); more are dropped and counted. */
#define ANSWERS_MAX (1 << 20)
/** Datagrams waiting for the event loop at most; more are dropped and counted. */
#define FORWARD_QUEUE 4096
#define ADDR_TEXT 64
#define RECORD_HEAD 15

static const napi_type_tag RECEIVER_TAG = {0x72636b61u, 0x72656376u};

typedef struct receiver {
  int fd;
  int stop_fd;
  pthread_t thread;
  int stopped;
  napi_threadsafe_function forward;
  pthread_mutex_t mu;
  /* Under mu: the ping marker (our branch up to the sequence number), the records, the counters. */
  unsigned char marker[64];
  size_t marker_len;
  uint32_t seq_limit;
  unsigned char *answers;
  size_t answers_len;
  uint64_t taken, forwarded, dropped;
  /** When the event loop last read the socket (monotonic ms; atomic), and its buffers for that. */
  int64_t js_read_at;
  struct reader *js_reader;
} receiver;

typedef struct datagram {
  size_t len;
  uint16_t port;
  char address[ADDR_TEXT];
  unsigned char data[];
} datagram;

/* RFC 3261 token characters: alphanumerics and -.!%*_+`'~ */
static int is_token(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '!' || c == '%' || c == '*' || c == '_' || c == '+' || c == '`' ||
         c == '\'' || c == '~';
}

/**
 * The sequence number of one of our pings this datagram answers, or -1: a status line, our
 * branch (in the echoed Via or Call-ID) with a number that ends the token, and our CSeq as we
 * wrote it, the header name in any case. The same test as keep-alive.ts's onRawResponse; what
 * fails it goes to the event loop, whose parser decides.
 */
static int64_t ping_seq(const unsigned char *marker, size_t marker_len, uint32_t limit, const unsigned char *buf, size_t len) {
  static const char status[] = "SIP/2.0 ";
  static const char cseq[] = ": 1 OPTIONS\r\n";
  static const char crlf_cseq[] = "\r\ncseq";
  if (marker_len == 0 || len < 8 || memcmp(buf, status, 8) != 0) return -1;
  const unsigned char *at = memmem(buf, len, marker, marker_len);
  if (at == NULL) return -1;
  const unsigned char *p = at + marker_len, *end = buf + len, *first = p;
  uint64_t n = 0;
  while (p < end && p - first < 10 && *p >= '0' && *p <= '9') n = n * 10 + (uint64_t)(*p++ - '0');
  if (p == first || n >= limit || (p < end && is_token(*p))) return -1;
  const unsigned char *c = memmem(buf, len, cseq, sizeof cseq - 1);
  if (c == NULL || c - buf < 6) return -1;
  for (int i = 0; i < 6; i++)
    if ((c[-6 + i] | (i >= 2 ? 0x20 : 0)) != (unsigned char)crlf_cseq[i]) return -1;
  return (int64_t)n;
}

/** Source address as node:dgram writes it (a scoped IPv6 address with its %interface). */
static size_t address_text(const struct sockaddr_storage *sa, char *out, uint16_t *port) {
  out[0] = 0;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &v4->sin_addr, out, ADDR_TEXT);
    *port = ntohs(v4->sin_port);
  } else {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
    if (v6->sin6_scope_id != 0) getnameinfo((const struct sockaddr *)sa, sizeof *v6, out, ADDR_TEXT, NULL, 0, NI_NUMERICHOST);
    else inet_ntop(AF_INET6, &v6->sin6_addr, out, ADDR_TEXT);
    *port = ntohs(v6->sin6_port);
  }
  return strlen(out);
}

static double arrival_ms(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP) {
      struct timeval tv;
      memcpy(&tv, CMSG_DATA(c), sizeof tv);
      return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0;
    }
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

static void put_answer(receiver *r, uint32_t seq, double at, uint16_t port, const char *addr, size_t addr_len) {
  size_t need = RECORD_HEAD + addr_len;
  if (r->answers_len + need > ANSWERS_MAX) {
    r->dropped++;
    return;
  }
  unsigned char *p = r->answers + r->answers_len;
  memcpy(p, &seq, 4); /* little-endian on every Linux Node runs on that this builds for */
  memcpy(p + 4, &at, 8);
  memcpy(p + 12, &port, 2);
  p[14] = (unsigned char)addr_len;
  memcpy(p + RECORD_HEAD, addr, addr_len);
  r->answers_len += need;
  r->taken++;
}

static void forward(receiver *r, const unsigned char *data, size_t len, uint16_t port, const char *addr, size_t addr_len) {
  datagram *d = malloc(sizeof *d + len);
  if (d != NULL) {
    d->len = len;
    d->port = port;
    memcpy(d->address, addr, addr_len + 1);
    memcpy(d->data, data, len);
    if (napi_call_threadsafe_function(r->forward, d, napi_tsfn_nonblocking) == napi_ok) {
      pthread_mutex_lock(&r->mu);
      r->forwarded++;
      pthread_mutex_unlock(&r->mu);
      return;
    }
    free(d);
  }
  pthread_mutex_lock(&r->mu);
  r->dropped++;
  pthread_mutex_unlock(&r->mu);
}

/** Buffers for one reader of the socket: the thread has its own, and so does the event loop. */
typedef struct reader {
  struct mmsghdr msgs[RECV_BATCH];
  struct iovec iovs[RECV_BATCH];
  struct sockaddr_storage from[RECV_BATCH];
  unsigned char control[RECV_BATCH][CMSG_SPACE(sizeof(struct timeval))];
  unsigned char bufs[RECV_BATCH][DGRAM_MAX];
} reader;

/** Reads everything waiting on the socket: ping answers kept, the rest forwarded. Returns how many datagrams. */
static int drain(receiver *r, reader *rd) {
  int total = 0;
  for (;;) {
    for (int i = 0; i < RECV_BATCH; i++) {
      rd->iovs[i] = (struct iovec){.iov_base = rd->bufs[i], .iov_len = DGRAM_MAX};
      rd->msgs[i].msg_hdr = (struct msghdr){.msg_name = &rd->from[i], .msg_namelen = sizeof rd->from[i], .msg_iov = &rd->iovs[i], .msg_iovlen = 1, .msg_control = rd->control[i], .msg_controllen = sizeof rd->control[i]};
    }
    int n = recvmmsg(r->fd, rd->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return total;
    total += n;
    for (int i = 0; i < n; i++) {
      const unsigned char *data = rd->bufs[i];
      size_t len = rd->msgs[i].msg_len;
      char addr[ADDR_TEXT];
      uint16_t port = 0;
      size_t addr_len = address_text(&rd->from[i], addr, &port);
      pthread_mutex_lock(&r->mu);
      int64_t seq = ping_seq(r->marker, r->marker_len, r->seq_limit, data, len);
      if (seq >= 0) put_answer(r, (uint32_t)seq, arrival_ms(&rd->msgs[i].msg_hdr), port, addr, addr_len);
      pthread_mutex_unlock(&r->mu);
      if (seq < 0) forward(r, data, len, port, addr, addr_len);
    }
    if (n < RECV_BATCH) return total;
  }
}

static int64_t monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/**
 * The thread reads only while the event loop does not: the keep-alive's timer reads the
 * socket every 10 ms (take_ping_answers), and a wake-up of this thread would be the cost
 * this is here to save. When no one has read for JS_IDLE_MS (no keep-alive timer, a stalled
 * event loop), it reads every POLL_MS, and after DEEP_AFTER empty looks waits on the socket.
 */
static void *run(void *arg) {
  receiver *r = arg;
  reader *rd = malloc(sizeof *rd);
  if (rd == NULL) return NULL;
  int idle = 0;
  for (;;) {
    int js_reads = monotonic_ms() - __atomic_load_n(&r->js_read_at, __ATOMIC_RELAXED) < JS_IDLE_MS;
    if (js_reads) idle = 0;
    else if (drain(r, rd) > 0) idle = 0;
    else idle++;
    struct pollfd p[2] = {{.fd = r->stop_fd, .events = POLLIN}, {.fd = r->fd, .events = POLLIN}};
    int deep = idle >= DEEP_AFTER;
    poll(p, deep ? 2 : 1, deep ? -1 : js_reads ? JS_IDLE_MS : POLL_MS);
    if (p[0].revents != 0) break;
  }
  free(rd);
  return NULL;
}

/** On the event loop: a datagram the thread did not take, to the listener's handler (buf, address, port). */
static void call_js(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)context;
  datagram *d = data;
  if (env != NULL && js_callback != NULL) {
    napi_value argv[3], undefined, result;
    void *copy;
    napi_create_buffer_copy(env, d->len, d->data, &copy, &argv[0]);
    napi_create_string_latin1(env, d->address, NAPI_AUTO_LENGTH, &argv[1]);
    napi_create_uint32(env, d->port, &argv[2]);
    napi_get_undefined(env, &undefined);
    if (napi_call_function(env, undefined, js_callback, 3, argv, &result) == napi_pending_exception) {
      /* The handler threw: like an exception in a 'message' listener, it is the process's. */
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  free(d);
}

/** Ends the thread and closes the response socket (the receiver owns it). */
static void stop(receiver *r) {
  if (r->stopped) return;
  r->stopped = 1;
  uint64_t one = 1;
  ssize_t w = write(r->stop_fd, &one, sizeof one);
  (void)w;
  pthread_join(r->thread, NULL);
  close(r->stop_fd);
  close(r->fd);
}

static void cleanup_hook(void *arg) { stop(arg); }

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  receiver *r = data;
  int was_stopped = r->stopped;
  stop(r);
  napi_remove_env_cleanup_hook(env, cleanup_hook, r);
  if (!was_stopped) napi_release_threadsafe_function(r->forward, napi_tsfn_release);
  pthread_mutex_destroy(&r->mu);
  free(r->js_reader);
  free(r->answers);
  free(r);
}

/**
 * startReceiver(fd: number, onDatagram: (buf, address, port) => void): object — the thread
 * reading the response socket `fd`, which it owns from now on (stopReceiver closes it).
 */
napi_value start_receiver(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
    return throw_type(env, "startReceiver(fd, onDatagram)");
  receiver *r = calloc(1, sizeof *r);
  if (r == NULL || (r->answers = malloc(ANSWERS_MAX)) == NULL) {
    free(r);
    return throw_errno(env, "malloc", ENOMEM);
  }
  r->fd = fd;
  r->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (r->stop_fd < 0) {
    int err = errno;
    free(r->answers);
    free(r);
    return throw_errno(env, "eventfd", err);
  }
  pthread_mutex_init(&r->mu, NULL);
  napi_value name;
  napi_create_string_utf8(env, "rollcall-udp-receiver", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, FORWARD_QUEUE, 1, NULL, NULL, NULL, call_js, &r->forward) != napi_ok) {
    close(r->stop_fd);
    free(r->answers);
    free(r);
    return throw_type(env, "startReceiver: no thread-safe function");
  }
  /* The socket keeps the process alive, as node:dgram's does: this does not. */
  napi_unref_threadsafe_function(env, r->forward);
  int err = pthread_create(&r->thread, NULL, run, r);
  if (err != 0) {
    napi_release_threadsafe_function(r->forward, napi_tsfn_abort);
    close(r->stop_fd);
    free(r->answers);
    free(r);
    return throw_errno(env, "pthread_create", err);
  }
  /* Named for top -H and the tests; may fail (an old kernel, a sandbox): no harm. */
  pthread_setname_np(r->thread, "rc-udp-receiver");
  napi_add_env_cleanup_hook(env, cleanup_hook, r);
  return wrap_tagged(env, r, &RECEIVER_TAG, finalize);
}

/** setPingMarker(receiver, marker: Buffer, seqLimit: number): void — how our ping branches start, before the number. */
napi_value set_ping_marker(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  receiver *r = argc >= 3 ? unwrap_tagged(env, argv[0], &RECEIVER_TAG) : NULL;
  void *data;
  size_t len;
  uint32_t limit;
  if (r == NULL || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || len == 0 || len > sizeof r->marker || napi_get_value_uint32(env, argv[2], &limit) != napi_ok)
    return throw_type(env, "setPingMarker(receiver, marker, seqLimit)");
  pthread_mutex_lock(&r->mu);
  memcpy(r->marker, data, len);
  r->marker_len = len;
  r->seq_limit = limit;
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

/**
 * takePingAnswers(receiver, out: Buffer): number — moves as many whole records as fit into
 * `out` and returns their bytes; 0 when none are waiting.
 */
napi_value take_ping_answers(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  receiver *r = argc >= 2 ? unwrap_tagged(env, argv[0], &RECEIVER_TAG) : NULL;
  void *out;
  size_t cap;
  if (r == NULL || napi_get_buffer_info(env, argv[1], &out, &cap) != napi_ok) return throw_type(env, "takePingAnswers(receiver, out)");
  if (!r->stopped) {
    if (r->js_reader == NULL) r->js_reader = malloc(sizeof *r->js_reader);
    if (r->js_reader != NULL) {
      __atomic_store_n(&r->js_read_at, monotonic_ms(), __ATOMIC_RELAXED);
      drain(r, r->js_reader);
    }
  }
  pthread_mutex_lock(&r->mu);
  size_t n = 0;
  while (n + RECORD_HEAD <= r->answers_len) {
    size_t size = RECORD_HEAD + r->answers[n + 14];
    if (n + size > cap) break;
    n += size;
  }
  memcpy(out, r->answers, n);
  memmove(r->answers, r->answers + n, r->answers_len - n);
  r->answers_len -= n;
  pthread_mutex_unlock(&r->mu);
  napi_value v;
  napi_create_uint32(env, (uint32_t)n, &v);
  return v;
}

/** stopReceiver(receiver): void — ends the thread and closes the response socket. */
napi_value stop_receiver(napi_env env, napi_callback_info info) {
  receiver *r = only_object_arg(env, info, &RECEIVER_TAG);
  if (r == NULL) return throw_type(env, "stopReceiver(receiver)");
  if (r->stopped) return NULL;
  stop(r);
  napi_release_threadsafe_function(r->forward, napi_tsfn_release);
  return NULL;
}

/** receiverCounters(receiver): [pingAnswers, forwarded, dropped] */
napi_value receiver_counters(napi_env env, napi_callback_info info) {
  receiver *r = only_object_arg(env, info, &RECEIVER_TAG);
  if (r == NULL) return throw_type(env, "receiverCounters(receiver)");
  pthread_mutex_lock(&r->mu);
  double v[3] = {(double)r->taken, (double)r->forwarded, (double)r->dropped};
  pthread_mutex_unlock(&r->mu);
  napi_value arr, x;
  napi_create_array_with_length(env, 3, &arr);
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_double(env, v[i], &x);
    napi_set_element(env, arr, i, x);
  }
  return arr;
}
