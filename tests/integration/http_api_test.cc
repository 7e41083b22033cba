// The HTTP/JSON API of a real leader with real workers: every curl example
// of docs/http.md, the errors of bad requests, a wordcount followed by
// Server-Sent Events whose result equals the gRPC path's, and auth.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quarry/v1/http.pb.h"
#include "tests/integration/http_test_util.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_servers.h"

namespace quarry::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Writes `files` small text files under `dir`.
void WriteCorpus(const std::string& dir, int files) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < files; ++i) {
    WriteFile(absl::StrCat(dir, "/part-", i, ".txt"),
              absl::StrCat("the quick brown fox ", i, " jumps over the lazy ",
                           "dog\nand the dog sleeps ", i % 3, "\n"));
  }
}

// One example of docs/http.md: a curl command and its documented answer.
struct DocExample {
  std::string command;
  int status = 0;
  bool events = false;             // "with events": a text/event-stream.
  std::vector<std::string> keys;   // Top-level fields of the JSON body.
};

// The ```sh blocks of `markdown` that run curl, each with the "Answer:"
// line under it. A curl block without one fails the test.
std::vector<DocExample> ParseExamples(const std::string& markdown) {
  std::vector<DocExample> examples;
  const std::vector<std::string> lines = absl::StrSplit(markdown, '\n');
  const std::regex answer(R"(^Answer: (\d{3}) with (events|\{(.*)\})$)");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != "```sh") continue;
    std::string command;
    size_t end = i + 1;
    for (; end < lines.size() && lines[end] != "```"; ++end) {
      absl::StrAppend(&command, lines[end], "\n");
    }
    i = end;
    if (!absl::StrContains(command, "curl")) continue;
    std::smatch match;
    const std::string next = end + 1 < lines.size() ? lines[end + 1] : "";
    if (!std::regex_match(next, match, answer)) {
      ADD_FAILURE() << "no Answer: line under the example\n" << command;
      continue;
    }
    DocExample example;
    example.command = std::string(absl::StripSuffix(command, "\n"));
    example.status = std::stoi(match[1].str());
    example.events = match[2].str() == "events";
    for (absl::string_view key :
         absl::StrSplit(match[3].str(), ", ", absl::SkipEmpty())) {
      example.keys.emplace_back(absl::StripPrefix(
          absl::StripSuffix(key, "\""), "\""));
    }
    std::sort(example.keys.begin(), example.keys.end());
    examples.push_back(std::move(example));
  }
  return examples;
}

class HttpApiTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    absl::StatusOr<HttpCluster> http =
        StartHttpCluster(std::move(flags), /*workers=*/2, /*slots=*/2);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
  }

  void TearDown() override {
    if (http_.cluster != nullptr) {
      absl::Status stopped = http_.cluster->Shutdown();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  HttpCluster http_;
};

TEST_F(HttpApiTest, DocExamples) {
  absl::StatusOr<std::unique_ptr<TestServer>> postgres =
      TestServer::Start(TestServer::Kind::kPostgres);
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  Start({"--history=" + (*postgres)->url()});
  const std::string in = http_.cluster->dir() + "/in";
  const std::string out = http_.cluster->dir() + "/out";
  WriteCorpus(in, 6);
  std::filesystem::create_directories(out);

  const std::vector<DocExample> examples =
      ParseExamples(ReadAll(QUARRY_SOURCE_DIR "/docs/http.md"));
  ASSERT_GE(examples.size(), 12u);
  const std::string body_file = http_.cluster->dir() + "/body";
  for (const DocExample& example : examples) {
    SCOPED_TRACE(example.command);
    const std::string command = absl::StrCat(
        "export QUARRY_HTTP=", http_.base_url(),
        " QUARRY_TOKEN=any-token-will-do; ",
        absl::StrReplaceAll(example.command,
                            {{"/data/in", in}, {"/data/out", out}}),
        " --max-time 60 -o ", body_file, " -w '%{http_code}'");
    std::string output;
    absl::StatusOr<int> code =
        RunCommand({"/bin/bash", "-c", command}, &output, absl::Seconds(90));
    ASSERT_TRUE(code.ok()) << code.status();
    ASSERT_EQ(*code, 0) << output;
    const std::string body = ReadAll(body_file);
    EXPECT_EQ(output, absl::StrCat(example.status)) << body;
    if (example.events) {
      EXPECT_THAT(body, HasSubstr("data: {\"job\":"));
      EXPECT_THAT(body, HasSubstr("\"state\":\"JOB_STATE_DONE\""));
      EXPECT_THAT(body, HasSubstr("event: end\ndata: {\"code\":0"));
      continue;
    }
    absl::StatusOr<std::vector<std::string>> keys = TopLevelKeys(body);
    ASSERT_TRUE(keys.ok()) << keys.status() << "\n" << body;
    EXPECT_THAT(*keys, ElementsAreArray(example.keys)) << body;
  }
}

// A request of method `method` to `path` with `body`; the reply.
httplib::Result Send(httplib::Client& client, const std::string& method,
                     const std::string& path, const std::string& body = "") {
  if (method == "POST") {
    return client.Post(path.c_str(), body, "application/json");
  }
  return client.Get(path.c_str());
}

// The HttpError of a reply, checking its HTTP status.
quarry::v1::HttpError ErrorOf(const httplib::Result& result, int status) {
  quarry::v1::HttpError error;
  EXPECT_TRUE(result) << httplib::to_string(result.error());
  if (!result) return error;
  EXPECT_EQ(result->status, status) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(FromJson(result->body, &error).ok()) << result->body;
  return error;
}

TEST_F(HttpApiTest, BadRequestsGet400NamingTheProblem) {
  Start();
  std::unique_ptr<httplib::Client> client = http_.Client();
  quarry::v1::HttpError error =
      ErrorOf(Send(*client, "POST", "/v1/jobs", "{\"kind\": "), 400);
  EXPECT_EQ(error.status(), "INVALID_ARGUMENT");
  EXPECT_THAT(error.message(), HasSubstr("not a valid quarry.v1.JobSpec"));

  error = ErrorOf(
      Send(*client, "POST", "/v1/jobs", R"({"kind": "sleep", "colour": 1})"),
      400);
  EXPECT_THAT(error.message(), HasSubstr("colour"));

  error = ErrorOf(Send(*client, "POST", "/v1/jobs",
                       R"({"kind": "sleep", "maxAttempts": "many"})"),
                  400);
  EXPECT_THAT(error.message(), HasSubstr("max_attempts"));

  error = ErrorOf(Send(*client, "POST", "/v1/jobs",
                       std::string(5 << 20, ' ') + "{}"),
                  400);
  EXPECT_THAT(error.message(), HasSubstr("--max_request_bytes"));

  // The same validation as gRPC SubmitJob: its message, word for word.
  error = ErrorOf(Send(*client, "POST", "/v1/jobs", R"({"kind": "sleep"})"),
                  400);
  quarry::v1::SubmitJobRequest request;
  request.mutable_spec()->set_kind("sleep");
  quarry::v1::SubmitJobResponse response;
  grpc::Status grpc_status = http_.cluster->jobs().SubmitJob(
      http_.cluster->Context().get(), request, &response);
  EXPECT_EQ(error.code(), grpc_status.error_code());
  EXPECT_EQ(error.message(), grpc_status.error_message());

  error = ErrorOf(Send(*client, "GET", "/v1/jobs?page_size=ten"), 400);
  EXPECT_THAT(error.message(), HasSubstr("page_size"));
  error = ErrorOf(Send(*client, "GET", "/v1/jobs/job-000001/tasks/x/log"),
                  400);
  EXPECT_THAT(error.message(), HasSubstr("task index"));
  error = ErrorOf(Send(*client, "GET", "/v1/nothing/here"), 404);
  EXPECT_THAT(error.message(), HasSubstr("no route GET /v1/nothing/here"));
  error = ErrorOf(Send(*client, "GET", "/v1/jobs/job-000001:cancel"), 405);
  EXPECT_THAT(error.message(), HasSubstr("use POST"));
  error = ErrorOf(Send(*client, "GET", "/v1/jobs/job-000042/events"), 404);
  EXPECT_EQ(error.status(), "NOT_FOUND");
}

// The JobEvents of a /v1/jobs/{id}/events stream, as they arrive, and the
// final HttpError of its "event: end" frame.
struct EventStream {
  std::vector<quarry::v1::JobEvent> events;
  std::optional<quarry::v1::HttpError> end;
  std::string error;  // A frame that did not parse.
};

EventStream FollowEvents(httplib::Client& client, const std::string& job_id) {
  EventStream stream;
  std::string buffer;
  auto result = client.Get(
      absl::StrCat("/v1/jobs/", job_id, "/events").c_str(),
      [&](const char* data, size_t length) {
        buffer.append(data, length);
        for (size_t end = buffer.find("\n\n"); end != std::string::npos;
             end = buffer.find("\n\n")) {
          const std::string frame = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          if (absl::StartsWith(frame, "data: ")) {
            quarry::v1::JobEvent event;
            if (!FromJson(frame.substr(6), &event).ok()) stream.error = frame;
            stream.events.push_back(event);
          } else if (absl::StartsWith(frame, "event: end\ndata: ")) {
            quarry::v1::HttpError error;
            if (!FromJson(frame.substr(17), &error).ok()) stream.error = frame;
            stream.end = error;
          }
        }
        return true;
      });
  if (!result) stream.error = httplib::to_string(result.error());
  return stream;
}

TEST_F(HttpApiTest, WordcountFollowedByEventsMatchesTheGrpcPath) {
  Start();
  const std::string in = http_.cluster->dir() + "/in";
  WriteCorpus(in, 12);
  std::unique_ptr<httplib::Client> client = http_.Client();
  auto submitted = client->Post(
      "/v1/jobs",
      absl::StrCat(R"({"kind": "wordcount", "inputs": [")", in,
                   R"("], "outputDir": ")", http_.cluster->dir(),
                   R"(/out-http"})"),
      "application/json");
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  quarry::v1::SubmitJobResponse job;
  ASSERT_TRUE(FromJson(submitted->body, &job).ok()) << submitted->body;

  const EventStream stream = FollowEvents(*client, job.job_id());
  EXPECT_EQ(stream.error, "");
  ASSERT_FALSE(stream.events.empty());
  EXPECT_EQ(stream.events.back().job().state(), quarry::v1::JOB_STATE_DONE);
  ASSERT_TRUE(stream.end.has_value());
  EXPECT_EQ(stream.end->code(), 0);
  int64_t last_done = -1;
  for (const quarry::v1::JobEvent& event : stream.events) {
    EXPECT_EQ(event.job().id(), job.job_id());
    EXPECT_GE(event.job().task_counts().done(), last_done);  // Only grows.
    last_done = event.job().task_counts().done();
  }

  // The HTTP result is the gRPC result of the same job...
  auto result = client->Get(
      absl::StrCat("/v1/jobs/", job.job_id(), "/result").c_str());
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  quarry::v1::GetJobResultResponse over_http;
  ASSERT_TRUE(FromJson(result->body, &over_http).ok());
  quarry::v1::GetJobResultRequest get;
  get.set_job_id(job.job_id());
  quarry::v1::GetJobResultResponse over_grpc;
  ASSERT_TRUE(http_.cluster->jobs()
                  .GetJobResult(http_.cluster->Context().get(), get,
                                &over_grpc)
                  .ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(over_http,
                                                                 over_grpc))
      << over_http.DebugString() << "\n" << over_grpc.DebugString();

  // ...and equals, byte for byte, that of the same job submitted over gRPC.
  quarry::v1::JobSpec spec;
  spec.set_kind("wordcount");
  spec.add_inputs(in);
  spec.set_output_dir(http_.cluster->dir() + "/out-grpc");
  absl::StatusOr<std::string> grpc_job = http_.cluster->Submit(spec);
  ASSERT_TRUE(grpc_job.ok()) << grpc_job.status();
  absl::StatusOr<quarry::v1::Job> done = http_.cluster->WaitForJob(*grpc_job);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), quarry::v1::JOB_STATE_DONE);
  get.set_job_id(*grpc_job);
  quarry::v1::GetJobResultResponse grpc_result;
  ASSERT_TRUE(http_.cluster->jobs()
                  .GetJobResult(http_.cluster->Context().get(), get,
                                &grpc_result)
                  .ok());
  ASSERT_FALSE(over_http.result_path().empty());
  EXPECT_EQ(ReadAll(over_http.result_path()),
            ReadAll(grpc_result.result_path()));
  EXPECT_FALSE(ReadAll(over_http.result_path()).empty());
  EXPECT_EQ(over_http.result_summary(), grpc_result.result_summary());
}

constexpr char kUser[] = "user-token-0123456789abcdef";
constexpr char kReader[] = "reader-token-0123456789abcd";

TEST_F(HttpApiTest, SameAuthAsGrpc) {
  TempDir dir;
  const std::string auth_file = dir.Join("auth");
  WriteFile(auth_file, absl::StrCat("alice user ", kUser, "\nwatch reader ",
                                    kReader, "\n"));
  chmod(auth_file.c_str(), 0600);
  absl::StatusOr<HttpCluster> http =
      StartHttpCluster({"--auth_file=" + auth_file}, /*workers=*/0, 0);
  ASSERT_TRUE(http.ok()) << http.status();
  http_ = *std::move(http);
  std::unique_ptr<httplib::Client> client = http_.Client();
  const std::string spec =
      R"({"kind": "sleep", "settings": {"ms": "1", "tasks": "1"}})";

  quarry::v1::HttpError error = ErrorOf(client->Get("/v1/cluster"), 401);
  EXPECT_EQ(error.status(), "UNAUTHENTICATED");
  EXPECT_THAT(error.message(), Not(HasSubstr(kUser)));
  error = ErrorOf(client->Get("/v1/jobs/job-000001/events"), 401);

  client->set_bearer_token_auth(kReader);
  EXPECT_EQ(client->Get("/v1/cluster")->status, 200);
  error = ErrorOf(client->Post("/v1/jobs", spec, "application/json"), 403);
  EXPECT_THAT(error.message(), HasSubstr("needs role user"));

  client->set_bearer_token_auth(kUser);
  auto submitted = client->Post("/v1/jobs", spec, "application/json");
  ASSERT_TRUE(submitted);
  EXPECT_EQ(submitted->status, 201) << submitted->body;
  auto got = client->Get("/v1/jobs/job-000001");
  ASSERT_TRUE(got);
  quarry::v1::GetJobResponse response;
  ASSERT_TRUE(FromJson(got->body, &response).ok()) << got->body;
  EXPECT_EQ(response.job().owner(), "alice");

  client->set_bearer_token_auth("not-a-known-token-at-all");
  ErrorOf(client->Get("/v1/jobs"), 401);
}

TEST(HttpListenTest, ANonLoopbackHttpAddressNeedsAuthOrInsecure) {
  std::string output;
  absl::StatusOr<int> code = RunCommand(
      {LeaderBinary(), "--listen=127.0.0.1:0", "--http_listen=0.0.0.0:0"},
      &output, absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2) << output;
  EXPECT_THAT(output, HasSubstr("--http_listen=0.0.0.0:0 is not a loopback "
                                "address and there is no --auth_file"));
}

}  // namespace
}  // namespace quarry::testing
