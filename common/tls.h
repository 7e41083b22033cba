#ifndef QUARRY_COMMON_TLS_H_
#define QUARRY_COMMON_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry {

// Where a process's TLS material lives (PEM files), as given by the
// --tls_cert, --tls_key, --tls_ca and --tls_client_ca flags of the leader
// and the worker (and the CLI's --tls-cert/--tls-key/--tls-ca). All empty:
// plaintext, as before TLS existed.
//
//   serving:  cert + key       the server speaks TLS with this certificate
//             + client_ca      ... and requires client certificates signed
//                              by client_ca (mutual TLS)
//   dialing:  ca               connect over TLS, trusting peers signed by ca
//             + cert + key     ... presenting this certificate (mTLS)
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca;
  std::string client_ca;

  bool serves_tls() const { return !cert.empty(); }
  bool dials_tls() const { return !ca.empty(); }
};

// The PEM contents of TlsFiles, read and checked once at start.
struct TlsMaterial {
  std::string cert;
  std::string key;
  std::string ca;
  std::string client_ca;
};

// Reads and checks the files: a cert needs its key and the reverse; a
// client CA needs a cert to serve with; each file must hold PEM of the
// right type, the key must match the cert, the cert must not have expired,
// and the key must not be readable by others. Errors name the flag and the
// file, never the key's bytes. `flag_prefix` is "--tls_" for the daemons,
// "--tls-" for the CLI.
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files,
                                            absl::string_view flag_prefix);

// Credentials to serve with: TLS (mutual when client_ca is set) when a cert
// was given, else insecure.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsMaterial& tls);

// Credentials to dial with: TLS trusting `ca` (with the client certificate
// when cert is set) when a CA was given, else insecure.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const TlsMaterial& tls);

// A hint to append to a connection error seen by a client that dials with
// `tls`: a plaintext client of a TLS server, or a TLS client of a plaintext
// server or of one signed by another CA, otherwise gets gRPC's bare
// "failed to connect" or "Socket closed".
std::string TlsHint(const TlsMaterial& tls);

}  // namespace quarry

#endif  // QUARRY_COMMON_TLS_H_
