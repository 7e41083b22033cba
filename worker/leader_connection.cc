#include "worker/leader_connection.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

namespace quarry::worker {
namespace {

// Logs the first failure of a streak, then every tenth.
bool ShouldLogFailure(int failures) {
  return failures == 1 || failures % 10 == 0;
}

}  // namespace

LeaderConnection::LeaderConnection(Options options, std::string worker_id,
                                   LeaderClient* leader, Callbacks callbacks)
    : options_(std::move(options)),
      worker_id_(std::move(worker_id)),
      leader_(leader),
      callbacks_(std::move(callbacks)) {}

LeaderConnection::~LeaderConnection() { Stop(); }

void LeaderConnection::Start() {
  CHECK(!thread_.joinable()) << "LeaderConnection::Start called twice";
  thread_ = std::thread([this] { Run(); });
}

void LeaderConnection::OnRegistered(int64_t registrations) {
  absl::MutexLock lock(&mu_);
  registrations_ = std::max(registrations_, registrations);
}

void LeaderConnection::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [id, state] : streams_) state.stream->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaderConnection::WaitForStats(
    const std::function<bool(const Stats&)>& done, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto check = [this, &done]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(stats_); };
  return mu_.AwaitWithTimeout(absl::Condition(&check), timeout);
}

LeaderConnection::Stats LeaderConnection::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

int64_t LeaderConnection::AwaitRegistration(int64_t after) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, after]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return registrations_ > after || stopping_;
  };
  mu_.Await(absl::Condition(&ready));
  return stopping_ ? -1 : registrations_;
}

bool LeaderConnection::SleepUnlessStopping(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  return stopping_;
}

absl::Time LeaderConnection::RenewalTime() const {
  return absl::Now() + options_.stream_timeout -
         std::min(options_.renew_before, options_.stream_timeout / 2);
}

void LeaderConnection::UpdateConnected() {
  stats_.connected = false;
  for (const auto& [id, state] : streams_) {
    if (state.connected && !state.ended) stats_.connected = true;
  }
}

std::unique_ptr<LeaderConnection::OpenStream> LeaderConnection::Open() {
  quarry::v1::ConnectWorkerRequest request;
  request.set_worker_id(worker_id_);
  auto open = std::make_unique<OpenStream>();
  open->stream = leader_->ConnectWorker(request, options_.stream_timeout);
  CommandStream* const stream = open->stream.get();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) stream->Cancel();
    open->id = ++last_stream_id_;
    streams_[open->id].stream = stream;
    ++stats_.streams_opened;
  }
  open->reader =
      std::thread([this, id = open->id, stream] { Read(id, stream); });
  return open;
}

void LeaderConnection::Read(int64_t id, CommandStream* stream) {
  quarry::v1::WorkerCommand command;
  while (stream->Read(&command)) {
    switch (command.kind()) {
      case quarry::v1::WorkerCommand::KIND_CONNECTED: {
        LOG(INFO) << "worker " << worker_id_ << " connected to the leader";
        absl::MutexLock lock(&mu_);
        streams_.at(id).connected = true;
        ++stats_.connects;
        UpdateConnected();
        break;
      }
      case quarry::v1::WorkerCommand::KIND_DRAIN: {
        LOG(INFO) << "the leader asks worker " << worker_id_ << " to drain";
        if (callbacks_.on_drain) callbacks_.on_drain();
        absl::MutexLock lock(&mu_);
        ++stats_.drains;
        break;
      }
      default:
        LOG(WARNING) << "ignoring unknown command from the leader: "
                     << command.ShortDebugString();
    }
  }
  const absl::Status status = stream->Finish();
  absl::MutexLock lock(&mu_);
  StreamState& state = streams_.at(id);
  state.ended = true;
  state.status = status;
  UpdateConnected();
}

LeaderConnection::Closed LeaderConnection::Close(
    std::unique_ptr<OpenStream> open) {
  open->stream->Cancel();
  open->reader.join();
  Closed closed;
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(open->id);
  closed.connected = it->second.connected;
  closed.status = it->second.status;
  streams_.erase(it);
  UpdateConnected();
  return closed;  // Destroys the stream, now that Stop() cannot see it.
}

absl::Time LeaderConnection::Renew(std::unique_ptr<OpenStream>& current) {
  std::unique_ptr<OpenStream> next = Open();
  bool connected = false;
  bool stopping = false;
  {
    absl::MutexLock lock(&mu_);
    const int64_t id = next->id;
    auto settled = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      const StreamState& state = streams_.at(id);
      return stopping_ || state.connected || state.ended;
    };
    mu_.AwaitWithTimeout(absl::Condition(&settled), options_.renew_before);
    connected = streams_.at(id).connected && !streams_.at(id).ended;
    stopping = stopping_;
  }
  if (stopping) {
    Close(std::move(next));
    return absl::InfiniteFuture();  // The caller sees stopping_ at once.
  }
  if (!connected) {
    const Closed failed = Close(std::move(next));
    LOG(WARNING) << "cannot renew the command stream to the leader ("
                 << failed.status << "); keeping the current one";
    return absl::Now() + options_.max_backoff;
  }
  // The leader now knows the new stream: the old one's end means nothing.
  std::swap(current, next);
  Close(std::move(next));
  absl::MutexLock lock(&mu_);
  ++stats_.renewals;
  return RenewalTime();
}

void LeaderConnection::Run() {
  absl::Duration backoff = options_.initial_backoff;
  int failures = 0;  // Streams in a row that ended without connecting.
  int64_t registration = AwaitRegistration(0);
  while (registration >= 0) {
    std::unique_ptr<OpenStream> current = Open();
    // Keep `current` (renewing it) until it ends or Stop().
    absl::Time renew_at = RenewalTime();
    bool stopping = false;
    while (true) {
      bool ended = false;
      {
        absl::MutexLock lock(&mu_);
        const int64_t id = current->id;
        auto done = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || streams_.at(id).ended;
        };
        mu_.AwaitWithDeadline(absl::Condition(&done), renew_at);
        stopping = stopping_;
        ended = streams_.at(id).ended;
      }
      if (stopping || ended) break;
      renew_at = Renew(current);
    }
    const Closed closed = Close(std::move(current));
    if (stopping) break;
    if (closed.connected) {
      failures = 0;
      backoff = options_.initial_backoff;
    }
    ++failures;
    if (absl::IsNotFound(closed.status)) {
      LOG(WARNING) << "the leader does not know worker " << worker_id_
                   << "; registering again (" << closed.status << ")";
      {
        absl::MutexLock lock(&mu_);
        ++stats_.not_found;
      }
      if (callbacks_.on_not_found) callbacks_.on_not_found(registration);
      registration = AwaitRegistration(registration);
      if (registration < 0) break;
    } else if (closed.connected || ShouldLogFailure(failures)) {
      LOG(WARNING) << "command stream to the leader ended"
                   << (closed.connected ? "" : " before it connected")
                   << " (try " << failures << "): " << closed.status
                   << "; reconnecting";
    }
    if (SleepUnlessStopping(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
    absl::MutexLock lock(&mu_);
    registration = registrations_;
  }
}

}  // namespace quarry::worker
