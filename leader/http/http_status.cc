#include "leader/http/http_status.h"

#include "absl/strings/string_view.h"
#include "leader/http/json_codec.h"
#include "quarry/v1/http.pb.h"

namespace quarry {
namespace {

// `text` with every byte that is not part of valid UTF-8 replaced by
// U+FFFD: error messages echo what the client sent (a job id from the
// path), and JSON must be UTF-8.
std::string ValidUtf8(absl::string_view text) {
  std::string valid;
  valid.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = text[i];
    size_t length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2
                                    : lead >= 0xE0 && lead <= 0xEF ? 3
                                    : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                                    : 0;
    if (length > text.size() - i) length = 0;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = text[i + k];
      const unsigned char low = (k == 1 && lead == 0xE0)   ? 0xA0
                                : (k == 1 && lead == 0xF0) ? 0x90
                                                           : 0x80;
      const unsigned char high = (k == 1 && lead == 0xED)   ? 0x9F
                                 : (k == 1 && lead == 0xF4) ? 0x8F
                                                            : 0xBF;
      if (next < low || next > high) length = 0;
    }
    if (length == 0) {
      valid.append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      valid.append(text.data() + i, length);
      i += length;
    }
  }
  return valid;
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  quarry::v1::HttpError error;
  error.set_code(static_cast<int>(status.code()));
  error.set_message(ValidUtf8(status.message()));
  error.set_status(absl::StatusCodeToString(status.code()));
  return ToJson(error);
}

}  // namespace quarry
