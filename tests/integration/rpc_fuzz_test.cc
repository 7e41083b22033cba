// Hostile requests to every RPC of a live leader (JobService and
// ClusterService, unary and server-streaming), sent as raw bytes through a
// generic stub: random bytes, mutated valid requests and requests filled
// with hostile values (tests/testing/request_fuzzer.h), from a seed that
// the test prints (QUARRY_RPC_FUZZ_SEED replays another). Every answer must
// be OK or an error of an expected code whose message is not empty (an
// INVALID_ARGUMENT names a field of the request); the leader must not
// crash or hang, its RSS must level off, and afterwards it must still run
// a real job to the exact result. Paths in submissions are kept inside the
// test's directory.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "tests/integration/rpc_fuzz_methods.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/confined_path.h"
#include "tests/testing/generic_caller.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/request_fuzzer.h"

namespace quarry::testing {
namespace {

constexpr int kRequests = 21'000;
constexpr absl::Duration kTimeBudget = absl::Seconds(120);
constexpr int kInFlight = 16;
constexpr absl::Duration kUnaryTimeout = absl::Seconds(10);
// A stream that sends nothing this long is ended by its deadline.
constexpr absl::Duration kStreamTimeout = absl::Milliseconds(250);
constexpr uint64_t kDefaultSeed = 14'2026;

uint64_t Seed() {
  uint64_t seed = kDefaultSeed;
  const char* text = std::getenv("QUARRY_RPC_FUZZ_SEED");
  if (text != nullptr && !absl::SimpleAtoi(text, &seed)) seed = kDefaultSeed;
  return seed;
}

// The leader's resident set in KiB (VmRSS), or -1.
int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kib = 0;
    if (absl::StartsWith(line, "VmRSS:") &&
        absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(
                                               line.substr(6)),
                                           " kB"),
                         &kib)) {
      return kib;
    }
  }
  return -1;
}

// A submission's paths moved under `root` (bytes that do not parse are
// passed on: the leader cannot read them either).
std::string ConfineSubmission(const std::string& bytes,
                              const std::string& root) {
  quarry::v1::SubmitJobRequest request;
  if (!request.ParseFromString(bytes)) return bytes;
  quarry::v1::JobSpec& spec = *request.mutable_spec();
  for (std::string& input : *spec.mutable_inputs()) {
    input = ConfinePath(root, input);
  }
  spec.set_output_dir(ConfinePath(root, spec.output_dir()));
  return request.SerializeAsString();
}

// What the calls answered: counts per method and code, and the answers
// that break the rules. Called on gRPC threads; guarded by `mu_`.
class Verdicts {
 public:
  void Record(const FuzzedMethod& method, bool request_parses,
              const CallOutcome& outcome) ABSL_LOCKS_EXCLUDED(mu_) {
    const std::string wrong = Judge(method, request_parses, outcome);
    absl::MutexLock lock(&mu_);
    const int code = outcome.status.error_code();
    ++counts_[method.name][code];
    examples_[code].emplace(outcome.status.error_message().substr(0, 24));
    ++answered_;
    if (wrong.empty()) return;
    ++failed_;
    const std::string kind = absl::StrCat(method.name, ": ", wrong);
    if (failures_.size() < 30 || failures_.count(kind) > 0) ++failures_[kind];
  }
  int answered() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return answered_;
  }
  int failed() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return failed_;
  }
  // Each kind of answer that breaks the rules (the first 30), with its
  // count.
  std::map<std::string, int> failures() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  // "SubmitJob: OK 120, INVALID_ARGUMENT 1200, ..." one line per method.
  std::string Summary() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::map<int, int>> counts_ ABSL_GUARDED_BY(mu_);
  // Some messages of each code, for the summary.
  std::map<int, std::set<std::string>> examples_ ABSL_GUARDED_BY(mu_);
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
};

std::string Verdicts::Summary() const {
  absl::MutexLock lock(&mu_);
  std::string text;
  for (const auto& [method, codes] : counts_) {
    absl::StrAppend(&text, method, ":");
    for (const auto& [code, count] : codes) {
      absl::StrAppend(&text, " ", CodeName(code), " ", count);
    }
    absl::StrAppend(&text, "\n");
  }
  for (const auto& [code, messages] : examples_) {
    int shown = 0;
    for (auto it = messages.begin(); it != messages.end() && shown < 6;
         ++it, ++shown) {
      absl::StrAppend(&text, "  e.g. ", CodeName(code), " \"", *it, "\"\n");
    }
  }
  return text;
}

class RpcFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Hostile strings that are not UTF-8 make protobuf log an error per
    // message serialized; the counts below say what happened.
    google::protobuf::SetLogHandler(nullptr);
    auto cluster = LocalCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    root_ = cluster_->dir() + "/fuzz-root";
    WriteFile(root_ + "/in/a.txt", "alpha beta\n");
    WriteFile(root_ + "/in/sub/b.txt", "gamma\n");
  }
  void TearDown() override {
    if (cluster_ != nullptr) EXPECT_TRUE(cluster_->Shutdown().ok());
  }

  // Cancels every unfinished job and deregisters every worker the fuzzing
  // left, so that the real job below runs alone on the real worker.
  void ClearFuzzedState();

  std::unique_ptr<LocalCluster> cluster_;
  std::string root_;
};

void RpcFuzzTest::ClearFuzzedState() {
  std::vector<std::string> unfinished;
  quarry::v1::ListJobsRequest list;
  list.set_page_size(1000);
  for (int page = 0; page < 100; ++page) {
    quarry::v1::ListJobsResponse jobs;
    ASSERT_TRUE(
        cluster_->jobs().ListJobs(cluster_->Context().get(), list, &jobs).ok());
    for (const quarry::v1::Job& job : jobs.jobs()) {
      if (job.state() == quarry::v1::JOB_STATE_PENDING ||
          job.state() == quarry::v1::JOB_STATE_RUNNING) {
        unfinished.push_back(job.id());
      }
    }
    if (jobs.next_page_token().empty()) break;
    list.set_page_token(jobs.next_page_token());
  }
  for (const std::string& id : unfinished) {
    quarry::v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    quarry::v1::CancelJobResponse cancelled;
    const grpc::Status status =
        cluster_->jobs().CancelJob(cluster_->Context().get(), cancel, &cancelled);
    EXPECT_TRUE(status.ok() ||
                status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
        << id << ": " << status.error_message();
  }
  absl::StatusOr<quarry::v1::GetClusterResponse> view = cluster_->GetCluster();
  ASSERT_TRUE(view.ok()) << view.status();
  for (const quarry::v1::Worker& worker : view->workers()) {
    quarry::v1::DeregisterWorkerRequest request;
    request.set_worker_id(worker.id());
    quarry::v1::DeregisterWorkerResponse response;
    cluster_->cluster().DeregisterWorker(cluster_->Context().get(), request,
                                         &response);
  }
}

TEST_F(RpcFuzzTest, HostileRequestsToEveryLeaderRpc) {
  const uint64_t seed = Seed();
  std::cout << "RPC fuzz seed " << seed
            << " (QUARRY_RPC_FUZZ_SEED=" << seed << " replays it)\n";
  RecordProperty("seed", std::to_string(seed));
  const std::vector<FuzzedMethod> methods = LeaderMethods(root_);
  ASSERT_GE(methods.size(), 15u);

  RequestFuzzer fuzzer(seed, root_);
  Verdicts verdicts;
  GenericCaller caller(grpc::CreateChannel(cluster_->leader_address(),
                                           grpc::InsecureChannelCredentials()),
                       kInFlight);
  const pid_t leader = cluster_->leader().pid();
  std::vector<int64_t> rss_kib;  // After each quarter of the requests.
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + kTimeBudget;
  int sent = 0;
  for (; sent < kRequests && absl::Now() < deadline; ++sent) {
    const FuzzedMethod& method = methods[sent % methods.size()];
    std::string request = fuzzer.Next(*method.request_type, method.seeds);
    if (method.name == "SubmitJob") request = ConfineSubmission(request, root_);
    const bool parses = RequestParses(method, request);
    caller.Start(method.path, request, method.server_streaming,
                 method.server_streaming ? kStreamTimeout : kUnaryTimeout,
                 [&verdicts, &method, parses](const CallOutcome& outcome) {
                   verdicts.Record(method, parses, outcome);
                 });
    if ((sent + 1) % (kRequests / 4) == 0) {
      ASSERT_TRUE(caller.WaitForAll(kUnaryTimeout + absl::Seconds(5)))
          << "calls still running: the leader hangs";
      rss_kib.push_back(RssKib(leader));
    }
  }
  ASSERT_TRUE(caller.WaitForAll(kUnaryTimeout + absl::Seconds(5)));
  const absl::Duration took = absl::Now() - start;
  std::cout << sent << " requests in " << absl::FormatDuration(took)
            << "; leader VmRSS after each quarter (KiB):";
  for (int64_t kib : rss_kib) std::cout << " " << kib;
  std::cout << "\n" << verdicts.Summary();

  EXPECT_EQ(sent, kRequests) << "the time budget ran out";
  EXPECT_EQ(verdicts.answered(), sent);
  EXPECT_EQ(verdicts.failed(), 0) << "answers that break the rules";
  for (const auto& [failure, count] : verdicts.failures()) {
    ADD_FAILURE() << count << " x " << failure;
  }
  ASSERT_FALSE(cluster_->leader().Wait(absl::ZeroDuration()).ok())
      << "the leader exited\n" << cluster_->LogTails();
  ASSERT_EQ(rss_kib.size(), 4u);
  // Jobs the fuzzing created stay in the store, so RSS may grow a little;
  // a leak per request would grow it by the same amount each quarter.
  const int64_t growth = rss_kib[3] - rss_kib[0];
  EXPECT_LE(growth, std::max<int64_t>(rss_kib[0] / 2, 64 << 10))
      << "leader RSS grew from " << rss_kib[0] << " to " << rss_kib[3] << " KiB";

  // Afterwards the leader still runs a real job to the exact result.
  ClearFuzzedState();
  ASSERT_TRUE(cluster_->StartWorker("worker-1", 2).ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok()) << cluster_->LogTails();
  const std::vector<std::string> files =
      WriteCorpus(cluster_->dir() + "/corpus", 12);
  quarry::v1::JobSpec spec;
  spec.set_kind("wordcount");
  spec.add_inputs(cluster_->dir() + "/corpus");
  spec.set_output_dir(cluster_->dir() + "/out");
  absl::StatusOr<std::string> job_id = cluster_->Submit(spec);
  ASSERT_TRUE(job_id.ok()) << job_id.status();
  absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(*job_id);
  ASSERT_TRUE(job.ok()) << job.status() << cluster_->LogTails();
  EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_DONE) << job->error();
  EXPECT_EQ(ReadFile(cluster_->dir() + "/out/result.tsv"),
            ReferenceWordCount(files));
}

}  // namespace
}  // namespace quarry::testing
