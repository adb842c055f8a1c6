// The two sockets of one UDP listener, bound to the same address and port (SO_REUSEPORT) with
// a classic BPF program that picks between them by a datagram's first bytes:
//
//   - the request socket takes everything that does not start "SIP/": requests, CRLF
//     keep-alives, junk. The event loop reads it (node:dgram wraps it with bind({ fd })) and
//     the sender thread sends from it;
//   - the response socket takes what starts "SIP/": responses, which for a registrar are
//     almost all answers to its own keep-alive pings, thousands a second at 100,000 endpoints.
//     The receiver thread (udp_receiver.c) reads it; what is not a ping answer it hands to
//     the event loop.
//
// Both sockets have the same local port, so a ping and its answer use the pinhole the phone's
// REGISTER opened, and a phone sees one address whichever socket answered it.
//
// SO_REUSEPORT would also let another socket of this user join the port silently. A listener
// on a fixed port is therefore first bound without it, to get EADDRINUSE when anything holds
// the port (another Rollcall included, which binds the same way); an ephemeral port the kernel
// hands out is never shared.

#include "udp_common.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <unistd.h>

/** Index 1 (the response socket, bound second) for "SIP/", else 0; a datagram too short to read is 0 too. */
static struct sock_filter pick_socket[] = {
    {BPF_LD | BPF_W | BPF_ABS, 0, 0, 0},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x5349502f /* "SIP/" */},
    {BPF_RET | BPF_K, 0, 0, 1},
    {BPF_RET | BPF_K, 0, 0, 0},
};

/** A bound socket, or -1 (errno set) and *syscall naming what failed. */
static int bound_socket(const struct sockaddr_storage *sa, socklen_t sl, int v6only, int reuseport, const char **syscall) {
  *syscall = "socket";
  int fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  if (sa->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  *syscall = "setsockopt SO_REUSEPORT";
  if (!reuseport || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) {
    *syscall = "bind";
    if (bind(fd, (const struct sockaddr *)sa, sl) == 0) return fd;
  }
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

static napi_value fail(napi_env env, const char *syscall, int fd0, int fd1) {
  int err = errno;
  if (fd0 >= 0) close(fd0);
  if (fd1 >= 0) close(fd1);
  return throw_errno(env, syscall, err);
}

/**
 * openSockets(address: string, port: number, ipv6Only: boolean, receiveBuffer: number):
 * [requestFd, responseFd] — both bound, non-blocking; the response socket gets the receive
 * buffer asked for (the request socket's is node:dgram's to set). An error's `syscall` says
 * what failed: "bind" is the address's fault; anything else (a kernel without SO_REUSEPORT
 * or its BPF, before Linux 4.5, or a sandbox) means the pair cannot be had here at all.
 */
napi_value open_sockets(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char text[64];
  size_t len;
  uint32_t port, rcvbuf;
  bool v6only = false;
  if (argc < 4 || napi_get_value_string_utf8(env, argv[0], text, sizeof text, &len) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535 ||
      napi_get_value_bool(env, argv[2], &v6only) != napi_ok || napi_get_value_uint32(env, argv[3], &rcvbuf) != napi_ok)
    return throw_type(env, "openSockets(address, port, ipv6Only, receiveBuffer)");
  struct sockaddr_storage sa;
  socklen_t sl;
  if (parse_address(text, (uint16_t)port, &sa, &sl) != 0) return throw_type(env, "openSockets: not an IP address");
  const char *syscall;
  if (port != 0) {
    int probe = bound_socket(&sa, sl, v6only, 0, &syscall);
    if (probe < 0) return fail(env, syscall, -1, -1);
    close(probe);
  }
  int fd0 = bound_socket(&sa, sl, v6only, 1, &syscall);
  if (fd0 < 0) return fail(env, syscall, -1, -1);
  if (port == 0) {
    socklen_t al = sizeof sa;
    if (getsockname(fd0, (struct sockaddr *)&sa, &al) != 0) return fail(env, "getsockname", fd0, -1);
  }
  int fd1 = bound_socket(&sa, sl, v6only, 1, &syscall);
  if (fd1 < 0) return fail(env, syscall, fd0, -1);
  struct sock_fprog prog = {.len = sizeof pick_socket / sizeof pick_socket[0], .filter = pick_socket};
  int on = 1;
  if (setsockopt(fd0, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0) return fail(env, "setsockopt SO_ATTACH_REUSEPORT_CBPF", fd0, fd1);
  // When each answer arrived, for its round-trip time: the thread reads on a clock, not at once.
  if (setsockopt(fd1, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on) != 0) return fail(env, "setsockopt SO_TIMESTAMP", fd0, fd1);
  if (rcvbuf > 0) setsockopt(fd1, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  napi_value out, a, b;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, fd0, &a);
  napi_create_int32(env, fd1, &b);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}
