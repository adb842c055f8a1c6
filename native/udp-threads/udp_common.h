// What the sender and the receiver share: addresses, errors thrown to JavaScript, the wrapped
// objects they hand out, and the socket pair they work on (udp_socket.c).

#ifndef UDP_COMMON_H
#define UDP_COMMON_H

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>

/** An IPv4 or IPv6 literal (a %scope allowed) and a port; -1 when it is not one. Never resolves a name. */
int parse_address(const char *text, uint16_t port, struct sockaddr_storage *out, socklen_t *out_len);

/** Throws an Error whose code is the errno's name where JavaScript knows it (as node:dgram's do), and returns NULL. */
napi_value throw_errno(napi_env env, const char *syscall, int err);
napi_value throw_type(napi_env env, const char *msg);

/** The native object behind argument 0 when it carries `tag`, else NULL. */
void *only_object_arg(napi_env env, napi_callback_info info, const napi_type_tag *tag);
void *unwrap_tagged(napi_env env, napi_value obj, const napi_type_tag *tag);
/** A new JavaScript object owning `data` (finalize frees it), tagged so that it is never taken for another kind. */
napi_value wrap_tagged(napi_env env, void *data, const napi_type_tag *tag, napi_finalize finalize);

napi_value open_sockets(napi_env env, napi_callback_info info);
napi_value start_sender(napi_env env, napi_callback_info info);
napi_value send_batch(napi_env env, napi_callback_info info);
napi_value stop_sender(napi_env env, napi_callback_info info);
napi_value sender_counters(napi_env env, napi_callback_info info);
napi_value start_receiver(napi_env env, napi_callback_info info);
napi_value set_ping_marker(napi_env env, napi_callback_info info);
napi_value take_ping_answers(napi_env env, napi_callback_info info);
napi_value stop_receiver(napi_env env, napi_callback_info info);
napi_value receiver_counters(napi_env env, napi_callback_info info);

#endif
