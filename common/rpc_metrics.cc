#include "common/rpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace quarry {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The metric families and, per method, its histogram (looked up once per
// method, then found by the address of the method's name, which gRPC keeps
// for the server's life). Thread-safe: the gRPC threads of all calls share
// it.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry& registry)
      : durations_(prometheus::BuildHistogram()
                       .Name("quarry_rpc_duration_seconds")
                       .Help("Time to handle a unary gRPC call, from its "
                             "arrival to its status, by method")
                       .Register(registry)),
        errors_(prometheus::BuildCounter()
                    .Name("quarry_rpc_errors_total")
                    .Help("Unary gRPC calls that ended with an error, by "
                          "method and status code")
                    .Register(registry)) {}

  prometheus::Histogram* Histogram(const char* method)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = histograms_.find(method);
      if (it != histograms_.end()) return it->second;
    }
    absl::MutexLock lock(&mu_);
    prometheus::Histogram*& histogram = histograms_[method];
    if (histogram == nullptr) {
      histogram = &durations_.Add({{"method", method}}, LatencyBuckets());
    }
    return histogram;
  }

  void CountError(const char* method, grpc::StatusCode code) {
    // grpc::StatusCode and absl::StatusCode share their numbering.
    errors_
        .Add({{"method", method},
              {"code",
               absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}})
        .Increment();
  }

 private:
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& errors_;
  absl::Mutex mu_;
  absl::flat_hash_map<const char*, prometheus::Histogram*> histograms_
      ABSL_GUARDED_BY(mu_);
};

// Times one call; created by gRPC when the call arrives.
class RpcTimer : public grpc::experimental::Interceptor {
 public:
  RpcTimer(RpcMetrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Histogram(method_)->Observe(
          absl::ToDoubleSeconds(absl::Now() - start_));
      const grpc::StatusCode code = methods->GetSendStatus().error_code();
      if (code != grpc::StatusCode::OK) metrics_->CountError(method_, code);
    }
    methods->Proceed();
  }

 private:
  RpcMetrics* const metrics_;
  const char* const method_;
  const absl::Time start_;
};

class RpcTimerFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcTimerFactory(Metrics* metrics) : metrics_(metrics->registry()) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
      return nullptr;
    }
    return new RpcTimer(&metrics_, info->method());
  }

 private:
  RpcMetrics metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(Metrics* metrics) {
  return std::make_unique<RpcTimerFactory>(metrics);
}

}  // namespace quarry
