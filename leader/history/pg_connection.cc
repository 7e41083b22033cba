#include "leader/history/pg_connection.h"

#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace quarry {

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& url, absl::Duration timeout) {
  const std::string seconds =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(timeout)));
  const std::string options = absl::StrCat(
      "-c statement_timeout=", absl::ToInt64Milliseconds(timeout));
  const char* keywords[] = {"dbname", "connect_timeout", "options", nullptr};
  const char* values[] = {url.c_str(), seconds.c_str(), options.c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate a libpq connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL: ", error));
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

absl::StatusOr<std::vector<PgConnection::Row>> PgConnection::Exec(
    const std::string& sql, const std::vector<Value>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Value& param : params) {
    values.push_back(param.has_value() ? param->c_str() : nullptr);
  }
  // Without parameters, a script of several statements may run at once.
  PGresult* result =
      params.empty()
          ? PQexec(conn_, sql.c_str())
          : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                         nullptr, values.data(), nullptr, nullptr, /*text=*/0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string error(
        absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_)));
    PQclear(result);
    if (!ok()) {
      return absl::UnavailableError(
          absl::StrCat("lost the PostgreSQL connection: ", error));
    }
    return absl::InternalError(absl::StrCat("PostgreSQL: ", error));
  }
  std::vector<Row> rows(PQntuples(result));
  const int columns = PQnfields(result);
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    rows[r].reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) {
        rows[r].emplace_back(std::nullopt);
      } else {
        rows[r].emplace_back(std::string(PQgetvalue(result, r, c),
                                         PQgetlength(result, r, c)));
      }
    }
  }
  PQclear(result);
  return rows;
}

}  // namespace quarry
