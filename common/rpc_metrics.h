#ifndef QUARRY_COMMON_RPC_METRICS_H_
#define QUARRY_COMMON_RPC_METRICS_H_

#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/metrics.h"

namespace quarry {

// The metrics of the unary RPCs a process serves:
//   quarry_rpc_duration_seconds{method="/quarry.v1.JobService/SubmitJob"}
//     (histogram: time in the handler),
//   quarry_rpc_errors_total{method="...",code="NOT_FOUND"} (counter).
// The services' timing decorators (leader/timed_services.h,
// worker/timed_worker_service.h) time each call with a Method. They time
// the handler itself rather than use a gRPC interceptor: interceptors send
// each batch of a call back through the completion queue, which cost the
// submit-to-DONE latency about 5%. Thread-safe.
class RpcMetrics {
 public:
  // The figures of one method. Thread-safe.
  class Method {
   public:
    Method(RpcMetrics* owner, std::string name);

    // Runs `handler` (returning grpc::Status), records how long it took
    // and, if it failed, its status code; returns its status.
    template <typename Handler>
    grpc::Status Time(Handler&& handler) {
      const absl::Time start = absl::Now();
      grpc::Status status = std::forward<Handler>(handler)();
      Record(absl::Now() - start, status.error_code());
      return status;
    }

   private:
    void Record(absl::Duration duration, grpc::StatusCode code);

    RpcMetrics* const owner_;
    const std::string name_;
    prometheus::Histogram& duration_;
  };

  // Registers the families in `metrics`, which must outlive this object.
  explicit RpcMetrics(Metrics* metrics);

  // The Method of `service` (e.g. "quarry.v1.JobService") and `method`
  // ("SubmitJob"); it lives as long as this object.
  Method* ForMethod(absl::string_view service, absl::string_view method)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& errors_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_COMMON_RPC_METRICS_H_
