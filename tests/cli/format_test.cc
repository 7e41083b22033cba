#include "cli/format.h"

#include <string>

#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

quarry::v1::Job RunningJob() {
  quarry::v1::Job job;
  job.set_id("job-000003");
  job.set_state(quarry::v1::JOB_STATE_RUNNING);
  job.set_task_count(24);
  job.mutable_task_counts()->set_done(12);
  job.mutable_task_counts()->set_running(2);
  job.mutable_task_counts()->set_assigned(1);
  job.mutable_task_counts()->set_pending(9);
  return job;
}

TEST(ProgressLineTest, DrawsBarProportionalToDoneTasks) {
  // 91 columns leave room for a 20-character bar.
  EXPECT_EQ(RenderProgressLine(RunningJob(), 91, absl::Milliseconds(1200)),
            "job-000003 RUNNING [##########..........] 12/24 tasks  2 running  "
            "1 queued  0 failed  1.2s");
}

// Attempts a worker holds for a slot are queued, not running: 3 workers of
// 4 slots never show more than 12 running.
TEST(ProgressLineTest, CountsQueuedAttemptsApartFromRunningOnes) {
  quarry::v1::Job job = RunningJob();
  job.set_task_count(120);
  job.mutable_task_counts()->set_done(40);
  job.mutable_task_counts()->set_running(12);
  job.mutable_task_counts()->set_assigned(37);
  job.mutable_task_counts()->set_pending(31);
  EXPECT_EQ(RenderStatusLine(job, absl::Seconds(2)),
            "job-000003 RUNNING 40/120 tasks  12 running  37 queued  0 failed  "
            "2.0s");
  EXPECT_THAT(RenderProgressLine(job, 200, absl::Seconds(2)),
              HasSubstr("] 40/120 tasks  12 running  37 queued  0 failed"));
  // No queued attempts: no queued count.
  job.mutable_task_counts()->set_assigned(0);
  EXPECT_EQ(RenderStatusLine(job, absl::Seconds(2)),
            "job-000003 RUNNING 40/120 tasks  12 running  0 failed  2.0s");
}

TEST(ProgressLineTest, BarWidthFollowsTerminalWidth) {
  const std::string wide =
      RenderProgressLine(RunningJob(), 200, absl::Seconds(1));
  EXPECT_THAT(
      wide, HasSubstr("[" + std::string(20, '#') + std::string(20, '.') + "]"));
  for (int width : {200, 100, 80, 60, 40, 20, 5}) {
    const std::string line =
        RenderProgressLine(RunningJob(), width, absl::Seconds(1));
    EXPECT_LT(line.size(), static_cast<size_t>(width)) << line;
  }
  // Too narrow for a bar: the counts stay, cut at the width.
  EXPECT_EQ(RenderProgressLine(RunningJob(), 40, absl::Seconds(1)),
            "job-000003 RUNNING 12/24 tasks  2 runni");
  // Unknown width: 80 columns.
  EXPECT_EQ(RenderProgressLine(RunningJob(), 0, absl::Seconds(1)),
            RenderProgressLine(RunningJob(), 80, absl::Seconds(1)));
}

TEST(ProgressLineTest, EmptyAndFullJobs) {
  quarry::v1::Job job = RunningJob();
  job.set_task_count(0);
  job.clear_task_counts();
  job.set_state(quarry::v1::JOB_STATE_PENDING);
  EXPECT_EQ(RenderProgressLine(job, 70, absl::ZeroDuration()),
            "job-000003 PENDING [............] 0/0 tasks  0 running  0 "
            "failed  0ms");
  job.set_task_count(3);
  job.mutable_task_counts()->set_done(3);
  job.set_state(quarry::v1::JOB_STATE_DONE);
  EXPECT_THAT(RenderProgressLine(job, 70, absl::Seconds(75)),
              HasSubstr("DONE [#############] 3/3 tasks  0 running  0 "
                        "failed  1m15s"));
}

TEST(StatusLineTest, HasNoBar) {
  quarry::v1::Job job = RunningJob();
  job.mutable_task_counts()->set_failed(1);
  EXPECT_EQ(RenderStatusLine(job, absl::Seconds(3)),
            "job-000003 RUNNING 12/24 tasks  2 running  1 queued  1 failed  "
            "3.0s");
}

TEST(FormatTest, Durations) {
  EXPECT_EQ(HumanDuration(absl::Milliseconds(-5)), "0ms");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(850)), "850ms");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(1240)), "1.2s");
  EXPECT_EQ(HumanDuration(absl::Seconds(125)), "2m05s");
  EXPECT_EQ(HumanDuration(absl::Minutes(184)), "3h04m");
}

TEST(FormatTest, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(2 * 1024 * 1024), "2.0 MiB");
}

TEST(FormatTest, EnumNames) {
  EXPECT_EQ(JobStateName(quarry::v1::JOB_STATE_CANCELLED), "CANCELLED");
  EXPECT_EQ(ExecutionStatusName(quarry::v1::EXECUTION_STATUS_LOST), "LOST");
  EXPECT_EQ(WorkerStatusName(quarry::v1::WORKER_STATUS_SUSPECT), "SUSPECT");
  EXPECT_EQ(ClusterStatusName(quarry::v1::CLUSTER_STATUS_DEGRADED), "DEGRADED");
  EXPECT_TRUE(IsTerminal(quarry::v1::JOB_STATE_FAILED));
  EXPECT_FALSE(IsTerminal(quarry::v1::JOB_STATE_RUNNING));
}

TEST(FormatTest, TableAlignsColumns) {
  EXPECT_EQ(RenderTable({{"ID", "STATE", "KIND"},
                         {"job-000010", "DONE", "wordcount"},
                         {"job-9", "RUNNING", ""}}),
            "ID          STATE    KIND\n"
            "job-000010  DONE     wordcount\n"
            "job-9       RUNNING\n");
}

TEST(FormatTest, JobViewWithTasks) {
  quarry::v1::GetJobResponse response;
  quarry::v1::Job& job = *response.mutable_job();
  job = RunningJob();
  job.mutable_spec()->set_kind("grep");
  job.mutable_spec()->add_inputs("/data/in");
  (*job.mutable_spec()->mutable_settings())["pattern"] = "err";
  job.set_error("");
  *job.mutable_create_time() = ToProtoTime(absl::FromUnixSeconds(1000));
  *job.mutable_start_time() = ToProtoTime(absl::FromUnixSeconds(1001));
  quarry::v1::Task& task = *response.add_tasks();
  task.set_index(0);
  task.add_inputs("/data/in/a");
  task.set_status(quarry::v1::EXECUTION_STATUS_FAILED);
  task.set_attempts(3);
  task.set_worker_id("worker-2");
  task.set_error("no such\nfile");
  const std::string text =
      FormatJobView(response, absl::FromUnixSeconds(1003), absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("Job:      job-000003\n"));
  EXPECT_THAT(text, HasSubstr("State:    RUNNING\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "Tasks:    12/24 done  2 running  1 queued  9 pending  0 failed\n"));
  EXPECT_THAT(text, HasSubstr("Settings: pattern=err\n"));
  EXPECT_THAT(text, HasSubstr("Created:  1970-01-01 00:16:40\n"));
  EXPECT_THAT(text, HasSubstr("Ended:    -\n"));
  EXPECT_THAT(text, HasSubstr("Duration: 2.0s so far\n"));
  EXPECT_THAT(text, Not(HasSubstr("Error:")));
  EXPECT_THAT(
      text,
      HasSubstr(
          "INDEX  STATUS  ATTEMPTS  WORKER    INPUT       ERROR\n"
          "0      FAILED  3         worker-2  /data/in/a  no such file\n"));
}

TEST(FormatTest, JobListShowsNextPageToken) {
  quarry::v1::ListJobsResponse response;
  quarry::v1::Job& job = *response.add_jobs();
  job = RunningJob();
  job.mutable_spec()->set_kind("sha256");
  response.set_next_page_token("abc");
  const std::string text = FormatJobList(response, absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("job-000003  RUNNING  sha256  12/24  -\n"));
  EXPECT_THAT(text, HasSubstr("Next page: --page-token abc\n"));
  EXPECT_EQ(FormatJobList({}, absl::UTCTimeZone()), "No jobs.\n");
}

TEST(FormatTest, ResultListsFilesAndSummary) {
  quarry::v1::GetJobResultResponse response;
  response.set_job_id("job-000001");
  response.set_state(quarry::v1::JOB_STATE_DONE);
  response.set_output_dir("/out");
  quarry::v1::OutputFile& file = *response.add_files();
  file.set_path("/out/part-00000");
  file.set_size_bytes(2048);
  file.set_summary("12 lines");
  response.set_result_path("/out/result.tsv");
  response.set_result_summary("the 10\nof 7\n");
  const std::string text = FormatJobResult(response);
  EXPECT_THAT(text, HasSubstr("Job:      job-000001 (DONE)\n"));
  EXPECT_THAT(text, HasSubstr("0     2.0 KiB  /out/part-00000  12 lines\n"));
  EXPECT_THAT(text, HasSubstr("Result:   /out/result.tsv\n"));
  EXPECT_THAT(text, HasSubstr("Summary:\n  the 10\n  of 7\n"));
}

TEST(FormatTest, ClusterShowsWorkersAndBusySlots) {
  quarry::v1::GetClusterResponse response;
  response.set_status(quarry::v1::CLUSTER_STATUS_DEGRADED);
  response.set_slots_total(2);
  response.set_slots_used(1);
  response.set_slots_open(1);
  quarry::v1::Worker& worker = *response.add_workers();
  worker.set_id("worker-1");
  worker.set_address("127.0.0.1:7101");
  worker.set_status(quarry::v1::WORKER_STATUS_ALIVE);
  worker.set_slots(2);
  worker.set_heartbeat_age_ms(300);
  quarry::v1::SlotState& slot = *worker.add_slot_states();
  slot.set_index(1);
  slot.set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
  slot.set_attempt_id("job-000003.4.1");
  worker.add_slot_states()->set_index(0);
  quarry::v1::Worker& dead = *response.add_workers();
  dead.set_id("worker-2");
  dead.set_status(quarry::v1::WORKER_STATUS_DEAD);
  dead.set_slots(4);
  worker.add_kinds("exec");
  worker.add_kinds("grep");
  const std::string text = FormatCluster(response);
  EXPECT_THAT(text, HasSubstr("Cluster:  DEGRADED\n"));
  EXPECT_THAT(text, HasSubstr("Workers:  2 (1 alive)\n"));
  EXPECT_THAT(text, HasSubstr("Slots:    1 open, 1 used, 2 total\n"));
  EXPECT_THAT(
      text, HasSubstr("worker-1  127.0.0.1:7101  ALIVE   1/2    300ms ago\n"));
  EXPECT_THAT(text, HasSubstr("worker-2                  DEAD    0/4"));
  EXPECT_THAT(text, HasSubstr("Kinds:    exec, grep (worker-1)\n"));
  EXPECT_THAT(text, HasSubstr("Kinds:    (not reported) (worker-2)\n"));
  EXPECT_THAT(text, HasSubstr("Busy slots:\nWORKER    SLOT  STATUS   ATTEMPT\n"
                              "worker-1  1     RUNNING  job-000003.4.1\n"));
}

}  // namespace
}  // namespace quarry::cli
