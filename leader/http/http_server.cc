#include "leader/http/http_server.h"

#include <httplib.h>

#include <glog/logging.h>

#include <regex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leader/http/dashboard_assets.h"
#include "leader/http/http_status.h"

namespace quarry {
namespace {

// How long an idle event stream waits before a keep-alive comment, which
// also finds clients that have gone.
constexpr absl::Duration kKeepAliveEvery = absl::Seconds(10);
// Bounds how long Stop() waits for idle keep-alive connections.
constexpr time_t kKeepAliveTimeoutSeconds = 2;

// One route of docs/http.md: method, path pattern (placeholders as
// regex groups) and the HttpApi method that answers it.
struct Route {
  const char* method;
  const char* pattern;
  HttpReply (HttpApi::*answer)(const HttpRequest&) const;
};

constexpr char kJobId[] = "([^/:]+)";

const Route* Routes(size_t* count) {
  static const std::string job = absl::StrCat("/v1/jobs/", kJobId);
  static const std::string get_job = job;
  static const std::string result = job + "/result";
  static const std::string cancel = job + ":cancel";
  static const std::string log = job + "/tasks/([^/]+)/log";
  static const Route routes[] = {
      {"POST", "/v1/jobs", &HttpApi::SubmitJob},
      {"GET", "/v1/jobs", &HttpApi::ListJobs},
      {"GET", get_job.c_str(), &HttpApi::GetJob},
      {"GET", result.c_str(), &HttpApi::GetJobResult},
      {"POST", cancel.c_str(), &HttpApi::CancelJob},
      {"GET", log.c_str(), &HttpApi::GetTaskLog},
      {"GET", "/v1/cluster", &HttpApi::GetCluster},
      {"GET", "/v1/history", &HttpApi::ListHistory},
  };
  *count = sizeof(routes) / sizeof(routes[0]);
  return routes;
}

const std::string& EventsPattern() {
  static const std::string pattern =
      absl::StrCat("/v1/jobs/", kJobId, "/events");
  return pattern;
}

HttpRequest RequestOf(const httplib::Request& req) {
  HttpRequest request;
  if (req.has_header("Authorization")) {
    request.authorization = req.get_header_value("Authorization");
  }
  for (size_t i = 1; i < req.matches.size(); ++i) {
    request.path.push_back(req.matches[i].str());
  }
  // The URL's query only: httplib also adds the fields of a form-encoded
  // body (curl -d's default type) to req.params.
  if (const size_t question = req.target.find('?');
      question != std::string::npos) {
    httplib::detail::parse_query_text(req.target.substr(question + 1),
                                      request.query);
  }
  request.body = req.body;
  return request;
}

void Reply(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

void ReplyError(const absl::Status& status, httplib::Response& res) {
  Reply(HttpReply{HttpStatusOf(status.code()), ErrorJson(status)}, res);
}

// The methods that `path` has routes for ("" when none).
std::string MethodsFor(const std::string& path) {
  std::string methods;
  size_t count;
  const Route* routes = Routes(&count);
  for (size_t i = 0; i < count; ++i) {
    if (std::regex_match(path, std::regex(routes[i].pattern)) &&
        methods.find(routes[i].method) == std::string::npos) {
      absl::StrAppend(&methods, methods.empty() ? "" : ", ", routes[i].method);
    }
  }
  if (std::regex_match(path, std::regex(EventsPattern())) &&
      methods.find("GET") == std::string::npos) {
    absl::StrAppend(&methods, methods.empty() ? "" : ", ", "GET");
  }
  return methods;
}

// Splits "HOST:PORT" ("[::1]:0" too).
absl::Status SplitListen(const std::string& listen, std::string* host,
                         int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_listen must be HOST:PORT, got \"", listen, "\""));
  }
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

}  // namespace

HttpServer::HttpServer(const HttpApi* api, HttpServerOptions options)
    : api_(api),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddRoutes() {
  for (const DashboardAsset& asset : DashboardAssets()) {
    server_->Get(asset.path, [&asset](const httplib::Request&,
                                      httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      // Everything the page loads comes from the leader itself.
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:");
      res.set_content(asset.body.data(), asset.body.size(),
                      asset.content_type);
    });
  }
  size_t count;
  const Route* routes = Routes(&count);
  for (size_t i = 0; i < count; ++i) {
    const Route route = routes[i];
    httplib::Server::Handler handler = [this, route](
                                           const httplib::Request& req,
                                           httplib::Response& res) {
      Reply((api_->*route.answer)(RequestOf(req)), res);
    };
    if (std::string(route.method) == "GET") {
      server_->Get(route.pattern, std::move(handler));
    } else {
      server_->Post(route.pattern, std::move(handler));
    }
  }
  // httplib refuses a POST without Content-Length (curl -X POST URL sends
  // none) before routing; answer it here, before the body is read, as a
  // request with an empty body (CancelJob reads none).
  server_->set_pre_routing_handler([this, routes, count](
                                       const httplib::Request& req,
                                       httplib::Response& res) {
    if (req.method != "POST" || req.has_header("Content-Length") ||
        req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    for (size_t i = 0; i < count; ++i) {
      std::smatch match;
      if (std::string(routes[i].method) != "POST" ||
          !std::regex_match(req.path, match, std::regex(routes[i].pattern))) {
        continue;
      }
      HttpRequest request = RequestOf(req);
      request.path.clear();
      for (size_t group = 1; group < match.size(); ++group) {
        request.path.push_back(match[group].str());
      }
      Reply((api_->*routes[i].answer)(request), res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_->Get(EventsPattern(), [this](const httplib::Request& req,
                                       httplib::Response& res) {
    HttpRequest request = RequestOf(req);
    if (std::optional<HttpReply> refused = api_->WatchJobStart(request)) {
      Reply(*refused, res);
      return;
    }
    if (open_streams_.fetch_add(1) >= options_.max_event_streams) {
      --open_streams_;
      ReplyError(absl::ResourceExhaustedError(absl::StrCat(
                     "already ", options_.max_event_streams,
                     " event streams open; try again later")),
                 res);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, request = std::move(request)](size_t, httplib::DataSink& sink) {
          absl::Time last_write = absl::Now();
          auto write = [&sink, &last_write](const std::string& frame) {
            last_write = absl::Now();
            return sink.is_writable() && sink.write(frame.data(), frame.size());
          };
          api_->WatchJob(request, write, [&] {
            if (stopping_.load()) return true;
            if (absl::Now() - last_write < kKeepAliveEvery) return false;
            return !write(": keep-alive\n\n");
          });
          sink.done();
          return true;
        },
        [this](bool) { --open_streams_; });
  });
}

absl::Status HttpServer::Start() {
  std::string host;
  if (absl::Status split = SplitListen(options_.listen, &host, &port_);
      !split.ok()) {
    return split;
  }
  AddRoutes();
  const size_t threads = options_.max_event_streams + 16;
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  server_->set_payload_max_length(options_.max_request_bytes);
  server_->set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  const size_t max_bytes = options_.max_request_bytes;
  server_->set_error_handler([max_bytes](const httplib::Request& req,
                                         httplib::Response& res) {
    if (!res.body.empty()) return;  // An answer of HttpApi.
    if (res.status == 413) {
      ReplyError(absl::InvalidArgumentError(absl::StrCat(
                     "the request body is larger than --max_request_bytes (",
                     max_bytes, " bytes)")),
                 res);
    } else if (res.status == 404) {
      const std::string methods = MethodsFor(req.path);
      if (methods.empty()) {
        ReplyError(absl::NotFoundError(absl::StrCat(
                       "no route ", req.method, " ", req.path.substr(0, 256),
                       " (docs/http.md lists the routes)")),
                   res);
      } else {
        const int status_405 = 405;
        ReplyError(absl::InvalidArgumentError(absl::StrCat(
                       req.method, " is not allowed on ",
                       req.path.substr(0, 256), "; use ", methods)),
                   res);
        res.status = status_405;
        res.set_header("Allow", methods);
      }
    } else {
      ReplyError(absl::InvalidArgumentError(absl::StrCat(
                     "malformed HTTP request (HTTP status ", res.status, ")")),
                 res);
    }
  });
  server_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res,
         std::exception_ptr) {
        LOG(ERROR) << "HTTP " << req.method << " " << req.path
                   << ": the handler threw";
        ReplyError(absl::InternalError("the handler failed"), res);
      });
  if (port_ == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) port_ = 0;
  } else if (!server_->bind_to_port(host, port_)) {
    port_ = 0;
  }
  if (port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--http_listen: cannot listen on ", options_.listen));
  }
  listener_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!listener_.joinable()) return;
  stopping_ = true;
  server_->stop();
  listener_.join();
}

}  // namespace quarry
