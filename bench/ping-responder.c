// The crowd of phones for bench/keep-alive.mjs, in C: the same protocol as
// bench/ping-responder.mjs (binds ADDRESS:0 and prints {"port","pid"}; answers every OPTIONS
// with 200 OK; counts arrivals per 100 ms; "mark", "report" and "exit" on stdin), but taking
// up to 64 datagrams per recvmmsg and answering them with one sendmmsg. The phones live on
// other machines in real life; in Node the stand-in cost ~9–11 % of a CPU at 3,333 pings a
// second on the two cores it shares with the server and the load generator, here ~4 %, most
// of it the kernel delivering the answers over loopback. Built by the bench with the
// machine's cc when there is one.
//
// A third argument takes the answers, or more, out of the picture, to tell what of the
// keep-alive's cost to a REGISTER is which (RESULTS, twelfth pass): `silent` reads every ping
// and answers none; `deaf` never reads its socket (a small buffer, full at once: the kernel
// drops what comes), so that a ping costs only its sending. Without answers every ping is a
// miss: the bench raises nat.keepAlive.maxMisses so that no endpoint is flagged.
//
//   cc -O2 -o ping-responder bench/ping-responder.c && ./ping-responder 127.0.0.2 [PACE_MS] [answer|silent|deaf]

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DATAGRAM 65536
#define MAX_ANSWER 4096
#define MAX_BUCKETS 100000 /* 100 ms buckets since the mark: 10,000 s */

static char in_buf[BATCH][MAX_DATAGRAM];
static char out_buf[BATCH][MAX_ANSWER];
static unsigned counts[MAX_BUCKETS];
static long long marked_at; /* ms */
static unsigned long long pings;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The header line starting with "\r\n" NAME ":" in msg[0..len), copied to out; its length, or 0. */
static size_t header_line(const char *msg, size_t len, const char *name, char *out, size_t room) {
  size_t n = strlen(name);
  for (size_t i = 0; i + n + 3 <= len; i++) {
    if (msg[i] != '\r' || msg[i + 1] != '\n' || memcmp(msg + i + 2, name, n) != 0 || msg[i + 2 + n] != ':') continue;
    size_t start = i + 2, end = start;
    while (end + 1 < len && !(msg[end] == '\r' && msg[end + 1] == '\n')) end++;
    size_t l = end - start;
    if (l + 2 > room) return 0;
    memcpy(out, msg + start, l);
    out[l] = '\r';
    out[l + 1] = '\n';
    return l + 2;
  }
  return 0;
}

static size_t answer(const char *msg, size_t len, char *out) {
  static const char status[] = "SIP/2.0 200 OK\r\n";
  static const char tail[] = "Content-Length: 0\r\n\r\n";
  size_t at = 0;
  memcpy(out, status, sizeof status - 1);
  at += sizeof status - 1;
  at += header_line(msg, len, "Via", out + at, MAX_ANSWER - at - 64);
  at += header_line(msg, len, "From", out + at, MAX_ANSWER - at - 64);
  size_t to = header_line(msg, len, "To", out + at, MAX_ANSWER - at - 64);
  if (to >= 2) {
    memcpy(out + at + to - 2, ";tag=r\r\n", 8);
    to += 6;
  }
  at += to;
  at += header_line(msg, len, "Call-ID", out + at, MAX_ANSWER - at - 64);
  at += header_line(msg, len, "CSeq", out + at, MAX_ANSWER - at - 64);
  memcpy(out + at, tail, sizeof tail - 1);
  return at + sizeof tail - 1;
}

static void report(void) {
  long long now = now_ms();
  long long first = marked_at / 100 + 1, last = now / 100; /* whole buckets strictly inside */
  printf("{\"pings\":%llu,\"seconds\":%.3f,\"per100ms\":[", pings, (now - marked_at) / 1000.0);
  for (long long b = first; b < last; b++) {
    long long i = b - marked_at / 100;
    printf("%s%u", b == first ? "" : ",", i >= 0 && i < MAX_BUCKETS ? counts[i] : 0);
  }
  printf("]}\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *address = argc > 1 ? argv[1] : "127.0.0.2";
  /* PACE_MS > 0: take the datagrams every PACE_MS ms instead of waking for each one. */
  int pace_ms = argc > 2 ? atoi(argv[2]) : 0;
  const char *mode = argc > 3 ? argv[3] : "answer";
  int silent = strcmp(mode, "silent") == 0, deaf = strcmp(mode, "deaf") == 0;
  if (!silent && !deaf && strcmp(mode, "answer") != 0) {
    fprintf(stderr, "mode: answer, silent or deaf\n");
    return 2;
  }
  if (strncmp(address, "127.", 4) != 0) {
    fprintf(stderr, "loopback only\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcvbuf = deaf ? 4096 : 8 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  if (fd < 0 || inet_pton(AF_INET, address, &sa.sin_addr) != 1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("bind");
    return 1;
  }
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  printf("{\"port\":%d,\"pid\":%d}\n", ntohs(sa.sin_port), (int)getpid());
  fflush(stdout);
  marked_at = now_ms();

  static struct mmsghdr in[BATCH], out[BATCH];
  static struct iovec in_iov[BATCH], out_iov[BATCH];
  static struct sockaddr_in from[BATCH];
  char line[256];
  size_t line_len = 0;
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, pace_ms > 0 || deaf ? 1 : 2, pace_ms > 0 ? pace_ms : -1) < 0) continue;
    if (pace_ms > 0 && !deaf) fds[1].revents = POLLIN;
    while (fds[1].revents & POLLIN) {
      for (int i = 0; i < BATCH; i++) {
        in_iov[i] = (struct iovec){.iov_base = in_buf[i], .iov_len = MAX_DATAGRAM};
        in[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &in_iov[i], .msg_iovlen = 1};
      }
      int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
      if (n < BATCH) fds[1].revents = 0;
      int k = 0;
      long long bucket = now_ms() / 100 - marked_at / 100;
      for (int i = 0; i < n; i++) {
        size_t len = in[i].msg_len;
        if (len < 8 || memcmp(in_buf[i], "OPTIONS ", 8) != 0) continue;
        pings++;
        if (bucket >= 0 && bucket < MAX_BUCKETS) counts[bucket]++;
        if (silent) continue;
        out_iov[k] = (struct iovec){.iov_base = out_buf[k], .iov_len = answer(in_buf[i], len, out_buf[k])};
        out[k].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = in[i].msg_hdr.msg_namelen, .msg_iov = &out_iov[k], .msg_iovlen = 1};
        k++;
      }
      for (int sent = 0; sent < k;) {
        int r = sendmmsg(fd, out + sent, k - sent, 0);
        if (r <= 0) break;
        sent += r;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char c;
      ssize_t r = read(0, &c, 1);
      if (r <= 0) return 0;
      if (c != '\n') {
        if (line_len < sizeof line - 1) line[line_len++] = c;
        continue;
      }
      line[line_len] = 0;
      line_len = 0;
      if (strcmp(line, "mark") == 0) {
        memset(counts, 0, sizeof counts);
        pings = 0;
        marked_at = now_ms();
      } else if (strcmp(line, "report") == 0) {
        report();
      } else if (strcmp(line, "exit") == 0) {
        return 0;
      }
    }
  }
}
