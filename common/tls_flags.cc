#include "common/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (chain) to serve TLS with; also presented as the "
          "client certificate when this process dials over TLS (mTLS)");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of --tls_cert (not readable by others)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate(s): dial the leader / workers over TLS, "
          "trusting only certificates it signed");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): require every caller to present a client "
          "certificate it signed (mutual TLS); needs --tls_cert");

namespace quarry {

TlsFiles TlsFilesFromFlags() {
  TlsFiles files;
  files.cert = absl::GetFlag(FLAGS_tls_cert);
  files.key = absl::GetFlag(FLAGS_tls_key);
  files.ca = absl::GetFlag(FLAGS_tls_ca);
  files.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  return files;
}

}  // namespace quarry
