#ifndef QUARRY_COMMON_TLS_FLAGS_H_
#define QUARRY_COMMON_TLS_FLAGS_H_

#include "common/tls.h"

namespace quarry {

// The --tls_cert, --tls_key, --tls_ca and --tls_client_ca flags, the same
// for the leader and the worker (defined once here, in quarry_server).
TlsFiles TlsFilesFromFlags();

}  // namespace quarry

#endif  // QUARRY_COMMON_TLS_FLAGS_H_
