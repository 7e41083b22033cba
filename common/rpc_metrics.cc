#include "common/rpc_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace quarry {

RpcMetrics::Method::Method(RpcMetrics* owner, std::string name)
    : owner_(owner),
      name_(std::move(name)),
      duration_(owner->durations_.Add({{"method", name_}}, LatencyBuckets())) {}

void RpcMetrics::Method::Record(absl::Duration duration,
                                grpc::StatusCode code) {
  duration_.Observe(absl::ToDoubleSeconds(duration));
  if (code == grpc::StatusCode::OK) return;
  // grpc::StatusCode and absl::StatusCode share their numbering. Errors are
  // rare: the family's own lookup is cheap enough.
  owner_->errors_
      .Add({{"method", name_},
            {"code",
             absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}})
      .Increment();
}

RpcMetrics::RpcMetrics(Metrics* metrics)
    : durations_(prometheus::BuildHistogram()
                     .Name("quarry_rpc_duration_seconds")
                     .Help("Time spent handling a unary gRPC call, by method")
                     .Register(metrics->registry())),
      errors_(prometheus::BuildCounter()
                  .Name("quarry_rpc_errors_total")
                  .Help("Unary gRPC calls that ended with an error, by "
                        "method and status code")
                  .Register(metrics->registry())) {}

RpcMetrics::Method* RpcMetrics::ForMethod(absl::string_view service,
                                          absl::string_view method) {
  absl::MutexLock lock(&mu_);
  return methods_
      .emplace_back(std::make_unique<Method>(
          this, absl::StrCat("/", service, "/", method)))
      .get();
}

}  // namespace quarry
