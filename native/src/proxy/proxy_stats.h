// The proxy data path's counters. Their names, in stats() order, are exported by the addon
// (ProxyCore.counterNames) and read by src/proxy/native-core.ts, so the layout is stated here only.
#pragma once
#include <cstdint>

namespace mcha {

enum ProxyCounter { kCurrConnections, kTotalConnections, kRequests, kForwarded, kServerErrors, kFailovers, kRetries, kCmdGet, kCmdSet, kCmdTouch, kHandoffs, kProxyCounters };

// The names TypeScript reads them by, indexed by ProxyCounter.
extern const char* const kProxyCounterNames[kProxyCounters];

// Per node: requests, failovers, the sum of reply latencies in microseconds, then latency
// buckets (powers of two of microseconds).
enum NodeCounter { kNodeRequests, kNodeFailovers, kNodeLatencySumUs, kNodeLatency };
constexpr int kLatencyBuckets = 32;
constexpr int kNodeCounters = kNodeLatency + kLatencyBuckets;

// What the data path reports to the control plane (ProxyEvent::type); exported as ProxyCore.events.
enum ProxyEventType : int32_t { kEventFailure = 1, kEventHandoff = 2 };

}  // namespace mcha
