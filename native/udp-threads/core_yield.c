// yieldCore(): the event loop gives its core to a thread waiting for it, before a batch of
// background work (the keep-alive's pings). The scheduler often queues a thread the event
// loop has just woken — the commit worker handed a REGISTER's batch, a local client sent a
// response — on the event loop's own core, and on a kernel without preemption that thread
// waits until the event loop blocks, even with the other core idle: with keep-alive on, the
// commit worker waited twice as long, and that wait was all the extra REGISTER latency the
// keep-alive caused (RESULTS, eleventh pass). With nothing else runnable it returns at once.

#include "udp_common.h"

#include <sched.h>

napi_value yield_core(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  sched_yield();
  return NULL;
}
