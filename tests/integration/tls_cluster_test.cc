// TLS end to end: certificates from sbin/dev-certs, a real leader serving
// TLS and requiring client certificates, three real workers serving TLS to
// the leader only (mutual TLS both ways), and the real CLI.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;

class TlsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = certs_dir_.path() + "/certs";
    std::string output;
    absl::StatusOr<int> made = RunCommand(
        {QUARRY_SOURCE_DIR "/sbin/dev-certs", certs_}, &output);
    ASSERT_TRUE(made.ok() && *made == 0) << output;

    grpc::SslCredentialsOptions client;
    client.pem_root_certs = ReadFile(Cert("ca.pem"));
    client.pem_cert_chain = ReadFile(Cert("client.pem"));
    client.pem_private_key = ReadFile(Cert("client.key"));
    auto cluster = LocalCluster::Start(
        {"--tls_cert=" + Cert("leader.pem"), "--tls_key=" + Cert("leader.key"),
         "--tls_client_ca=" + Cert("callers-ca.pem"),
         "--tls_ca=" + Cert("ca.pem")},
        grpc::SslCredentials(client));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    for (const char* id : {"w1", "w2", "w3"}) {
      ASSERT_TRUE(cluster_
                      ->StartWorker(id, 2,
                                    {"--tls_cert=" + Cert("worker.pem"),
                                     "--tls_key=" + Cert("worker.key"),
                                     "--tls_ca=" + Cert("ca.pem"),
                                     "--tls_client_ca=" + Cert("ca.pem")})
                      .ok());
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(3).ok()) << cluster_->LogTails();
  }
  void TearDown() override {
    if (cluster_ != nullptr) EXPECT_TRUE(cluster_->Shutdown().ok());
  }

  std::string Cert(const std::string& name) const {
    return certs_ + "/" + name;
  }

  // The CLI with the leader's address and `tls` options before `args`.
  absl::StatusOr<int> Quarry(const std::vector<std::string>& tls,
                             const std::vector<std::string>& args,
                             std::string* output) {
    std::vector<std::string> argv = {
        CliBinary(), "--leader=" + cluster_->leader_address(), "--timeout=3"};
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, output);
  }

  std::vector<std::string> ClientTls() const {
    return {"--tls-ca", Cert("ca.pem"), "--tls-cert", Cert("client.pem"),
            "--tls-key", Cert("client.key")};
  }

  TempDir certs_dir_;
  std::string certs_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(TlsClusterTest, TheWholeClusterRunsAJobOverMutualTls) {
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteCorpus(in, 12);
  std::string output;
  absl::StatusOr<int> code =
      Quarry(ClientTls(),
             {"submit", "--kind", "wordcount", "--input", in, "--output",
              cluster_->dir() + "/out", "--wait"},
             &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << output << cluster_->LogTails();
  EXPECT_EQ(ReadFile(cluster_->dir() + "/out/result.tsv"),
            ReferenceWordCount(files));
  // The workers serve TLS only and require the cluster CA's certificates
  // (AUsersCertificateCannotCallAWorker): every task reached them from the
  // leader over mutual TLS.
  // The same options from the environment.
  code = RunCommand({"/usr/bin/env", "QUARRY_TLS_CA=" + Cert("ca.pem"),
                     "QUARRY_TLS_CERT=" + Cert("client.pem"),
                     "QUARRY_TLS_KEY=" + Cert("client.key"), CliBinary(),
                     "--leader=" + cluster_->leader_address(), "cluster"},
                    &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << output;
}

TEST_F(TlsClusterTest, ClientsWithoutTheRightCredentialsCannotConnect) {
  std::string output;
  // Plaintext to a TLS leader: unreachable, with a hint at --tls-ca.
  absl::StatusOr<int> code = Quarry({}, {"cluster"}, &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 4) << output;
  EXPECT_THAT(output, HasSubstr("--tls-ca"));
  // TLS but trusting another CA (the client CA did not sign the leader).
  code = Quarry({"--tls-ca", Cert("client-ca.pem"), "--tls-cert",
                 Cert("client.pem"), "--tls-key", Cert("client.key")},
                {"cluster"}, &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 4) << output;
  EXPECT_THAT(output, HasSubstr("--tls-ca"));
  // The right CA but no client certificate: the leader requires one.
  code = Quarry({"--tls-ca", Cert("ca.pem")}, {"cluster"}, &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 4) << output;
  EXPECT_THAT(output, HasSubstr("--tls-cert"));
  // A key that does not match its certificate is refused before dialing.
  code = Quarry({"--tls-ca", Cert("ca.pem"), "--tls-cert", Cert("client.pem"),
                 "--tls-key", Cert("worker.key")},
                {"cluster"}, &output);
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(output, HasSubstr("--tls-key"));
  EXPECT_THAT(output, HasSubstr("does not match"));
}

TEST_F(TlsClusterTest, AUsersCertificateCannotCallAWorker) {
  absl::StatusOr<quarry::v1::GetClusterResponse> view = cluster_->GetCluster();
  ASSERT_TRUE(view.ok());
  ASSERT_GT(view->workers_size(), 0);
  // A user's certificate (client CA) is not one the workers accept.
  grpc::SslCredentialsOptions user;
  user.pem_root_certs = ReadFile(Cert("ca.pem"));
  user.pem_cert_chain = ReadFile(Cert("client.pem"));
  user.pem_private_key = ReadFile(Cert("client.key"));
  for (const auto& credentials :
       {grpc::SslCredentials(user), grpc::InsecureChannelCredentials()}) {
    auto worker = quarry::v1::WorkerService::NewStub(
        grpc::CreateChannel(view->workers(0).address(), credentials));
    quarry::v1::StartTasksRequest request;
    quarry::v1::StartTasksResponse response;
    const grpc::Status status = worker->StartTasks(
        ContextWithDeadline(absl::Seconds(3)).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
  }
}

TEST(TlsFlagsTest, TheLeaderRefusesBadTlsFlagsNamingThem) {
  TempDir dir;
  std::string output;
  ASSERT_EQ(*RunCommand({QUARRY_SOURCE_DIR "/sbin/dev-certs", dir.path()},
                        &output),
            0)
      << output;
  const std::string leader_pem = dir.path() + "/leader.pem";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls_cert=" + leader_pem}, "--tls_cert and --tls_key go together"},
      {{"--tls_client_ca=" + dir.path() + "/ca.pem"}, "--tls_client_ca needs"},
      {{"--tls_cert=" + leader_pem, "--tls_key=" + dir.path() + "/worker.key"},
       "does not match"},
      {{"--tls_ca=" + dir.path() + "/missing.pem"}, "--tls_ca"},
      {{"--tls_cert=" + dir.path() + "/leader.key",
        "--tls_key=" + dir.path() + "/leader.key"},
       "holds no PEM certificate"},
      {{"--tls_cert=" + leader_pem, "--tls_key=" + dir.path() + "/open.key"},
       "readable by others"},
  };
  WriteFile(dir.path() + "/open.key", ReadFile(dir.path() + "/leader.key"));
  chmod((dir.path() + "/open.key").c_str(), 0644);
  for (const auto& [flags, expected] : cases) {
    std::vector<std::string> argv = {LeaderBinary(), "--listen=127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<int> code = RunCommand(argv, &output, absl::Seconds(20));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 2) << output;
    EXPECT_THAT(output, HasSubstr(expected));
    EXPECT_THAT(output, ::testing::Not(HasSubstr("PRIVATE KEY")));
  }
}

}  // namespace
}  // namespace quarry::testing
