// The sha256 kind: "HEX  PATH\n" per input, as sha256sum prints it.

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "worker/file_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

struct EvpContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

// The file name as sha256sum writes it: coreutils 9 escapes '\\', '\n' and
// '\r' and then marks the line with a leading backslash.
std::string Sha256SumLine(absl::string_view hex, absl::string_view path) {
  std::string name;
  bool escaped = false;
  for (const char c : path) {
    switch (c) {
      case '\\':
        name += "\\\\";
        escaped = true;
        break;
      case '\n':
        name += "\\n";
        escaped = true;
        break;
      case '\r':
        name += "\\r";
        escaped = true;
        break;
      default:
        name.push_back(c);
    }
  }
  return absl::StrCat(escaped ? "\\" : "", hex, "  ", name, "\n");
}

class Sha256Kind : public JobKind {
 public:
  explicit Sha256Kind(size_t chunk_size) : chunk_size_(chunk_size) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& inputs = context.assignment.inputs();
    if (inputs.empty()) {
      return absl::InvalidArgumentError("sha256 needs at least one input");
    }
    std::string last_hex;
    for (const std::string& input : inputs) {
      absl::StatusOr<std::string> hex =
          HashFile(context.files, input, context.cancel);
      if (!hex.ok()) return hex.status();
      if (absl::Status status =
              context.output.Write(Sha256SumLine(*hex, input));
          !status.ok()) {
        return status;
      }
      last_hex = *std::move(hex);
    }
    if (inputs.size() == 1) return last_hex;
    return absl::StrCat(inputs.size(), " files");
  }

 private:
  // The lowercase hex SHA-256 digest of the file at `path`.
  absl::StatusOr<std::string> HashFile(const BeneathOpener& files,
                                       absl::string_view path,
                                       const CancelFlag& cancel) const {
    std::unique_ptr<EVP_MD_CTX, EvpContextDeleter> hasher(EVP_MD_CTX_new());
    if (hasher == nullptr ||
        EVP_DigestInit_ex(hasher.get(), EVP_sha256(), nullptr) != 1) {
      return absl::InternalError("cannot initialise SHA-256 (OpenSSL)");
    }
    absl::Status status = ReadFileChunks(
        files, path, chunk_size_, cancel, [&](absl::string_view chunk) {
          if (EVP_DigestUpdate(hasher.get(), chunk.data(), chunk.size()) != 1) {
            return absl::InternalError("SHA-256 update failed (OpenSSL)");
          }
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(hasher.get(), digest, &length) != 1) {
      return absl::InternalError("SHA-256 final failed (OpenSSL)");
    }
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), length));
  }

  const size_t chunk_size_;
};

}  // namespace

std::unique_ptr<JobKind> NewSha256Kind(size_t chunk_size) {
  return std::make_unique<Sha256Kind>(chunk_size);
}

}  // namespace quarry::worker
