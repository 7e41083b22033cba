#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace quarry {
namespace {

// One named flag's file: "--tls_cert /etc/quarry/leader.pem".
struct FlagFile {
  std::string flag;
  std::string path;

  std::string Name() const { return absl::StrCat(flag, " ", path); }
};

absl::StatusOr<std::string> ReadPem(const FlagFile& file) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Name(), ": cannot read the file"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Name(), ": not a PEM file"));
  }
  return contents.str();
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of a PEM chain or bundle.
absl::StatusOr<Cert> FirstCertificate(const FlagFile& file,
                                      const std::string& pem) {
  Bio bio = MemoryBio(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Name(), ": holds no PEM certificate"));
  }
  return cert;
}

absl::Status CheckNotExpired(const FlagFile& file, X509* cert) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Name(), ": the certificate has expired"));
  }
  return absl::OkStatus();
}

// A private key readable by others is as good as published.
absl::Status CheckKeyPrivate(const FlagFile& file) {
  struct stat info {};
  if (stat(file.path.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Name(), ": cannot stat the file"));
  }
  if ((info.st_mode & S_IROTH) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.Name(), ": the private key is readable by others (chmod o-r)"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyMatches(const FlagFile& cert_file, X509* cert,
                             const FlagFile& key_file,
                             const std::string& key_pem) {
  Bio bio = MemoryBio(key_pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_file.Name(), ": holds no PEM private key (or one with a "
                         "passphrase, which is not supported)"));
  }
  if (X509_check_private_key(cert, key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_file.Name(), ": does not match the certificate of ",
                     cert_file.Name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadCa(const FlagFile& file) {
  if (file.path.empty()) return std::string();
  absl::StatusOr<std::string> pem = ReadPem(file);
  if (!pem.ok()) return pem.status();
  if (absl::StatusOr<Cert> first = FirstCertificate(file, *pem); !first.ok()) {
    return first.status();
  }
  return pem;
}

}  // namespace

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files,
                                            absl::string_view flag_prefix) {
  const FlagFile cert_file{absl::StrCat(flag_prefix, "cert"), files.cert};
  const FlagFile key_file{absl::StrCat(flag_prefix, "key"), files.key};
  const FlagFile ca_file{absl::StrCat(flag_prefix, "ca"), files.ca};
  const FlagFile client_ca_file{absl::StrCat(flag_prefix, "client_ca"),
                                files.client_ca};
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_file.flag, " and ", key_file.flag,
                     " go together: give both or neither"));
  }
  if (!files.client_ca.empty() && files.cert.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(client_ca_file.flag, " needs ", cert_file.flag, " and ",
                     key_file.flag, " (client certificates need TLS)"));
  }
  TlsMaterial tls;
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(key_file);
    if (!key.ok()) return key.status();
    absl::StatusOr<Cert> leaf = FirstCertificate(cert_file, *cert);
    if (!leaf.ok()) return leaf.status();
    for (absl::Status check :
         {CheckNotExpired(cert_file, leaf->get()), CheckKeyPrivate(key_file),
          CheckKeyMatches(cert_file, leaf->get(), key_file, *key)}) {
      if (!check.ok()) return check;
    }
    tls.cert = *std::move(cert);
    tls.key = *std::move(key);
  }
  absl::StatusOr<std::string> ca = ReadCa(ca_file);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> client_ca = ReadCa(client_ca_file);
  if (!client_ca.ok()) return client_ca.status();
  tls.ca = *std::move(ca);
  tls.client_ca = *std::move(client_ca);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsMaterial& tls) {
  if (tls.cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls.client_ca.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.client_ca;
  options.pem_key_cert_pairs.push_back({tls.key, tls.cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const TlsMaterial& tls) {
  if (tls.ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca;
  options.pem_private_key = tls.key;
  options.pem_cert_chain = tls.cert;
  return grpc::SslCredentials(options);
}

std::string TlsHint(const TlsMaterial& tls) {
  if (tls.ca.empty()) {
    return " (if it serves TLS, give the CA that signed its certificate: "
           "--tls-ca)";
  }
  return " (over TLS: does it serve TLS, did the --tls-ca CA sign its "
         "certificate for this host name, and does it require a client "
         "certificate: --tls-cert/--tls-key?)";
}

}  // namespace quarry
