// Helpers of the addon (udp_common.h) and its entry point.

#include "udp_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int parse_address(const char *text, uint16_t port, struct sockaddr_storage *out, socklen_t *out_len) {
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

napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s", syscall, strerror(err));
  napi_value code, message, error;
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : err == EAFNOSUPPORT ? "EAFNOSUPPORT" : "ERR_UDP_THREADS";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value sys;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

void *unwrap_tagged(napi_env env, napi_value obj, const napi_type_tag *tag) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, obj, tag, &ok) != napi_ok || !ok) return NULL;
  if (napi_unwrap(env, obj, &p) != napi_ok) return NULL;
  return p;
}

void *only_object_arg(napi_env env, napi_callback_info info, const napi_type_tag *tag) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc >= 1 ? unwrap_tagged(env, argv[0], tag) : NULL;
}

napi_value wrap_tagged(napi_env env, void *data, const napi_type_tag *tag, napi_finalize finalize) {
  napi_value obj;
  napi_create_object(env, &obj);
  napi_type_tag_object(env, obj, tag);
  napi_wrap(env, obj, data, finalize, NULL, NULL);
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openSockets", NULL, open_sockets, NULL, NULL, NULL, napi_default, NULL},
      {"startSender", NULL, start_sender, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"stopSender", NULL, stop_sender, NULL, NULL, NULL, napi_default, NULL},
      {"senderCounters", NULL, sender_counters, NULL, NULL, NULL, napi_default, NULL},
      {"startReceiver", NULL, start_receiver, NULL, NULL, NULL, napi_default, NULL},
      {"setPingMarker", NULL, set_ping_marker, NULL, NULL, NULL, napi_default, NULL},
      {"takePingAnswers", NULL, take_ping_answers, NULL, NULL, NULL, napi_default, NULL},
      {"stopReceiver", NULL, stop_receiver, NULL, NULL, NULL, napi_default, NULL},
      {"receiverCounters", NULL, receiver_counters, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
