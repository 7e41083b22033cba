#include "tests/integration/rpc_fuzz_methods.h"

#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/message.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry::testing {
namespace {

using google::protobuf::Descriptor;

// Text-format seeds per method; ROOT stands for the test's directory.
const std::map<std::string, std::vector<std::string>>& Seeds() {
  static const auto* const kSeeds =
      new std::map<std::string, std::vector<std::string>>{
          {"SubmitJob",
           {R"(spec { kind: "noop" settings { key: "tasks" value: "3" } })",
            R"(spec { kind: "wordcount" inputs: "ROOT/in" output_dir: "ROOT/out-1" })",
            R"(spec { kind: "grep" inputs: "ROOT/in/a.txt" output_dir: "ROOT/out-2"
                      settings { key: "pattern" value: "a+" } overwrite: true
                      max_attempts: 2 bytes_per_task: 10 })",
            R"(spec { kind: "exec" settings { key: "tasks" value: "2" }
                      command: "/bin/echo" command: "{index}"
                      reduce: "cat {parts}" output_dir: "ROOT/out-3" })",
            R"(spec { kind: "sleep" settings { key: "ms" value: "60000" }
                      settings { key: "tasks" value: "2" }
                      task_timeout { seconds: 5 } })"}},
          {"GetJob",
           {R"(job_id: "job-000001" include_tasks: true include_attempts: true)"}},
          {"ListJobs",
           {R"(state: JOB_STATE_PENDING page_size: 5 page_token: "job-000002")"}},
          {"GetJobResult", {R"(job_id: "job-000002")"}},
          {"CancelJob", {R"(job_id: "job-000003")"}},
          {"WatchJob", {R"(job_id: "job-000001")"}},
          {"GetAttemptLog",
           {R"(job_id: "job-000001" task_index: 0 attempt_id: "job-000001.0.1")"}},
          {"ListHistory",
           {R"(state: JOB_STATE_DONE kind: "noop" page_size: 10
               end_after { seconds: 1 } end_before { seconds: 2000000000 })"}},
          {"RegisterWorker",
           {R"(worker_id: "fuzz-w1" address: "127.0.0.1:1" slots: 2 queue: 4
               kinds: "noop" labels { key: "zone" value: "a" }
               plugin_kinds { name: "hist" needs_inputs: true
                 settings { name: "buckets" type: SETTING_TYPE_INTEGER
                            min_value: 1 max_value: 64 } })"}},
          {"ReportWorkerState",
           {R"(worker_id: "fuzz-w1" draining: false
               attempts { attempt_id: "job-000001.0.1" job_id: "job-000001"
                          task_index: 0 slot: 0 status: EXECUTION_STATUS_DONE })"}},
          {"GetCluster", {""}},
          {"ConnectWorker", {R"(worker_id: "fuzz-w1")"}},
          {"RequestCommit",
           {R"(worker_id: "fuzz-w1" attempt_id: "job-000001.0.1")"}},
          {"DrainWorker", {R"(worker_id: "fuzz-w2")"}},
          {"DeregisterWorker", {R"(worker_id: "fuzz-w3")"}},
      };
  return *kSeeds;
}

void AddFieldNames(const Descriptor& type, int depth,
                   std::set<std::string>& names) {
  for (int i = 0; i < type.field_count(); ++i) {
    names.insert(type.field(i)->name());
    if (type.field(i)->message_type() != nullptr && depth < 4) {
      AddFieldNames(*type.field(i)->message_type(), depth + 1, names);
    }
  }
}

// Whether some word of `message` (runs of [A-Za-z0-9_]) is in `names`.
bool NamesOneOf(const std::string& message,
                const std::set<std::string>& names) {
  std::string word;
  for (const char c : message + " ") {
    if (absl::ascii_isalnum(c) || c == '_') {
      word.push_back(c);
    } else if (!word.empty()) {
      if (names.count(word) > 0) return true;
      word.clear();
    }
  }
  return false;
}

}  // namespace

std::vector<FuzzedMethod> LeaderMethods(const std::string& root) {
  std::vector<FuzzedMethod> methods;
  for (const char* service : {"quarry.v1.JobService", "quarry.v1.ClusterService"}) {
    const google::protobuf::ServiceDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service);
    for (int i = 0; descriptor != nullptr && i < descriptor->method_count(); ++i) {
      const google::protobuf::MethodDescriptor& rpc = *descriptor->method(i);
      FuzzedMethod method;
      method.name = rpc.name();
      method.path = absl::StrCat("/", service, "/", rpc.name());
      method.request_type = rpc.input_type();
      method.server_streaming = rpc.server_streaming();
      auto seeds = Seeds().find(method.name);
      if (seeds != Seeds().end()) {
        for (const std::string& seed : seeds->second) {
          method.seeds.push_back(absl::StrReplaceAll(seed, {{"ROOT", root}}));
        }
      }
      AddFieldNames(*method.request_type, 0, method.field_names);
      methods.push_back(std::move(method));
    }
  }
  return methods;
}

bool RequestParses(const FuzzedMethod& method, const std::string& request) {
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.request_type)
          ->New());
  return message->ParseFromString(request);
}

std::string CodeName(int code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
      "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  if (code < 0 || code > 16) return absl::StrCat("code ", code);
  return kNames[code];
}

std::string Judge(const FuzzedMethod& method, bool request_parses,
                  const CallOutcome& outcome) {
  const grpc::Status& status = outcome.status;
  const grpc::StatusCode code = status.error_code();
  if (status.ok()) return "";
  if (method.server_streaming &&
      (outcome.cancelled_after_response ||
       code == grpc::StatusCode::DEADLINE_EXCEEDED)) {
    return "";
  }
  // Bytes that are no message of the request type never reach the
  // leader's code: gRPC itself answers them, INTERNAL from a synchronous
  // handler and UNIMPLEMENTED from a callback one, without a message.
  if (!request_parses && (code == grpc::StatusCode::INTERNAL ||
                          code == grpc::StatusCode::UNIMPLEMENTED)) {
    return "";
  }
  const std::string described =
      absl::StrCat(CodeName(code), " \"", status.error_message(), "\"",
                   request_parses ? "" : " (request does not parse)");
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT: {
      std::set<std::string> names = method.field_names;
      names.insert("request");
      if (!NamesOneOf(status.error_message(), names)) {
        return absl::StrCat(described, " names no field of the request");
      }
      return "";
    }
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE:
      break;
    case grpc::StatusCode::UNAVAILABLE:
      // The log's worker is gone; a newer ConnectWorker of that worker id
      // took the stream over.
      if (method.name == "GetAttemptLog" || method.name == "ConnectWorker") {
        break;
      }
      return described;
    default:
      return described;
  }
  if (status.error_message().empty()) {
    return absl::StrCat(described, " without a message");
  }
  return "";
}

}  // namespace quarry::testing
