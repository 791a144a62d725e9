#include "proxy/proxy_stats.h"

namespace mcha {

const char* const kProxyCounterNames[kProxyCounters] = {
    "currConnections", "totalConnections", "requests", "forwarded", "serverErrors", "failovers",
    "retries",         "cmdGet",           "cmdSet",   "cmdTouch",  "handoffs",
};

}  // namespace mcha
