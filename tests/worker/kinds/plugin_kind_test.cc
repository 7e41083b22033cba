// The adapter between JobKind and a plugin's C functions, driven with
// plain C functions of this file (no shared object needed).
#include "worker/kinds/plugin_kind.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/worker/kinds/kind_test_util.h"
#include "tests/worker/test_util.h"

namespace quarry::worker {
namespace {

using ::testing::HasSubstr;
using testing::KindRun;
using testing::MakeAssignment;
using testing::RunKind;
using ::testing::StartsWith;

KindSpec TestSpec() {
  KindSpec spec;
  spec.name = "test-kind";
  spec.settings = {{"level", SettingType::kInteger, false, 0, 10, "a level"},
                   {"mode", SettingType::kString, false, 0, 16, "a mode"},
                   DelaySetting()};
  return spec;
}

int Write(const quarry_call_v1* call, const std::string& text) {
  return call->write(call->host, text.data(), text.size());
}

// Writes "<input>|<input count>|<settings>\n" and counts calls in the
// summary.
int Echo(const quarry_call_v1* call) {
  std::string line;
  for (size_t i = 0; i < call->input_count; ++i) {
    absl::StrAppend(&line, i > 0 ? "," : "", call->inputs[i]);
  }
  absl::StrAppend(&line, "|", call->input_count, "|");
  for (size_t i = 0; i < call->setting_count; ++i) {
    absl::StrAppend(&line, call->settings[i].key, "=", call->settings[i].value,
                    ";");
  }
  const int calls = std::atoi(call->summary) + 1;
  std::snprintf(call->summary, call->summary_size, "%d calls", calls);
  return Write(call, line + "\n");
}

int FailWithMessage(const quarry_call_v1* call) {
  std::snprintf(call->error, call->error_size, "boom on %s", call->inputs[0]);
  return 2;
}

int FailWithoutMessage(const quarry_call_v1*) { return 7; }

int FailWithFullBuffer(const quarry_call_v1* call) {
  std::memset(call->error, 'x', call->error_size);  // No NUL at all.
  return 1;
}

int FailWithControlBytes(const quarry_call_v1* call) {
  std::snprintf(call->error, call->error_size, "bad\n\x01\xff end");
  return 1;
}

absl::Notification* running = nullptr;
// Runs until cancelled.
int WaitForCancel(const quarry_call_v1* call) {
  running->Notify();
  while (!call->cancelled(call->host)) std::this_thread::yield();
  return 1;
}

int WriteThenFail(const quarry_call_v1* call) {
  if (Write(call, "data") != 0) {
    std::snprintf(call->error, call->error_size, "cannot write");
    return 1;
  }
  return 0;
}

bool called = false;
int RecordCall(const quarry_call_v1*) {
  called = true;
  return 0;
}

class FailingOutput : public OutputSink {
 public:
  absl::Status Write(absl::string_view) override {
    return absl::ResourceExhaustedError("disk full");
  }
};

quarry::v1::Assignment Assignment(
    std::vector<std::string> inputs,
    std::vector<std::pair<std::string, std::string>> settings = {}) {
  return MakeAssignment("job-000001.0.1", "test-kind", std::move(inputs), "",
                        std::move(settings));
}

TEST(PluginKindTest, MapRunsOncePerInputInOrderIntoOneOutput) {
  auto kind = NewPluginKind(TestSpec(), &Echo, /*is_reduce=*/false);
  KindRun run = RunKind(
      *kind, Assignment({"/in/b", "/in/a"},
                        {{"mode", "fast"}, {"level", "3"}, {"delay_ms", "0"}}));
  ASSERT_TRUE(run.status.ok()) << run.status;
  // Declared settings only (no delay_ms), sorted by key.
  EXPECT_EQ(run.output,
            "/in/b|1|level=3;mode=fast;\n/in/a|1|level=3;mode=fast;\n");
  EXPECT_EQ(run.summary, "2 calls");
}

TEST(PluginKindTest, ReduceRunsOnceWithEveryPart) {
  auto kind = NewPluginKind(TestSpec(), &Echo, /*is_reduce=*/true);
  KindRun run =
      RunKind(*kind, Assignment({"/out/part-00000", "/out/part-00001"}));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "/out/part-00000,/out/part-00001|2|\n");
  EXPECT_EQ(run.summary, "1 calls");
}

TEST(PluginKindTest, ErrorBecomesTheAttemptsErrorNamingThePlugin) {
  auto kind = NewPluginKind(TestSpec(), &FailWithMessage, false);
  KindRun run = RunKind(*kind, Assignment({"/in/a"}));
  EXPECT_FALSE(run.status.ok());
  EXPECT_EQ(run.status.message(), "plugin test-kind: boom on /in/a");
}

TEST(PluginKindTest, ErrorWithoutMessageGivesTheCode) {
  auto kind = NewPluginKind(TestSpec(), &FailWithoutMessage, false);
  KindRun run = RunKind(*kind, Assignment({"/in/a"}));
  EXPECT_EQ(run.status.message(),
            "plugin test-kind: failed with code 7 and no message");
}

TEST(PluginKindTest, ErrorTextIsBoundedAndEscaped) {
  auto full = NewPluginKind(TestSpec(), &FailWithFullBuffer, false);
  KindRun run = RunKind(*full, Assignment({"/in/a"}));
  EXPECT_THAT(std::string(run.status.message()),
              StartsWith("plugin test-kind: xxxx"));
  EXPECT_LE(run.status.message().size(), kPluginErrorBytes + 64);

  auto binary = NewPluginKind(TestSpec(), &FailWithControlBytes, false);
  run = RunKind(*binary, Assignment({"/in/a"}));
  EXPECT_EQ(run.status.message(), "plugin test-kind: bad\\x0a\\x01\\xff end");

  // A long escaped message is cut and marked.
  const std::string ones(kPluginErrorBytes, '\x01');
  EXPECT_THAT(PluginError("k", ones.data(), ones.size(), 1),
              HasSubstr("\\x01..."));
  EXPECT_LE(PluginError("k", ones.data(), ones.size(), 1).size(),
            kPluginErrorBytes + 16);
}

TEST(PluginKindTest, CancelStopsAPluginThatPolls) {
  absl::Notification started;
  running = &started;
  auto kind = NewPluginKind(TestSpec(), &WaitForCancel, false);
  CancelFlag cancel;
  std::thread canceller([&] {
    started.WaitForNotification();
    cancel.Cancel();
  });
  KindRun run = RunKind(*kind, Assignment({"/in/a", "/in/b"}), &cancel);
  canceller.join();
  EXPECT_EQ(run.status.code(), absl::StatusCode::kCancelled) << run.status;
  running = nullptr;
}

TEST(PluginKindTest, FailedWriteReportsTheWritersError) {
  auto kind = NewPluginKind(TestSpec(), &WriteThenFail, false);
  const quarry::v1::Assignment assignment = Assignment({"/in/a"});
  CancelFlag never;
  FailingOutput output;
  const std::string no_file;
  AttemptLog log;
  absl::StatusOr<std::string> result = kind->Run(
      KindContext{assignment, never, output, no_file, &log, BeneathOpener()});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(result.status().message(), "disk full");
}

TEST(PluginKindTest, BadSettingsAreRefusedBeforeThePluginRuns) {
  called = false;
  auto kind = NewPluginKind(TestSpec(), &RecordCall, false);
  KindRun run = RunKind(*kind, Assignment({"/in/a"}, {{"level", "99"}}));
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(run.status.message()), HasSubstr("settings.level"));
  run = RunKind(*kind, Assignment({"/in/a"}, {{"nosuch", "1"}}));
  EXPECT_THAT(std::string(run.status.message()), HasSubstr("settings.nosuch"));
  run = RunKind(*kind, Assignment({}));
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace quarry::worker
