#ifndef QUARRY_LEADER_HISTORY_PG_CONNECTION_H_
#define QUARRY_LEADER_HISTORY_PG_CONNECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct pg_conn;

namespace quarry {

// One blocking connection to PostgreSQL (libpq) with a deadline on
// connecting and on every statement. After a connection-level error, ok()
// is false and the connection must be discarded. Not thread-safe.
class PgConnection {
 public:
  using Value = std::optional<std::string>;  // nullopt is SQL NULL.
  using Row = std::vector<Value>;

  // `url`: postgresql://USER@HOST:PORT/DB (any libpq connection URI).
  // UNAVAILABLE when the server cannot be reached within `timeout`.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const std::string& url, absl::Duration timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with text parameters ($1, $2, ...), or a script of
  // statements when there are no parameters; returns the (last
  // statement's) rows as text values. INTERNAL with the server's message for an SQL
  // error; UNAVAILABLE when the connection is lost.
  absl::StatusOr<std::vector<Row>> Exec(const std::string& sql,
                                        const std::vector<Value>& params = {});

  bool ok() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HISTORY_PG_CONNECTION_H_
